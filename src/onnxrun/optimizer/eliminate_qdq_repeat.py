"""A QuantizeDequantize that repeats the one before it, across data movement only, is removed
(level 2).

QDQ models quantize the output of every Reshape and Transpose with the parameters of its input,
so after the QDQ fusion (fuse_qdq.py) such a tensor is rounded to the same grid twice. The
second rounding changes nothing: its input values are exactly ``m * s`` for integers ``m`` of
at most 16 bits (rounded once to float32), ``m * s / s`` is within ``|m| * 2**-23 < 1/2`` of
``m``, so it rounds back to ``m``, and the same zero point and scale give the same float32
value (+0 for m = 0, like the first). That needs a node whose quantize and dequantize
parameters are equal (scale ``s``, zero point ``z``) and a scale far from float32's limits
(normal products, no overflow), both checked here. In between, only ops that move or select
values without changing them are allowed (``MOVES``).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from ..ir.graph import Graph, Node

NAME = "RepeatedQDQElimination"
LEVEL = 2
ORDER = 37
DOMAIN = "com.onnxrun"

#: ops whose output values are some of their first input's values, unchanged
MOVES = ("Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Identity")


def _grid(node: Node) -> Optional[tuple]:
    """(scale, zero point, type) of a QuantizeDequantize that maps its grid onto itself, else
    None."""
    if node is None or node.op_type != "QuantizeDequantize" or node.domain != DOMAIN:
        return None
    qs, qz, ds, dz = (v.const if v is not None else None for v in node.inputs[1:5])
    if qs is None or ds is None:
        return None
    s, z = float(qs.reshape(-1)[0]), 0 if qz is None else int(qz.reshape(-1)[0])
    if float(ds.reshape(-1)[0]) != s or (0 if dz is None else int(dz.reshape(-1)[0])) != z:
        return None
    if not (2.0 ** -100 <= abs(s) <= 2.0 ** 100):
        return None
    return np.float32(s), z, node.attrs.get("to", 2)


def _source(graph: Graph, node: Node) -> Optional[Node]:
    """The node before ``node`` across MOVES ops (which must read their data input from it)."""
    v = node.inputs[0]
    while v is not None and v.producer is not None:
        p = v.producer
        if p.domain == "" and p.op_type in MOVES:
            v = p.inputs[0] if p.inputs else None
            continue
        return p
    return None


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for node in list(graph.nodes):
        grid = _grid(node)
        out = node.outputs[0]
        if grid is None or graph.is_graph_output(out) or any(i < 0 for _, i in out.uses):
            continue  # (a subgraph reading it by name)
        if _grid(_source(graph, node)) != grid:
            continue
        x = node.inputs[0]
        graph.remove_node(node)
        graph.replace_all_uses(out, x)
        if graph.values.get(out.name) is out:
            del graph.values[out.name]
        changed = True
    return changed
