"""QuantizeLinear -> DequantizeLinear on float32 values -> one com.onnxrun QuantizeDequantize
(level 2).

A QDQ model quantizes and dequantizes every activation; onnxrun runs the float ops between the
pairs, so each pair is only a rounding of float32 values to the quantization grid. The fused
kernel (kernels/quant/quantize_dequantize.py) computes it in float32 without the 8-bit
round trip, with the same bits. A QuantizeLinear whose every reader is such a
DequantizeLinear (and that is no graph output) is replaced by one fused node per reader;
parameters must be constant and per tensor (``_qdq``). A pair on a constant is folded.

Runs after the lookup-table fusion (fuse_quant_lookup.py), which takes the pairs around
elementwise activations whole.
"""

from __future__ import annotations

import numpy as np
from onnx import helper

from ..ir.graph import Graph, Node
from ..kernels.quant import _blocked
from ._qdq import dequantize_step, quantize_step

NAME = "QDQFusion"
LEVEL = 2
ORDER = 36
DOMAIN = "com.onnxrun"


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for q in list(graph.nodes):
        qs = quantize_step(graph, q, ctx)
        if qs is None or q not in graph.nodes or graph.is_graph_output(q.outputs[0]):
            continue
        readers = q.outputs[0].uses
        steps = [dequantize_step(graph, n, qs.dtype, ctx) if i == 0 else None
                 for n, i in readers]
        if not readers or any(s is None for s in steps) or \
                any(n.outputs[0] is None for n, _ in readers):
            continue
        x = q.inputs[0]
        index = graph.nodes.index(q)
        for (dq, _), ds in zip(list(readers), steps):
            graph.remove_node(dq)
            out = dq.outputs[0]
            if x.const is not None:
                out.const = np.empty(x.const.shape, np.float32)
                _blocked.quantize_dequantize(x.const, qs.params(), ds.params(), out.const, None)
                continue
            node = Node("QuantizeDequantize", [x, qs.scale, qs.zero, ds.scale, ds.zero], [out],
                        {"to": helper.np_dtype_to_tensor_dtype(qs.dtype)},
                        name=dq.name or q.name, domain=DOMAIN)
            node.since_version = 1
            node.origin = f"QuantizeLinear({q.name}) > DequantizeLinear({dq.name})"
            graph.add_node(node, index)
        graph.remove_node(q)
        if graph.values.get(q.outputs[0].name) is q.outputs[0]:
            del graph.values[q.outputs[0].name]
        changed = True
    return changed

