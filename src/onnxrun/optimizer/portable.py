"""Function bodies for onnxrun's own fused ops, so a saved optimized model is plain ONNX.

The optimizer fuses nodes into ops of the ``com.onnxrun`` domain (FusedConv, FusedMatMul,
ElementwiseChain, Gelu) that only onnxrun has kernels for. When such a graph is saved
(``SessionOptions.optimized_model_filepath``, ``onnxrun optimize``), every com.onnxrun node gets
its own model-local function (ONNX IR 10 function ``overload``s: one per node, since the body
depends on the node's attributes and value types) whose body is the unfused computation in
standard ONNX ops. onnxrun reloads such a file with its fused kernels (a kernel wins over a
function); onnxruntime and other ONNX tools inline the bodies and run the same computation.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import onnx
from onnx import TensorProto, helper

from ..ir.types import ELEM_TO_DTYPE

DOMAIN = "com.onnxrun"
#: IR version that introduced function overloads
OVERLOAD_IR_VERSION = 10


class _Body:
    """Nodes of one function body being built; values are named ``t0, t1, ...``."""

    def __init__(self, elem: int, opset: int) -> None:
        self.nodes: List[onnx.NodeProto] = []
        self.elem = elem
        self.opset = opset
        self._n = 0

    def fresh(self) -> str:
        self._n += 1
        return f"t{self._n}"

    def op(self, op_type: str, inputs: List[str], out: Optional[str] = None, **attrs) -> str:
        out = out or self.fresh()
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def const(self, value: float) -> str:
        """A scalar constant of the body's element type."""
        arr = np.asarray(value, dtype=ELEM_TO_DTYPE.get(self.elem, np.float32))
        t = onnx.numpy_helper.from_array(arr)
        return self.op("Constant", [], value=t)


def _activation(b: _Body, x: str, name: str, params, out: str) -> str:
    """Apply fused activation ``name`` (see kernels/fused/_activation.py) to ``x``."""
    if name == "Clip":
        lo, hi = params
        if b.opset < 11:
            return b.op("Clip", [x], out, min=float(lo), max=float(hi))
        lo_in = b.const(lo) if np.isfinite(lo) else ""
        hi_in = b.const(hi) if np.isfinite(hi) else ""
        return b.op("Clip", [x, lo_in, hi_in], out)
    if name == "HardSigmoid":
        return b.op(name, [x], out, alpha=float(params[0]), beta=float(params[1]))
    if name == "LeakyRelu":
        return b.op(name, [x], out, alpha=float(params[0]))
    return b.op(name, [x], out)  # Relu, Sigmoid, Tanh, HardSwish


def _attrs(node: onnx.NodeProto) -> dict:
    """The node's attributes as Python values, strings decoded."""
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, list) and v and isinstance(v[0], bytes):
            v = [x.decode() for x in v]
        out[a.name] = v
    return out


def _fused_conv(b: _Body, node: onnx.NodeProto, ins: List[str], out: str) -> None:
    attrs = _attrs(node)
    act, params = attrs.pop("activation"), attrs.pop("activation_params", [])
    y = b.op("Conv", ins, **attrs)
    _activation(b, y, act, params, out)


def _fused_matmul(b: _Body, node: onnx.NodeProto, ins: List[str], out: str) -> None:
    attrs = _attrs(node)
    act = attrs.get("activation", "")
    y = b.op("MatMul", ins[:2], None if (act or len(ins) > 2) else out)
    if len(ins) > 2 and ins[2]:
        y = b.op("Add", [y, ins[2]], None if act else out)
    if act:
        _activation(b, y, act, attrs.get("activation_params", []), out)


def _gelu(b: _Body, node: onnx.NodeProto, ins: List[str], out: str) -> None:
    x = ins[0]
    y = b.op("Div", [x, b.const(np.sqrt(2.0))])
    y = b.op("Erf", [y])
    y = b.op("Add", [y, b.const(1.0)])
    y = b.op("Mul", [x, y])
    b.op("Mul", [y, b.const(0.5)], out)


def _elementwise_chain(b: _Body, node: onnx.NodeProto, ins: List[str], out: str) -> None:
    attrs = _attrs(node)
    ops = attrs["ops"]
    acc = ins[0]
    for k, (op, j, sw) in enumerate(zip(ops, attrs["operand"], attrs["swap"])):
        target = out if k == len(ops) - 1 else None
        if j < 0:
            acc = b.op(op, [acc], target)
        else:
            pair = [ins[j], acc] if sw else [acc, ins[j]]
            acc = b.op(op, pair, target)


