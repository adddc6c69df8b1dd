"""Each graph transformer: the op types after the rewrite, and the same numbers as the
unoptimized graph (rtol 1e-4)."""

import math

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxrun

RNG = np.random.default_rng(0)
F = TensorProto.FLOAT


def _model(nodes, inputs, outputs, inits=(), opset=17):
    g = helper.make_graph(nodes, "g", inputs, outputs,
                          [numpy_helper.from_array(np.asarray(v), k) for k, v in inits])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def _check(model, feeds, expected_ops, level=onnxrun.GraphOptimizationLevel.ORT_ENABLE_ALL):
    so = onnxrun.SessionOptions()
    so.graph_optimization_level = level
    opt = onnxrun.InferenceSession(model, so)
    ops = [n.op_type for n in opt._core.graph.nodes]
    assert ops == expected_ops
    plain_so = onnxrun.SessionOptions()
    plain_so.graph_optimization_level = onnxrun.GraphOptimizationLevel.ORT_DISABLE_ALL
    plain = onnxrun.InferenceSession(model, plain_so)
    for a, b in zip(opt.run(None, feeds), plain.run(None, feeds)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    return opt


def vi(name, shape, t=F):
    return helper.make_tensor_value_info(name, t, shape)


def test_constant_folding_and_shape_folding():
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "zero1"], ["n1"]),
             helper.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
             helper.make_node("Reshape", ["x", "shape"], ["y"])]
    m = _model(nodes, [vi("x", [2, 3, 4])], [vi("y", None)],
               [("zero", np.array(0, np.int64)), ("zero1", np.array([0], np.int64)),
                ("minus1", np.array([-1], np.int64))])
    x = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    sess = _check(m, {"x": x}, ["Reshape"], onnxrun.GraphOptimizationLevel.ORT_ENABLE_BASIC)
    assert sess.run(None, {"x": x})[0].shape == (2, 12)


def test_identity_dropout_and_noop_cast_elimination():
    nodes = [helper.make_node("Identity", ["x"], ["a"]),
             helper.make_node("Dropout", ["a"], ["b"]),
             helper.make_node("Cast", ["b"], ["c"], to=TensorProto.FLOAT),
             helper.make_node("Relu", ["c"], ["y"])]
    m = _model(nodes, [vi("x", [3])], [vi("y", [3])])
    _check(m, {"x": np.array([-1, 0, 2], np.float32)}, ["Relu"],
           onnxrun.GraphOptimizationLevel.ORT_ENABLE_BASIC)


def test_dead_nodes_removed():
    nodes = [helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Exp", ["x"], ["unused"])]
    m = _model(nodes, [vi("x", [3])], [vi("y", [3])])
    _check(m, {"x": np.array([-1, 0, 2], np.float32)}, ["Relu"],
           onnxrun.GraphOptimizationLevel.ORT_ENABLE_BASIC)


def test_transpose_cancellation():
    nodes = [helper.make_node("Transpose", ["x"], ["t1"], perm=[0, 2, 1]),
             helper.make_node("Transpose", ["t1"], ["t2"], perm=[0, 2, 1]),
             helper.make_node("Relu", ["t2"], ["y"]),
             helper.make_node("Transpose", ["y"], ["t3"], perm=[1, 0, 2]),
             helper.make_node("Transpose", ["t3"], ["z"], perm=[0, 2, 1])]
    m = _model(nodes, [vi("x", [2, 3, 4])], [vi("z", None)])
    _check(m, {"x": RNG.standard_normal((2, 3, 4)).astype(np.float32)},
           ["Relu", "Transpose"], onnxrun.GraphOptimizationLevel.ORT_ENABLE_BASIC)


def _conv_inits(c_in=3, c_out=8):
    return [("W", RNG.standard_normal((c_out, c_in, 3, 3)).astype(np.float32)),
            ("B", RNG.standard_normal(c_out).astype(np.float32)),
            ("scale", RNG.uniform(0.5, 1.5, c_out).astype(np.float32)),
            ("bias", RNG.standard_normal(c_out).astype(np.float32)),
            ("mean", RNG.standard_normal(c_out).astype(np.float32)),
            ("var", RNG.uniform(0.5, 2, c_out).astype(np.float32))]


def test_conv_bn_folding_and_activation_fusion():
    nodes = [helper.make_node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["b"]),
             helper.make_node("Relu", ["b"], ["y"])]
    m = _model(nodes, [vi("x", [1, 3, 8, 8])], [vi("y", None)], _conv_inits())
    x = RNG.standard_normal((1, 3, 8, 8)).astype(np.float32)
    _check(m, {"x": x}, ["Conv", "Relu"], onnxrun.GraphOptimizationLevel.ORT_ENABLE_BASIC)
    _check(m, {"x": x}, ["FusedConv"])


