"""Checks shared by the quantization fusions: which QuantizeLinear and DequantizeLinear nodes
are per-tensor steps with constant parameters that onnxrun's blocked kernels compute
(``kernels/quant/_blocked.py``), and the element type of a value."""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np
from onnx import TensorProto

from ..ir.graph import Graph, Node, Value
from ..ir.types import DTYPE_TO_ELEM, ELEM_TO_DTYPE, TensorType
from ..kernels.quant import _blocked
from ._pattern import claimed_by_cpu, replace_chain

DOMAINS = ("", "com.microsoft")
F32 = np.dtype(np.float32)


def elem(v: Optional[Value]) -> Optional[int]:
    """ONNX element type of ``v`` where known."""
    if v is None:
        return None
    if v.const is not None:
        return DTYPE_TO_ELEM.get(v.const.dtype)
    return v.type.elem if isinstance(v.type, TensorType) else None


class Step(NamedTuple):
    """A quantization node's scale and zero-point values and its integer type."""

    scale: Value
    zero: Optional[Value]
    dtype: np.dtype

    def params(self) -> _blocked.Params:
        """The constants as the blocked kernels take them."""
        zero = None if self.zero is None else self.zero.const
        return _blocked.per_tensor(self.scale.const, zero, self.dtype)


def _input(node: Node, i: int) -> Optional[Value]:
    return node.inputs[i] if len(node.inputs) > i else None


def _step(graph: Graph, node: Node, dtype, ctx) -> Optional[Step]:
    scale, zero = _input(node, 1), _input(node, 2)
    if scale is None or len(node.inputs) > 3 or int(node.attrs.get("block_size", 0)):
        return None
    consts = (scale.const, None if zero is None else zero.const)
    if consts[0] is None or (zero is not None and consts[1] is None):
        return None
    if _blocked.per_tensor(consts[0], consts[1], dtype) is None:
        return None
    if (np.dtype(dtype).itemsize > 1 and graph.opsets.get("", 1) < 21) or \
            not claimed_by_cpu(ctx, graph, node):
        return None  # (16-bit types: the saved model's plain QuantizeLinear needs opset 21)
    return Step(scale, zero, np.dtype(dtype))


def quantize_step(graph: Graph, node: Optional[Node], ctx) -> Optional[Step]:
    """The Step of a QuantizeLinear of float32 values that the blocked kernels compute."""
    if node is None or node.op_type != "QuantizeLinear" or node.domain not in DOMAINS:
        return None
    if elem(_input(node, 0)) != TensorProto.FLOAT or node.attrs.get("precision", 1) != 1:
        return None
    zero, out = _input(node, 2), node.attrs.get("output_dtype", 0)
    if zero is None:
        dtype = ELEM_TO_DTYPE.get(out) if out else np.dtype(np.uint8)
    elif zero.const is None or (out and DTYPE_TO_ELEM.get(zero.const.dtype) != out):
        return None
    else:
        dtype = zero.const.dtype
    return None if dtype is None else _step(graph, node, dtype, ctx)


def dequantize_step(graph: Graph, node: Optional[Node], dtype, ctx) -> Optional[Step]:
    """The Step of a DequantizeLinear of ``dtype`` codes to float32 that the blocked kernels
    compute."""
    if node is None or node.op_type != "DequantizeLinear" or node.domain not in DOMAINS:
        return None
    if node.attrs.get("output_dtype", 1) != 1:
        return None
    return _step(graph, node, dtype, ctx)


#: providers with kernels for the com.onnxrun integer-conv fusions (the Numba provider's take
#: ConvIntegerFloat and QLinearConvLookup where they take ConvInteger and QLinearConv)
OURS = ("CPUExecutionProvider", "NumbaExecutionProvider")


def claimed_by_ours(ctx, graph: Graph, node: Node) -> bool:
    """Whether the partitioner will give ``node`` to one of ``OURS``."""
    for p in getattr(ctx, "providers", ()):
        if p.name == "CPUExecutionProvider" or \
                p.get_capability(node, lambda n: ctx.info_for(n, graph)) is not None:
            return p.name in OURS
    return True


def fuse_pair(graph: Graph, node: Node, reader: Node, op: str, inputs) -> None:
    """Replace ``node`` and its only ``reader`` by one com.onnxrun ``op`` node with
    ``node``'s attributes, the given inputs and ``reader``'s outputs."""
    fused = Node(op, list(inputs), reader.outputs, dict(node.attrs), name=node.name or reader.name,
                 domain="com.onnxrun")
    fused.since_version = 1
    fused.origin = f"{node.op_type}({node.name}) > {reader.origin or reader.name}"
    replace_chain(graph, node, [node, reader], fused)