def _quantize_dequantize(b: _Body, node: onnx.NodeProto, ins: List[str], out: str) -> None:
    to = _attrs(node).get("to", TensorProto.UINT8)
    extra = {"output_dtype": to} if not ins[2] and to != TensorProto.UINT8 else {}
    q = b.op("QuantizeLinear", ins[:3], **extra)
    b.op("DequantizeLinear", [q] + ins[3:5], out)


def _byte_lookup(b: _Body, node: onnx.NodeProto, ins: List[str], out: str) -> None:
    x = ins[0]
    if len(ins) > 2:  # float input: quantized first
        to = _attrs(node).get("to", TensorProto.UINT8)
        extra = {"output_dtype": to} if not ins[3] and to != TensorProto.UINT8 else {}
        x = b.op("QuantizeLinear", ins[:1] + ins[2:4], **extra)
    # the table is in byte order: an int8 code's negative index counts from the end
    b.op("Gather", [ins[1], b.op("Cast", [x], to=TensorProto.INT32)], out, axis=0)


def _qlinear_conv_lookup(b: _Body, node: onnx.NodeProto, ins: List[str], out: str) -> None:
    attrs = _attrs(node)
    ms = {"domain": "com.microsoft"} if attrs.get("channels_last") else {}
    if not ms:
        attrs.pop("channels_last", None)
    codes = b.op("QLinearConv", ins[:9], **attrs, **ms)
    b.op("Gather", [ins[9], b.op("Cast", [codes], to=TensorProto.INT32)], out, axis=0)


def _integer_float(op: str) -> Callable:
    def build(b: _Body, node: onnx.NodeProto, ins: List[str], out: str) -> None:
        b.op("Cast", [b.op(op, ins, **_attrs(node))], out, to=TensorProto.FLOAT)
    return build


#: com.onnxrun op -> body builder
BUILDERS: Dict[str, Callable] = {
    "FusedConv": _fused_conv,
    "FusedMatMul": _fused_matmul,
    "Gelu": _gelu,
    "ElementwiseChain": _elementwise_chain,
    "QuantizeDequantize": _quantize_dequantize,
    "ByteLookup": _byte_lookup,
    "MatMulIntegerFloat": _integer_float("MatMulInteger"),
    "ConvIntegerFloat": _integer_float("ConvInteger"),
    "QLinearConvLookup": _qlinear_conv_lookup,
}


def _graphs(g: onnx.GraphProto):
    yield g
    for n in g.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from _graphs(a.g)
            elif a.type == onnx.AttributeProto.GRAPHS:
                for sub in a.graphs:
                    yield from _graphs(sub)


def _elem_types(g: onnx.GraphProto) -> Dict[str, int]:
    out = {}
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        if vi.type.HasField("tensor_type"):
            out[vi.name] = vi.type.tensor_type.elem_type
    for t in g.initializer:
        out[t.name] = t.data_type
    return out


def make_portable(model: onnx.ModelProto) -> Tuple[int, List[str]]:
    """Give every com.onnxrun node of ``model`` (subgraphs included) a model-local function
    overload with its unfused body, import the com.onnxrun domain, and raise the IR version to
    10 where needed. Returns (nodes given a body, com.onnxrun ops without a builder)."""
    opsets = {o.domain: o.version for o in model.opset_import}
    default = opsets.get("", opsets.get("ai.onnx", 1))
    done, missing, k = 0, [], 0
    for g in _graphs(model.graph):
        types = _elem_types(g)
        for node in g.node:
            if node.domain != DOMAIN:
                continue
            build = BUILDERS.get(node.op_type)
            if build is None:
                missing.append(node.op_type)
                continue
            k += 1
            overload = f"{node.name or node.op_type}#{k}"
            elem = types.get(node.output[0]) or next(
                (types[i] for i in node.input if i in types), TensorProto.FLOAT)
            b = _Body(elem, default)
            ins = [f"i{i}" if name else "" for i, name in enumerate(node.input)]
            build(b, node, ins, "o0")
            f = helper.make_function(
                DOMAIN, node.op_type, [f"i{i}" for i in range(len(ins))], ["o0"], b.nodes,
                [helper.make_opsetid(d, v) for d, v in sorted(opsets.items()) if d != DOMAIN])
            f.overload = overload
            model.functions.append(f)
            node.overload = overload
            done += 1
    if done or missing:
        if DOMAIN not in opsets:
            model.opset_import.append(helper.make_opsetid(DOMAIN, 1))
        model.ir_version = max(model.ir_version, OVERLOAD_IR_VERSION)
    return done, sorted(set(missing))