@pytest.mark.parametrize("act,attrs,extra", [
    ("Clip", {}, ["lo", "hi"]), ("Sigmoid", {}, []), ("LeakyRelu", {"alpha": 0.2}, []),
    ("HardSigmoid", {}, []), ("HardSwish", {}, []), ("Tanh", {}, [])])
def test_conv_activation_fusion_kinds(act, attrs, extra):
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"]),
             helper.make_node(act, ["c"] + extra, ["y"], **attrs)]
    inits = _conv_inits()[:1] + [("lo", np.array(0, np.float32)), ("hi", np.array(6, np.float32))]
    m = _model(nodes, [vi("x", [1, 3, 8, 8])], [vi("y", None)], inits)
    _check(m, {"x": RNG.standard_normal((1, 3, 8, 8)).astype(np.float32)}, ["FusedConv"])


def test_matmul_add_and_relu_fusion():
    nodes = [helper.make_node("MatMul", ["x", "W"], ["m"]),
             helper.make_node("Add", ["m", "b"], ["a"]),
             helper.make_node("Relu", ["a"], ["y"])]
    m = _model(nodes, [vi("x", [2, 5, 16])], [vi("y", None)],
               [("W", RNG.standard_normal((16, 8)).astype(np.float32)),
                ("b", RNG.standard_normal(8).astype(np.float32))])
    _check(m, {"x": RNG.standard_normal((2, 5, 16)).astype(np.float32)}, ["FusedMatMul"])


def _gelu_nodes(x="x", out="y"):
    return [helper.make_node("Div", [x, "sqrt2"], ["d"]),
            helper.make_node("Erf", ["d"], ["e"]),
            helper.make_node("Add", ["e", "one"], ["p"]),
            helper.make_node("Mul", [x, "p"], ["q"]),
            helper.make_node("Mul", ["q", "half"], [out])]


GELU_INITS = [("sqrt2", np.array(math.sqrt(2), np.float32)), ("one", np.array(1, np.float32)),
              ("half", np.array(0.5, np.float32))]


@pytest.mark.parametrize("opset", [17, 20])
def test_gelu_fusion(opset):
    m = _model(_gelu_nodes(), [vi("x", [4, 32])], [vi("y", None)], GELU_INITS, opset=opset)
    sess = _check(m, {"x": RNG.standard_normal((4, 32)).astype(np.float32) * 3}, ["Gelu"])
    domain = sess._core.graph.nodes[0].domain
    assert domain == ("" if opset >= 20 else "com.onnxrun")


def test_layernorm_fusion():
    nodes = [helper.make_node("ReduceMean", ["x"], ["m"], axes=[-1]),
             helper.make_node("Sub", ["x", "m"], ["d"]),
             helper.make_node("Pow", ["d", "two"], ["d2"]),
             helper.make_node("ReduceMean", ["d2"], ["v"], axes=[-1]),
             helper.make_node("Add", ["v", "eps"], ["ve"]),
             helper.make_node("Sqrt", ["ve"], ["s"]),
             helper.make_node("Div", ["d", "s"], ["n"]),
             helper.make_node("Mul", ["n", "gamma"], ["g"]),
             helper.make_node("Add", ["g", "beta"], ["y"])]
    m = _model(nodes, [vi("x", [2, 7, 16])], [vi("y", None)],
               [("two", np.array(2, np.float32)), ("eps", np.array(1e-5, np.float32)),
                ("gamma", RNG.standard_normal(16).astype(np.float32)),
                ("beta", RNG.standard_normal(16).astype(np.float32))])
    _check(m, {"x": RNG.standard_normal((2, 7, 16)).astype(np.float32)}, ["LayerNormalization"])


def test_fused_values_stay_fetchable():
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"]), helper.make_node("Relu", ["c"], ["y"])]
    m = _model(nodes, [vi("x", [1, 3, 8, 8])], [vi("y", None)], _conv_inits()[:1])
    sess = onnxrun.InferenceSession(m)
    assert [n.op_type for n in sess._core.graph.nodes] == ["FusedConv"]
    x = RNG.standard_normal((1, 3, 8, 8)).astype(np.float32)
    c, y = sess.run(["c", "y"], {"x": x})
    assert (c < 0).any()
    np.testing.assert_allclose(y, np.maximum(c, 0), rtol=1e-6)
