"""Conv followed by inference BatchNormalization: fold the normalization into the
convolution's weights and bias (level 1)."""

from __future__ import annotations

import numpy as np

from ..ir.graph import Graph
from ._pattern import absorb_consumer, inference_bn_params, is_op, only_consumer, set_conv_params

NAME = "ConvBNFusion"
LEVEL = 1
ORDER = 30


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for conv in list(graph.nodes):
        if not is_op(conv, "Conv"):  # the pass removes only BNs
            continue
        W = conv.inputs[1].const if len(conv.inputs) > 1 and conv.inputs[1] is not None else None
        B = conv.inputs[2] if len(conv.inputs) > 2 else None
        if W is None or W.dtype.kind != "f" or (B is not None and B.const is None):
            continue
        bn = only_consumer(graph, conv.outputs[0], "BatchNormalization")
        params = inference_bn_params(graph, bn) if bn is not None else None
        if params is None or params[0].shape != (W.shape[0],):
            continue
        scale, beta, mean, var = (p.astype(np.float64) for p in params)
        eps = float(bn.attrs.get("epsilon", 1e-5))
        s = scale / np.sqrt(var + eps)
        shape = (-1,) + (1,) * (W.ndim - 1)
        if W.dtype in (np.float32, np.float64):
            # factors in float64, float32 weights scaled in float32: one rounding more than
            # scaling in float64, without two full-size conversions
            w_new = W * s.astype(W.dtype).reshape(shape)
        else:  # 16-bit floats: a factor rounded to 16 bits would cost accuracy
            w_new = (W.astype(np.float64) * s.reshape(shape)).astype(W.dtype)
        b_old = B.const.astype(np.float64) if B is not None else np.zeros(W.shape[0])
        b_new = ((b_old - mean) * s + beta).astype(W.dtype)
        set_conv_params(graph, conv, w_new, b_new, "_bn")
        absorb_consumer(graph, conv, bn)
        changed = True
    return changed
