"""Random kernels: shapes, dtypes, seeds (repeatable), rough statistics, errors; training
optimizers against their formulas."""

import ml_dtypes
import numpy as np
import pytest
from onnx import TensorProto as T
from onnx import helper as h

import onnxrun
from onnxrun.errors import InvalidArgument, OnnxRuntimeError
from onnxrun.kernels import _random_state

F = T.FLOAT


def vi(name, elem, shape=None):
    return h.make_tensor_value_info(name, elem, shape)


def session(node, inputs, outputs, opset=22, domain=None):
    ops = [h.make_opsetid("", opset)]
    if domain:
        ops.append(h.make_opsetid(domain, 1))
    g = h.make_graph([node], "g", inputs, outputs)
    m = h.make_model(g, opset_imports=ops)
    m.ir_version = 10
    return onnxrun.InferenceSession(m.SerializeToString())


@pytest.mark.parametrize("op,kw", [("RandomNormal", dict(mean=2.0, scale=0.5)),
                                   ("RandomUniform", dict(low=-1.0, high=3.0))])
@pytest.mark.parametrize("elem,dtype", [(T.FLOAT, np.float32), (T.DOUBLE, np.float64),
                                        (T.FLOAT16, np.float16),
                                        (T.BFLOAT16, ml_dtypes.bfloat16)])
def test_random_shape_dtype_seed_and_moments(op, kw, elem, dtype):
    s = session(h.make_node(op, [], ["y"], shape=[200, 50], dtype=elem, seed=7.0, **kw), [],
                [vi("y", elem)])
    a = s.run(None, {})[0]
    b = s.run(None, {})[0]
    assert a.shape == (200, 50) and a.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(a.astype(np.float32), b.astype(np.float32))  # seeded: repeatable
    x = a.astype(np.float64)
    if op == "RandomNormal":
        assert abs(x.mean() - 2.0) < 0.05 and abs(x.std() - 0.5) < 0.05
    else:
        assert x.min() >= -1.0 and x.max() <= 3.0 and abs(x.mean() - 1.0) < 0.1


def test_unseeded_draws_differ_and_follow_global_seed():
    s = session(h.make_node("RandomUniform", [], ["y"], shape=[8]), [], [vi("y", F)])
    _random_state.seed(123)
    a = s.run(None, {})[0]
    b = s.run(None, {})[0]
    _random_state.seed(123)
    c = s.run(None, {})[0]
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_like_ops_take_shape_and_dtype():
    s = session(h.make_node("RandomNormalLike", ["x"], ["y"]), [vi("x", T.DOUBLE)],
                [vi("y", T.DOUBLE)])
    y = s.run(None, {"x": np.zeros((3, 4), np.float64)})[0]
    assert y.shape == (3, 4) and y.dtype == np.float64
    s = session(h.make_node("RandomUniformLike", ["x"], ["y"], dtype=T.FLOAT16),
                [vi("x", T.INT64)], [vi("y", T.FLOAT16)])
    y = s.run(None, {"x": np.zeros((2, 0, 5), np.int64)})[0]
    assert y.shape == (2, 0, 5) and y.dtype == np.float16


def test_like_op_with_integer_input_needs_dtype():
    s = session(h.make_node("RandomUniformLike", ["x"], ["y"]), [vi("x", T.INT32)],
                [vi("y", F)])
    with pytest.raises(InvalidArgument, match="dtype"):
        s.run(None, {"x": np.zeros(3, np.int32)})


def test_random_rejects_non_float_dtype_and_huge_shapes():
    with pytest.raises(OnnxRuntimeError):
        session(h.make_node("RandomNormal", [], ["y"], shape=[2], dtype=T.INT32), [],
                [vi("y", T.INT32)])
    with pytest.raises(OnnxRuntimeError):
        session(h.make_node("RandomNormal", [], ["y"], shape=[2 ** 40, 2 ** 20]), [],
                [vi("y", F)])


def test_bernoulli_extremes_and_dtype():
    s = session(h.make_node("Bernoulli", ["p"], ["y"], dtype=T.INT32, seed=1.0),
                [vi("p", F)], [vi("y", T.INT32)])
    p = np.array([0, 1, 0, 1, 0.5] * 2000, np.float32)
    y = s.run(None, {"p": p})[0]
    assert y.dtype == np.int32
    assert (y[p == 0] == 0).all() and (y[p == 1] == 1).all()
    assert abs(y[p == 0.5].mean() - 0.5) < 0.05
    s = session(h.make_node("Bernoulli", ["p"], ["y"]), [vi("p", T.DOUBLE)], [vi("y", T.DOUBLE)])
    assert s.run(None, {"p": np.full((2, 3), 0.3)})[0].dtype == np.float64


