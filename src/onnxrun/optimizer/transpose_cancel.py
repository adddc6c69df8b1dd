"""Transpose followed by Transpose: compose the permutations; drop them when they cancel
(level 1)."""

from __future__ import annotations

from ..ir.graph import Graph
from ._pattern import is_op, only_consumer

NAME = "TransposeCancellation"
LEVEL = 1
ORDER = 40


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for first in list(graph.nodes):
        if not is_op(first, "Transpose") or first not in graph.nodes:
            continue
        second = only_consumer(graph, first.outputs[0], "Transpose")
        p1, p2 = first.attrs.get("perm"), second.attrs.get("perm") if second else None
        if second is None or p1 is None or p2 is None or len(p1) != len(p2):
            continue
        composed = [p1[i] for i in p2]
        x, out = first.inputs[0], second.outputs[0]
        if composed == list(range(len(composed))) and not graph.is_graph_output(out):
            graph.remove_node(second)
            graph.remove_node(first)
            graph.replace_all_uses(out, x)
        else:
            second.attrs["perm"] = composed
            graph.replace_input(second, 0, x)
            graph.remove_node(first)
        changed = True
    return changed
