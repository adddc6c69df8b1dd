"""QLinearConv -> ByteLookup of its codes -> one com.onnxrun QLinearConvLookup (level 2).

QOperator models put an activation between their QLinearConvs (``QLinearConv -> DQ ->
HardSwish -> Q``), which the lookup fusion (fuse_quant_lookup.py) turns into a table of the
conv's codes; here the conv takes the table over, looking codes up as it requantizes
(kernels/quant/qlinear_conv_lookup.py) instead of storing them for another pass. ONNX and
com.microsoft QLinearConvs (channels_last included) with an 8-bit ByteLookup as their only
reader.
"""

from __future__ import annotations

from ..ir.graph import Graph
from ._pattern import claimed_by_cpu, only_consumer
from ._qdq import claimed_by_ours, fuse_pair

NAME = "ConvLookupFusion"
LEVEL = 2
ORDER = 39
DOMAIN = "com.onnxrun"


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for conv in list(graph.nodes):
        if conv.op_type != "QLinearConv" or conv.domain not in ("", "com.microsoft") or \
                conv not in graph.nodes or len(conv.inputs) < 8:
            continue
        look = only_consumer(graph, conv.outputs[0], "ByteLookup", DOMAIN)
        if look is None or len(look.inputs) != 2 or look.inputs[0] is not conv.outputs[0]:
            continue
        if not claimed_by_ours(ctx, graph, conv) or not claimed_by_cpu(ctx, graph, look):
            continue
        inputs = list(conv.inputs) + [None] * (9 - len(conv.inputs)) + [look.inputs[1]]
        fuse_pair(graph, conv, look, "QLinearConvLookup", inputs)
        changed = True
    return changed
