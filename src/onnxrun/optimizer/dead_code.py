"""Remove nodes none of whose outputs is read or returned (level 1)."""

from __future__ import annotations

from ..framework.resolver import get_schema
from ..ir.graph import Graph

NAME = "EliminateDeadNodes"
LEVEL = 1
ORDER = 90


def _used(v, graph: Graph) -> bool:
    return v is not None and (bool(v.uses) or graph.is_graph_output(v))


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for node in reversed(list(graph.nodes)):
        if any(_used(v, graph) for v in node.outputs):
            continue
        schema = get_schema(node.op_type, graph.opsets.get(node.domain, 1), node.domain)
        if schema is None:  # custom ops may have effects we cannot see
            continue
        graph.remove_node(node)
        for v in node.outputs:
            if v is not None and graph.values.get(v.name) is v:
                del graph.values[v.name]
        changed = True
    return changed
