"""Small models built with onnx.helper for the core tests."""

import numpy as np
from onnx import TensorProto, helper


def mlp(opset: int = 17, ir_version: int = 8):
    """x[N,4] -> Gemm -> Relu -> Gemm -> y[N,3]; with metadata."""
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((4, 8)).astype(np.float32)
    w2 = rng.standard_normal((8, 3)).astype(np.float32)
    nodes = [helper.make_node("Gemm", ["x", "w1"], ["h"], name="fc1"),
             helper.make_node("Relu", ["h"], ["a"], name="relu"),
             helper.make_node("Gemm", ["a", "w2"], ["y"], name="fc2")]
    g = helper.make_graph(nodes, "mlp_graph",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
                          [helper.make_tensor("w1", TensorProto.FLOAT, w1.shape, w1.ravel()),
                           helper.make_tensor("w2", TensorProto.FLOAT, w2.shape, w2.ravel())],
                          doc_string="graph doc")
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="onnxrun-tests", ir_version=ir_version,
                          doc_string="model doc", domain="test.domain", model_version=7)
    helper.set_model_props(m, {"author": "tests", "license": "MIT"})
    return m


def loop_forever(opset: int = 17):
    """A Loop with trip count 2**62 and cond always true: runs until terminated."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Add", ["v_in", "one"], ["v_out"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [1])])
    nodes = [helper.make_node("Loop", ["M", "cond", "v0"], ["v"], body=body)]
    g = helper.make_graph(nodes, "forever",
                          [helper.make_tensor_value_info("v0", TensorProto.FLOAT, [1])],
                          [helper.make_tensor_value_info("v", TensorProto.FLOAT, [1])],
                          [helper.make_tensor("M", TensorProto.INT64, [], [2 ** 62]),
                           helper.make_tensor("cond", TensorProto.BOOL, [], [True]),
                           helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
