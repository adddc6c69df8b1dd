"""Conv followed by inference BatchNormalization: fold the normalization into the
convolution's weights and bias (level 1)."""

from __future__ import annotations

import numpy as np

from ..ir.graph import Graph
from ._pattern import const_value, is_op, only_consumer

NAME = "ConvBNFusion"
LEVEL = 1
ORDER = 30


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for conv in list(graph.nodes):
        if not is_op(conv, "Conv") or conv not in graph.nodes:
            continue
        W = conv.inputs[1].const if len(conv.inputs) > 1 and conv.inputs[1] is not None else None
        B = conv.inputs[2] if len(conv.inputs) > 2 else None
        if W is None or W.dtype.kind != "f" or (B is not None and B.const is None):
            continue
        bn = only_consumer(graph, conv.outputs[0], "BatchNormalization")
        if bn is None or any(v is not None and (v.uses or graph.is_graph_output(v))
                             for v in bn.outputs[1:]):
            continue
        if bn.attrs.get("training_mode", 0) or bn.attrs.get("spatial", 1) == 0:
            continue
        if bn.attrs.get("is_test", 1) == 0 and bn.since_version and bn.since_version < 7:
            continue
        params = [v.const if v is not None else None for v in bn.inputs[1:5]]
        if any(p is None for p in params) or any(p.shape != (W.shape[0],) for p in params):
            continue
        scale, beta, mean, var = (p.astype(np.float64) for p in params)
        eps = float(bn.attrs.get("epsilon", 1e-5))
        s = scale / np.sqrt(var + eps)
        w_new = (W.astype(np.float64) * s.reshape((-1,) + (1,) * (W.ndim - 1))).astype(W.dtype)
        b_old = B.const.astype(np.float64) if B is not None else np.zeros(W.shape[0])
        b_new = ((b_old - mean) * s + beta).astype(W.dtype)
        graph.replace_input(conv, 1, const_value(graph, conv.inputs[1].name + "_bn", w_new))
        bias = const_value(graph, (conv.name or "conv") + "_bn_bias", b_new)
        if len(conv.inputs) > 2:
            graph.replace_input(conv, 2, bias)
        else:
            conv.inputs.append(bias)
            bias.uses.append((conv, 2))
        old = conv.outputs[0]
        conv.outputs[0] = bn.outputs[0]
        graph.remove_node(bn)
        bn.outputs[0].producer = conv
        if graph.values.get(old.name) is old:
            del graph.values[old.name]
        changed = True
    return changed
