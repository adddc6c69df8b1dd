"""Cast to the type its input already has is a no-op: removed (level 1)."""

from __future__ import annotations

from ..ir.graph import Graph
from ..ir.types import TensorType
from ._pattern import is_op

NAME = "EliminateNoOpCast"
LEVEL = 1
ORDER = 12


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for node in list(graph.nodes):
        if not is_op(node, "Cast"):
            continue
        src, out = node.inputs[0], node.outputs[0]
        t = src.type if src is not None else None
        if not isinstance(t, TensorType) or t.elem != node.attrs.get("to") or out is None:
            continue
        if graph.is_graph_output(out) or any(i < 0 for _, i in out.uses):
            continue
        graph.remove_node(node)
        graph.replace_all_uses(out, src)
        changed = True
    return changed
