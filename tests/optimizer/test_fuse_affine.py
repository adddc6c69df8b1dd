"""Per-channel Mul/Add folded into Conv and BatchNormalization parameters; standalone
BatchNormalization decomposed into Mul + Add for the elementwise-chain fusion."""

import numpy as np
import pytest
from onnx import TensorProto, helper

import onnxrun
from onnxrun.optimizer.fuse_affine import channel_vector

from .test_transformers import _model, vi

RNG = np.random.default_rng(7)
LEVELS = onnxrun.GraphOptimizationLevel


def _run(model, feeds, level):
    so = onnxrun.SessionOptions()
    so.graph_optimization_level = level
    s = onnxrun.InferenceSession(model, so)
    return [n.op_type for n in s._core.graph.nodes], s.run(None, feeds)


def _compare(model, feeds, level, expected_ops, exact=False):
    ops, got = _run(model, feeds, level)
    assert ops == expected_ops
    _, want = _run(model, feeds, LEVELS.ORT_DISABLE_ALL)
    for a, b in zip(got, want):
        if exact:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def _conv_affine_model(mul_shape, add_shape):
    w = RNG.standard_normal((8, 3, 3, 3)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Mul", ["m", "c"], ["cm"]),
             helper.make_node("Add", ["cm", "a"], ["ca"]),
             helper.make_node("Relu", ["ca"], ["y"])]
    inits = [("w", w), ("m", RNG.standard_normal(mul_shape).astype(np.float32)),
             ("a", RNG.standard_normal(add_shape).astype(np.float32))]
    return _model(nodes, [vi("x", [1, 3, 6, 6])], [vi("y", [1, 8, 6, 6])], inits)


def test_conv_mul_add_folded_into_weights():
    m = _conv_affine_model((8, 1, 1), (1, 8, 1, 1))
    feeds = {"x": RNG.standard_normal((1, 3, 6, 6)).astype(np.float32)}
    _compare(m, feeds, LEVELS.ORT_ENABLE_BASIC, ["Conv", "Relu"])
    _compare(m, feeds, LEVELS.ORT_ENABLE_ALL, ["FusedConv"])


def test_not_per_channel_constants_stay():
    m = _conv_affine_model((6,), (8, 1, 1))  # the Mul scales along the last axis
    feeds = {"x": RNG.standard_normal((1, 3, 6, 6)).astype(np.float32)}
    ops, _ = _run(m, feeds, LEVELS.ORT_ENABLE_BASIC)
    assert ops == ["Conv", "Mul", "Add", "Relu"]


def test_batchnorm_then_mul_add_relu_is_one_chain():
    c = 4
    p = {k: RNG.standard_normal(c).astype(np.float32) for k in ("s", "b", "mean")}
    p["var"] = RNG.random(c).astype(np.float32) + 0.5
    nodes = [helper.make_node("BatchNormalization", ["x", "s", "b", "mean", "var"], ["n"]),
             helper.make_node("Mul", ["n", "m"], ["nm"]),
             helper.make_node("Add", ["nm", "a"], ["na"]),
             helper.make_node("Relu", ["na"], ["y"])]
    inits = list(p.items()) + [("m", RNG.standard_normal((c, 1, 1)).astype(np.float32)),
                               ("a", RNG.standard_normal((c, 1, 1)).astype(np.float32))]
    m = _model(nodes, [vi("x", [2, c, 5, 5])], [vi("y", [2, c, 5, 5])], inits)
    feeds = {"x": RNG.standard_normal((2, c, 5, 5)).astype(np.float32)}
    _compare(m, feeds, LEVELS.ORT_ENABLE_BASIC, ["BatchNormalization", "Relu"])
    _compare(m, feeds, LEVELS.ORT_ENABLE_ALL, ["ElementwiseChain"])


def test_batchnorm_decomposition_gives_identical_numbers():
    c = 3
    nodes = [helper.make_node("BatchNormalization", ["x", "s", "b", "mean", "var"], ["n"],
                              epsilon=1e-3),
             helper.make_node("Relu", ["n"], ["y"])]
    inits = [("s", RNG.standard_normal(c).astype(np.float32)),
             ("b", RNG.standard_normal(c).astype(np.float32)),
             ("mean", RNG.standard_normal(c).astype(np.float32)),
             ("var", RNG.random(c).astype(np.float32) + 0.1)]
    m = _model(nodes, [vi("x", [2, c, 4])], [vi("y", [2, c, 4])], inits)
    feeds = {"x": RNG.standard_normal((2, c, 4)).astype(np.float32)}
    _compare(m, feeds, LEVELS.ORT_ENABLE_ALL, ["ElementwiseChain"], exact=True)


@pytest.mark.parametrize("shape,rank,ok", [((5, 1, 1), 4, True), ((1, 5, 1, 1), 4, True),
                                           ((), 4, True), ((1,), 4, True), ((5,), 2, True),
                                           ((5,), 4, False), ((2, 5, 1, 1), 4, False),
                                           ((5, 1, 2), 4, False), ((1, 1, 1, 1, 1), 4, False)])
def test_channel_vector(shape, rank, ok):
    c = np.arange(np.prod(shape, dtype=int), dtype=np.float32).reshape(shape) + 1
    v = channel_vector(c, rank, 5)
    assert (v is not None) == ok
    if ok:
        assert v.shape == (5,)


def test_replaced_weights_are_dropped():
    m = _conv_affine_model((8, 1, 1), (8, 1, 1))
    so = onnxrun.SessionOptions()
    so.graph_optimization_level = LEVELS.ORT_ENABLE_BASIC
    s = onnxrun.InferenceSession(m, so)
    g = s._core.graph
    assert "w" not in g.values and "m" not in g.values and "a" not in g.values
    held = [v for v in s._core.plan.template if isinstance(v, np.ndarray)]
    assert len(held) == 2  # the folded weights and bias only
    # the original weight stays fetchable by name
    w, = s.run(["w"], {"x": RNG.standard_normal((1, 3, 6, 6)).astype(np.float32)})
    assert w.shape == (8, 3, 3, 3)
