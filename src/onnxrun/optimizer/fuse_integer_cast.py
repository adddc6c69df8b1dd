"""MatMulInteger -> Cast(to=FLOAT) and ConvInteger -> Cast(to=FLOAT) -> one com.onnxrun
MatMulIntegerFloat / ConvIntegerFloat node (level 2).

Dynamically quantized models (``quantize_dynamic``) turn every int32 accumulator into float32
right away to scale it. onnxrun computes the accumulator as an exact float32 GEMM or conv
(kernels/quant/_float_exact.py), so the fused kernels hand that float32 result on directly,
where the pair would convert it to int32 and back: the same values (float32 of the int32
accumulator, rounded once where it is past 2**24), two passes fewer.
"""

from __future__ import annotations

from onnx import TensorProto

from ..ir.graph import Graph
from ._pattern import claimed_by_cpu, only_consumer
from ._qdq import claimed_by_ours, fuse_pair

NAME = "IntegerCastFusion"
LEVEL = 2
ORDER = 38
DOMAIN = "com.onnxrun"
FUSED = {"MatMulInteger": "MatMulIntegerFloat", "ConvInteger": "ConvIntegerFloat"}


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for node in list(graph.nodes):
        if node.domain != "" or node.op_type not in FUSED or node not in graph.nodes:
            continue
        cast = only_consumer(graph, node.outputs[0], "Cast")
        if cast is None or cast.attrs.get("to") != TensorProto.FLOAT:
            continue
        if not claimed_by_ours(ctx, graph, node) or not claimed_by_cpu(ctx, graph, cast):
            continue
        fuse_pair(graph, node, cast, FUSED[node.op_type], node.inputs)
        changed = True
    return changed
