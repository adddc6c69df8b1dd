"""Unit tests of the activation kernels (kernels/activation): every activation against
onnxruntime with non-default attributes, half/bfloat16 inputs, Softmax-family axis semantics
before and after opset 13, Gelu's two forms and the newest ops (Swish, SwiGLU) by formula."""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest

from onnxrun.errors import InvalidArgument

from .test_math import check, run

RNG = np.random.default_rng(3)
X = (RNG.standard_normal((3, 4, 5)) * 3).astype(np.float32)

ACTIVATIONS = [
    ("Relu", {}, 14), ("LeakyRelu", {"alpha": 0.2}, 16), ("LeakyRelu", {"alpha": 3.0}, 16),
    ("ThresholdedRelu", {"alpha": 0.5}, 22), ("Elu", {"alpha": 0.7}, 22),
    ("Selu", {"alpha": 1.5, "gamma": 2.0}, 22), ("Selu", {}, 22), ("Celu", {"alpha": 2.0}, 12),
    ("Sigmoid", {}, 13), ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}, 22),
    ("HardSwish", {}, 22), ("Softplus", {}, 22), ("Softsign", {}, 22), ("Mish", {}, 22),
    ("Tanh", {}, 13), ("Shrink", {"lambd": 1.0, "bias": 0.3}, 9),
]


@pytest.mark.parametrize("op,attrs,opset", ACTIVATIONS)
def test_activation_vs_ort(op, attrs, opset):
    check(op, [("x", X)], attrs, opset=opset, rtol=1e-5, atol=1e-6)
    (y32,) = run(op, [("x", X)], attrs, opset=opset)
    (y64,) = run(op, [("x", X.astype(np.float64))], attrs, opset=opset)
    assert y64.dtype == np.float64  # onnxruntime lacks most double kernels: compare to float
    np.testing.assert_allclose(y64, y32, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op,attrs,opset", ACTIVATIONS)
def test_activation_half_keeps_dtype(op, attrs, opset):
    (y,) = run(op, [("x", X.astype(np.float16))], attrs, opset=opset)
    (ref,) = run(op, [("x", X)], attrs, opset=opset)
    assert y.dtype == np.float16
    np.testing.assert_allclose(y.astype(np.float32), ref, rtol=2e-3, atol=2e-3)


def test_activation_bfloat16():
    xb = X.astype(ml_dtypes.bfloat16)
    for op in ("Relu", "Sigmoid", "Tanh", "Softplus"):
        (y,) = run(op, [("x", xb)], opset=22 if op != "Relu" else 14)
        assert y.dtype == xb.dtype


def test_relu_int_and_shrink_int():
    xi = np.array([-3, 0, 5], np.int8)
    check("Relu", [("x", xi)], opset=14)
    xs = np.array([-3, -1, 0, 1, 4], np.int32)
    (y,) = run("Shrink", [("x", xs)], {"lambd": 1.5, "bias": 1.0}, opset=9)
    assert y.dtype == np.int32
    np.testing.assert_array_equal(y, [-2, 0, 0, 0, 3])


def test_prelu_broadcast_and_legacy():
    slope = np.array([0.1, 0.2, 0.3, 0.4, 0.5], np.float32)
    check("PRelu", [("x", X), ("s", slope)], opset=16)
    check("PRelu", [("x", X), ("s", slope.reshape(1, 1, 5))], opset=9)
    x4 = RNG.standard_normal((2, 3, 4, 4)).astype(np.float32)
    s3 = np.array([0.1, 0.2, 0.3], np.float32)
    (y,) = run("PRelu", [("x", x4), ("s", s3)], opset=6)
    np.testing.assert_allclose(y, np.where(x4 < 0, x4 * s3[None, :, None, None], x4))


@pytest.mark.parametrize("approx", ["none", "tanh"])
def test_gelu(approx):
    xs = np.linspace(-8, 8, 4001)
    if approx == "none":
        ref = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in xs])
    else:
        ref = 0.5 * xs * (1 + np.tanh(math.sqrt(2 / math.pi) * (xs + 0.044715 * xs ** 3)))
    (y,) = run("Gelu", [("x", xs.astype(np.float32))], {"approximate": approx}, opset=20)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=2e-6)
    big = RNG.standard_normal((200, 1000)).astype(np.float32)
    (y,) = run("Gelu", [("x", big)], {"approximate": approx}, opset=20)
    (ref,) = run("Gelu", [("x", big.astype(np.float64))], {"approximate": approx}, opset=20)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=2e-6)
    with pytest.raises(Exception):
        run("Gelu", [("x", big)], {"approximate": "fast"}, opset=20)


def test_swish_and_swiglu():
    (y,) = run("Swish", [("x", X)], {"alpha": 1.5}, opset=24)
    np.testing.assert_allclose(y, X / (1 + np.exp(-1.5 * X)), rtol=1e-5, atol=1e-6)
    b = RNG.standard_normal(X.shape).astype(np.float32)
    (y,) = run("SwiGLU", [("a", X), ("b", b)], {"alpha": 0.5}, opset=28)
    np.testing.assert_allclose(y, X / (1 + np.exp(-0.5 * X)) * b, rtol=1e-5, atol=1e-6)
    with pytest.raises(InvalidArgument):
        run("SwiGLU", [("a", X), ("b", b[:, :, :1])], opset=28)


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax", "Hardmax"])
@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1, -3])
def test_softmax_family_vs_ort(op, opset, axis):
    attrs = {} if axis is None else {"axis": axis}
    check(op, [("x", X)], attrs, opset=opset, rtol=1e-5, atol=1e-6)


def test_softmax_legacy_flattens():
    (y,) = run("Softmax", [("x", X)], {"axis": 1}, opset=11)
    flat = X.reshape(3, 20)
    e = np.exp(flat - flat.max(1, keepdims=True))
    np.testing.assert_allclose(y, (e / e.sum(1, keepdims=True)).reshape(X.shape), rtol=1e-5)


def test_hardmax_ties_pick_first_and_bad_axis():
    x = np.array([[1, 3, 3], [2, 2, 2]], np.float32)
    (y,) = run("Hardmax", [("x", x)], opset=13)
    np.testing.assert_array_equal(y, [[0, 1, 0], [1, 0, 0]])
    with pytest.raises(InvalidArgument):
        run("Softmax", [("x", x)], {"axis": 2}, opset=13)


def test_softmax_half_and_empty():
    (y,) = run("Softmax", [("x", X.astype(np.float16))], opset=13)
    assert y.dtype == np.float16
    (y,) = run("Softmax", [("x", np.zeros((0, 4), np.float32))], opset=13)
    assert y.shape == (0, 4)
