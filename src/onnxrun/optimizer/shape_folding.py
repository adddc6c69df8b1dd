"""Shape and Size of values whose shape is fully known become constants (level 1); constant
folding then folds the Gather/Unsqueeze/Concat chains built on them."""

from __future__ import annotations

import numpy as np

from ..ir.graph import Graph
from ..ir.types import TensorType
from ._pattern import is_op

NAME = "ShapeFolding"
LEVEL = 1
ORDER = 15


def _static_shape(v):
    t = v.type if v is not None else None
    if not isinstance(t, TensorType) or t.shape is None:
        return None
    if not all(isinstance(d, int) and d >= 0 for d in t.shape):
        return None
    return list(t.shape)


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for node in list(graph.nodes):
        if not is_op(node, "Shape", "Size") or node.outputs[0] is None:
            continue
        shape = _static_shape(node.inputs[0])
        if shape is None:
            continue
        if node.op_type == "Size":
            value = np.array(int(np.prod(shape, dtype=object)), dtype=np.int64)
        else:
            rank = len(shape)
            start = node.attrs.get("start", 0)
            end = node.attrs.get("end", rank)
            start = min(max(start + rank if start < 0 else start, 0), rank)
            end = min(max(end + rank if end < 0 else end, 0), rank)
            value = np.array(shape[start:end], dtype=np.int64)
        out = node.outputs[0]
        graph.remove_node(node)
        out.const = value
        out.producer = None
        changed = True
    return changed
