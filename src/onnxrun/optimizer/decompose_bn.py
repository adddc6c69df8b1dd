"""Inference BatchNormalization that no convolution absorbed -> Mul + Add of its folded
per-channel constants (level 2), so that the elementwise-chain fusion can merge it with what
follows (typically Relu): one buffer and three passes instead of two kernels.

The constants are computed as the BatchNormalization kernel computes them (``fold`` in the
input's dtype), and the kernel also runs ``x * a + b``, so the numbers are identical.
"""

from __future__ import annotations

import numpy as np

from ..ir.graph import Graph, Node, Value
from ..ir.types import TensorType
from ..kernels.nn.batchnorm import fold
from ._pattern import claimed_by_cpu, const_value, inference_bn_params, is_op

NAME = "BatchNormDecomposition"
LEVEL = 2
ORDER = 90
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for bn in list(graph.nodes):
        if not is_op(bn, "BatchNormalization"):
            continue
        params = inference_bn_params(graph, bn)
        if params is None:
            continue
        t = bn.inputs[0].type
        if not isinstance(t, TensorType) or t.shape is None or len(t.shape) < 2:
            continue
        dt = t.dtype
        if dt not in _FLOATS or not claimed_by_cpu(ctx, graph, bn):
            continue
        scale, B, mean, var = params
        if t.shape[1] != scale.shape[0]:  # unknown or mismatched channels: the kernel checks
            continue
        a, b = fold(scale, B, mean, var, float(bn.attrs.get("epsilon", 1e-5)), dt)
        shape = (a.shape[0],) + (1,) * (len(t.shape) - 2)
        av = const_value(graph, (bn.name or "bn") + "_mul", a.reshape(shape).astype(dt))
        bv = const_value(graph, (bn.name or "bn") + "_add", b.reshape(shape).astype(dt))
        mid = graph.add_value(Value(graph.unique_name((bn.name or "bn") + "_scaled"), t))
        mul = Node("Mul", [bn.inputs[0], av], [mid], name=(bn.name or "bn") + "_mul")
        add = Node("Add", [mid, bv], [bn.outputs[0]], name=bn.name or "bn_add")
        for n in (mul, add):
            n.since_version = 14
        index = graph.nodes.index(bn)
        graph.remove_node(bn)
        for v in bn.outputs[1:]:  # declared statistics outputs nobody reads
            if v is not None and graph.values.get(v.name) is v:
                del graph.values[v.name]
        graph.add_node(add, index)
        graph.add_node(mul, index)
        changed = True
    return changed
