"""Shape inference runs on a light copy: long repeated attributes are cut there, and the IR
still gets every value from the original model."""

import numpy as np
from onnx import TensorProto, helper

import onnxrun
from onnxrun.session.type_inference import SMALL, infer_types


def _label_encoder_model(n):
    keys = list(range(n))
    values = [float(k) * 0.5 for k in keys]
    nodes = [helper.make_node("LabelEncoder", ["x"], ["y"], domain="ai.onnx.ml",
                              keys_int64s=keys, values_floats=values, default_float=-1.0),
             helper.make_node("Constant", [], ["c"], value_ints=keys),
             helper.make_node("Cast", ["c"], ["cf"], to=TensorProto.FLOAT)]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.INT64, [4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("cf", TensorProto.FLOAT, None)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                               helper.make_opsetid("ai.onnx.ml", 2)])


def test_long_attributes_cut_for_inference_only():
    n = SMALL * 3
    m = _label_encoder_model(n)
    light, _, _, originals = infer_types(m)
    assert list(originals) == [0]  # the LabelEncoder; Constant stays whole
    cut = {a.name: a for a in light.graph.node[0].attribute}
    assert len(cut["keys_int64s"].ints) == 1 and len(cut["values_floats"].floats) == 1
    assert len(light.graph.node[1].attribute[0].ints) == n
    types = {vi.name: vi.type for vi in light.graph.value_info}
    assert types["c"].tensor_type.shape.dim[0].dim_value == n  # Constant's shape still known

    sess = onnxrun.InferenceSession(m)
    x = np.array([0, 7, n - 1, n + 5], np.int64)
    y, cf = sess.run(None, {"x": x})
    np.testing.assert_array_equal(y, np.array([0.0, 3.5, (n - 1) * 0.5, -1.0], np.float32))
    np.testing.assert_array_equal(cf, np.arange(n, dtype=np.float32))
