"""Small models for the server tests."""

import numpy as np
from onnx import TensorProto as TP
from onnx import helper, numpy_helper

W = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
TABLE = np.arange(15, dtype=np.float32).reshape(5, 3) / 10


def scorer(batch="N") -> bytes:
    """x[N,4] FP32, idx[N] INT64 -> y = Relu(x @ W) + TABLE[idx] [N,3], cls = argmax(y) [N].
    An idx outside 0..4 makes the Gather kernel fail."""
    nodes = [helper.make_node("MatMul", ["x", "W"], ["h"]),
             helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gather", ["T", "idx"], ["t"], axis=0),
             helper.make_node("Add", ["r", "t"], ["y"]),
             helper.make_node("ArgMax", ["y"], ["cls"], axis=1, keepdims=0)]
    g = helper.make_graph(
        nodes, "scorer",
        [helper.make_tensor_value_info("x", TP.FLOAT, [batch, 4]),
         helper.make_tensor_value_info("idx", TP.INT64, [batch])],
        [helper.make_tensor_value_info("y", TP.FLOAT, [batch, 3]),
         helper.make_tensor_value_info("cls", TP.INT64, [batch])],
        [numpy_helper.from_array(W, "W"), numpy_helper.from_array(TABLE, "T")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def echo_types() -> bytes:
    """Identity on a STRING [N], a BOOL [N] and an FP16 [N,2] input (every special encoding)."""
    specs = [("s", TP.STRING, ["N"]), ("b", TP.BOOL, ["N"]), ("h", TP.FLOAT16, ["N", 2])]
    g = helper.make_graph(
        [helper.make_node("Identity", [n], [n + "_out"]) for n, _, _ in specs], "echo",
        [helper.make_tensor_value_info(n, t, s) for n, t, s in specs],
        [helper.make_tensor_value_info(n + "_out", t, s) for n, t, s in specs])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
