"""Small models built with onnx.helper for the tools tests."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper


def model(nodes, inputs, outputs, inits=(), opsets=(("", 17),)):
    g = h.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    return h.make_model(g, opset_imports=[h.make_opsetid(d, v) for d, v in opsets],
                        ir_version=8)


def conv_relu() -> onnx.ModelProto:
    """Conv -> Relu -> Sigmoid: the Conv output 'conv_out' disappears in a fused Conv+Relu."""
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "W")
    b = numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "B")
    nodes = [h.make_node("Conv", ["x", "W", "B"], ["conv_out"], name="conv", pads=[1, 1, 1, 1]),
             h.make_node("Relu", ["conv_out"], ["relu_out"], name="relu"),
             h.make_node("Sigmoid", ["relu_out"], ["y"], name="sigmoid")]
    return model(nodes, [h.make_tensor_value_info("x", T.FLOAT, ["N", 3, 8, 8])],
                 [h.make_tensor_value_info("y", T.FLOAT, ["N", 4, 8, 8])], [w, b])


def chain() -> onnx.ModelProto:
    """x -> Add(c) -> Tanh -> Mul(x) -> Sigmoid -> y, plus a side output of Neg."""
    c = numpy_helper.from_array(np.full((4,), 0.5, np.float32), "c")
    nodes = [h.make_node("Add", ["x", "c"], ["a"], name="add"),
             h.make_node("Tanh", ["a"], ["t"], name="tanh"),
             h.make_node("Mul", ["t", "x"], ["m"], name="mul"),
             h.make_node("Sigmoid", ["m"], ["y"], name="sigmoid"),
             h.make_node("Neg", ["m"], ["z"], name="neg")]
    return model(nodes, [h.make_tensor_value_info("x", T.FLOAT, ["N", 4])],
                 [h.make_tensor_value_info("y", T.FLOAT, ["N", 4]),
                  h.make_tensor_value_info("z", T.FLOAT, ["N", 4])], [c])


def relu_log() -> onnx.ModelProto:
    """Relu -> Log -> Add: Log of a zero gives -inf."""
    nodes = [h.make_node("Relu", ["x"], ["r"], name="relu"),
             h.make_node("Log", ["r"], ["l"], name="log"),
             h.make_node("Add", ["l", "l"], ["y"], name="add")]
    return model(nodes, [h.make_tensor_value_info("x", T.FLOAT, [3])],
                 [h.make_tensor_value_info("y", T.FLOAT, [3])])


def custom(domain: str, op: str) -> onnx.ModelProto:
    """Abs -> domain::op(k=3) -> Relu."""
    nodes = [h.make_node("Abs", ["x"], ["a"], name="abs"),
             h.make_node(op, ["a"], ["c"], name="custom", domain=domain, k=3.0),
             h.make_node("Relu", ["c"], ["y"], name="relu")]
    return model(nodes, [h.make_tensor_value_info("x", T.FLOAT, [2, 3])],
                 [h.make_tensor_value_info("y", T.FLOAT, [2, 3])],
                 opsets=(("", 17), (domain, 1)))