def test_multinomial_distribution_and_impossible_classes():
    with np.errstate(divide="ignore"):
        logits = np.log(np.array([[0.2, 0.0, 0.8], [1.0, 0.0, 0.0]], np.float32))
    s = session(h.make_node("Multinomial", ["x"], ["y"], sample_size=4000, seed=5.0,
                            dtype=T.INT64), [vi("x", F)], [vi("y", T.INT64)])
    y = s.run(None, {"x": logits})[0]
    assert y.shape == (2, 4000) and y.dtype == np.int64
    assert not (y == 1).any() and (y[1] == 0).all()
    assert abs((y[0] == 2).mean() - 0.8) < 0.03
    bad = np.full((1, 3), -np.inf, np.float32)
    with pytest.raises(InvalidArgument):
        s.run(None, {"x": bad})


TRAIN = "ai.onnx.preview.training"


def test_adam_two_tensors_against_formula():
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal(s).astype(np.float32) for s in ((3,), (2, 2))]
    gs = [rng.standard_normal(x.shape).astype(np.float32) for x in xs]
    vs = [rng.random(x.shape).astype(np.float32) for x in xs]
    hs = [rng.random(x.shape).astype(np.float32) for x in xs]
    names = ["x1", "x2", "g1", "g2", "v1", "v2", "h1", "h2"]
    outs = ["X1", "X2", "V1", "V2", "H1", "H2"]
    node = h.make_node("Adam", ["r", "t"] + names, outs, domain=TRAIN, alpha=0.8, beta=0.9,
                       norm_coefficient=0.1, norm_coefficient_post=0.05, epsilon=1e-3)
    s = session(node, [vi("r", F, []), vi("t", T.INT64, [])] + [vi(n, F) for n in names],
                [vi(n, F) for n in outs], opset=17, domain=TRAIN)
    got = s.run(None, dict(zip(["r", "t"] + names,
                               [np.array(0.1, np.float32), np.array(3, np.int64)]
                               + xs + gs + vs + hs)))
    for j in range(2):
        x, g, v, hh = (a[j].astype(np.float64) for a in (xs, gs, vs, hs))
        g = 0.1 * x + g
        v = 0.8 * v + 0.2 * g
        hh = 0.9 * hh + 0.1 * g * g
        r = 0.1 * np.sqrt(1 - 0.9 ** 3) / (1 - 0.8 ** 3)
        x = (1 - 0.05) * (x - r * v / (np.sqrt(hh) + 1e-3))
        np.testing.assert_allclose(got[j], x, rtol=1e-5)
        np.testing.assert_allclose(got[2 + j], v, rtol=1e-5)
        np.testing.assert_allclose(got[4 + j], hh, rtol=1e-5)
        assert got[j].dtype == np.float32


def test_momentum_requires_matching_groups():
    node = h.make_node("Momentum", ["r", "t", "x", "g", "v"], ["X", "V"], domain=TRAIN,
                       alpha=0.9, beta=0.1, mode="nesterov", norm_coefficient=0.0)
    s = session(node, [vi("r", F, []), vi("t", T.INT64, []), vi("x", F), vi("g", F), vi("v", F)],
                [vi("X", F), vi("V", F)], opset=17, domain=TRAIN)
    feeds = {"r": np.array(0.5, np.float32), "t": np.array(0, np.int64),
             "x": np.ones(2, np.float32), "g": np.ones(2, np.float32), "v": np.ones(3, np.float32)}
    with pytest.raises(InvalidArgument):
        s.run(None, feeds)
    feeds["v"] = np.ones(2, np.float32)
    X, V = s.run(None, feeds)
    np.testing.assert_allclose(V, 0.9 + 1.0)  # beta is 1 on the first update (T == 0)
    np.testing.assert_allclose(X, 1 - 0.5 * (1 + 0.9 * 1.9))


def test_whole_seed_is_the_generator_seed():
    s = session(h.make_node("RandomUniform", [], ["y"], shape=[5], seed=3.0), [], [vi("y", F)])
    expected = np.random.default_rng(3).random((5,), dtype=np.float32)
    np.testing.assert_array_equal(s.run(None, {})[0], expected)
