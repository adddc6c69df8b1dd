"""Unit tests of the elementwise math kernels (kernels/math): legacy broadcast attributes,
integer Div/Mod/Pow semantics, Erf accuracy, Clip forms, BitShift edge cases, and Cast /
CastLike / BitCast between every kind of type, against onnxruntime or formulas."""

from __future__ import annotations

import math

import ml_dtypes
import onnx
import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

import onnxrun
from onnxrun.errors import InvalidArgument
from onnxrun.ir.types import elem_of

RNG = np.random.default_rng(7)


def make_model(op, inputs, attrs=None, opset=21, n_out=1, out_types=None):
    """A one-node model; ``inputs`` is a list of (name, array)."""
    vis = [helper.make_tensor_value_info(n, elem_of(a.dtype), a.shape) for n, a in inputs]
    outs = [f"y{i}" for i in range(n_out)]
    ovis = [helper.make_tensor_value_info(o, out_types[i], None) if out_types
            else onnx.ValueInfoProto(name=o) for i, o in enumerate(outs)]
    node = helper.make_node(op, [n for n, _ in inputs], outs, **(attrs or {}))
    g = helper.make_graph([node], "g", vis, ovis)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 10 if opset >= 21 else 8
    return m


def run(op, inputs, attrs=None, opset=21, **kw):
    """Outputs of onnxrun on a one-node model."""
    m = make_model(op, inputs, attrs, opset, **kw)
    sess = onnxrun.InferenceSession(m.SerializeToString())
    return sess.run(None, {n: a for n, a in inputs})


def run_ort(op, inputs, attrs=None, opset=21, **kw):
    """Outputs of onnxruntime on the same model."""
    m = make_model(op, inputs, attrs, opset, **kw)
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {n: a for n, a in inputs})


def check(op, inputs, attrs=None, opset=21, rtol=1e-5, atol=1e-6, **kw):
    """onnxrun and onnxruntime agree (dtype, shape, values)."""
    ours = run(op, inputs, attrs, opset, **kw)
    theirs = run_ort(op, inputs, attrs, opset, **kw)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype and a.shape == b.shape
        if a.dtype == object:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=rtol,
                                       atol=atol)
    return ours


# ---- arithmetic ---------------------------------------------------------------------------

@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.float16])
def test_binary_vs_ort(op, dtype):
    a = (RNG.standard_normal((3, 4, 5)) * 10).astype(dtype)
    b = (RNG.standard_normal((4, 1)) * 10).astype(dtype)
    if np.dtype(dtype).kind == "i":
        b[b == 0] = 3
    check(op, [("a", a), ("b", b)], rtol=1e-3 if dtype == np.float16 else 1e-6)


def test_int_div_truncates_and_rejects_zero():
    a = np.array([-7, 7, -7, 7, -6], np.int64)
    b = np.array([2, -2, -2, 2, 3], np.int64)
    (y,) = run("Div", [("a", a), ("b", b)])
    np.testing.assert_array_equal(y, [-3, -3, 3, 3, -2])
    with pytest.raises(InvalidArgument):
        run("Div", [("a", a), ("b", np.zeros(5, np.int64))])


def test_legacy_broadcast_axis():
    a = RNG.standard_normal((2, 3, 4, 5)).astype(np.float32)
    b = RNG.standard_normal((3, 4)).astype(np.float32)
    (y,) = run("Add", [("a", a), ("b", b)], {"broadcast": 1, "axis": 1}, opset=6)
    np.testing.assert_allclose(y, a + b[None, :, :, None])
    b2 = RNG.standard_normal((5,)).astype(np.float32)
    (y,) = run("Mul", [("a", a), ("b", b2)], {"broadcast": 1}, opset=6)
    np.testing.assert_allclose(y, a * b2)
    with pytest.raises(InvalidArgument):
        run("Sub", [("a", a), ("b", b2)], opset=6)  # broadcast=0 needs equal shapes


@pytest.mark.parametrize("xd,yd", [(np.float32, np.float32), (np.float32, np.int64),
                                   (np.int64, np.int64), (np.int32, np.float32),
                                   (np.float16, np.float16), (np.float64, np.int32)])
def test_pow_keeps_base_dtype(xd, yd):
    x = np.array([[1, 2, 3], [-2, 0, 4]]).astype(xd)
    y = np.array([2, 3, 1]).astype(yd)
    ours = check("Pow", [("x", x), ("y", y)], rtol=1e-3)
    assert ours[0].dtype == np.dtype(xd)


def test_pow_negative_integer_exponent():
    x = np.array([1, -1, -1, 2, 5], np.int64)
    y = np.array([-2, -3, -2, -1, 0], np.int64)
    (r,) = run("Pow", [("x", x), ("y", y)])
    np.testing.assert_array_equal(r, [1, -1, 1, 0, 1])


@pytest.mark.parametrize("fmod", [0, 1])
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32])
def test_mod_vs_ort(fmod, dtype):
    if fmod == 0 and dtype == np.float32:
        pytest.skip("float Mod needs fmod=1 before opset 28")
    a = np.array([-7, 7, -7, 7, 5, -4], dtype)
    b = np.array([3, -3, -3, 3, 5, 3], dtype)
    check("Mod", [("a", a), ("b", b)], {"fmod": fmod})


def test_mod_int_zero_divisor():
    with pytest.raises(InvalidArgument):
        run("Mod", [("a", np.array([1], np.int32)), ("b", np.array([0], np.int32))])


# ---- unary / special values -----------------------------------------------------------------

@pytest.mark.parametrize("op", ["Abs", "Neg", "Ceil", "Floor", "Round", "Sign", "Reciprocal",
                                "Sqrt", "Exp", "Log", "Sin", "Cos", "Tan", "Asin", "Acos",
                                "Atan", "Sinh", "Cosh", "Tanh", "Asinh", "Acosh", "Atanh"])
def test_unary_float_vs_ort(op):
    x = np.array([-2.5, -1.5, -0.5, 0.0, 0.3, 0.5, 1.5, 2.5, 0.9, 3.0], np.float32)
    if op in ("Acosh",):
        x = np.abs(x) + 1
    if op in ("Asin", "Acos", "Atanh"):
        x = np.clip(x, -0.99, 0.99)
    if op in ("Log", "Sqrt"):
        x = np.abs(x) + 0.1
    check(op, [("x", x)], opset=13 if op in ("Round", "Sign") or op in (
        "Abs", "Neg", "Ceil", "Floor", "Reciprocal", "Sqrt", "Exp", "Log", "Tanh") else 21)


def test_bfloat16_and_half_unary_keep_dtype():
    x = np.array([-1.25, 0.5, 2.0], ml_dtypes.bfloat16)
    for op in ("Abs", "Neg", "Exp", "Sqrt", "Floor"):
        (y,) = run(op, [("x", x)])
        assert y.dtype == x.dtype
    (y,) = run("Exp", [("x", x.astype(np.float16))])
    assert y.dtype == np.float16


def test_erf_accuracy_and_dtypes():
    xs = np.linspace(-6, 6, 20001)
    ref = np.array([math.erf(v) for v in xs])
    (y,) = run("Erf", [("x", xs.astype(np.float32))], opset=13)
    assert y.dtype == np.float32 and np.abs(y - ref).max() < 1e-6
    (y,) = run("Erf", [("x", xs)], opset=13)
    assert np.abs(y - ref).max() < 1e-15
    (y,) = run("Erf", [("x", np.array([np.nan, np.inf, -np.inf], np.float32))], opset=13)
    np.testing.assert_array_equal(y, [np.nan, 1, -1])
    big = RNG.standard_normal(300_000).astype(np.float32)  # large: computed in chunks
    (y,) = run("Erf", [("x", big)], opset=13)
    idx = RNG.integers(0, big.size, 3000)
    np.testing.assert_allclose(y[idx], [math.erf(v) for v in big[idx]], atol=1e-6)


def test_isinf_isnan():
    x = np.array([np.inf, -np.inf, np.nan, 1.0], np.float32)
    check("IsNaN", [("x", x)])
    for pos in (0, 1):
        for neg in (0, 1):
            check("IsInf", [("x", x)], {"detect_positive": pos, "detect_negative": neg})


# ---- comparisons, logic, bits ---------------------------------------------------------------

@pytest.mark.parametrize("op", ["Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual"])
def test_compare_vs_ort(op):
    a = RNG.integers(-3, 3, (3, 4)).astype(np.int32)
    b = RNG.integers(-3, 3, (4,)).astype(np.int32)
    check(op, [("a", a), ("b", b)])
    check(op, [("a", a.astype(np.float32)), ("b", b.astype(np.float32))])


def test_equal_strings():
    a = np.array(["a", "b", "c"], dtype=object)
    b = np.array(["a", "x", "c"], dtype=object)
    (y,) = run("Equal", [("a", a), ("b", b)], opset=19)
    np.testing.assert_array_equal(y, [True, False, True])


@pytest.mark.parametrize("op", ["And", "Or", "Xor"])
def test_logical_legacy_broadcast(op):
    a = RNG.integers(0, 2, (2, 3, 4)).astype(bool)
    b = RNG.integers(0, 2, (3,)).astype(bool)
    (y,) = run(op, [("a", a), ("b", b)], {"broadcast": 1, "axis": 1}, opset=1)
    fn = {"And": np.logical_and, "Or": np.logical_or, "Xor": np.logical_xor}[op]
    np.testing.assert_array_equal(y, fn(a, b[None, :, None]))


@pytest.mark.parametrize("direction", ["LEFT", "RIGHT"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint32, np.uint64])
def test_bitshift_vs_ort(direction, dtype):
    x = np.array([1, 2, 255, 16, 7], dtype)
    y = np.array([1, 0, 3, 2, 1], dtype)
    check("BitShift", [("x", x), ("y", y)], {"direction": direction})


def test_bitshift_out_of_range_amounts():
    x = np.array([-8, 8, -1], np.int8)
    y = np.array([8, 9, 100], np.int8)
    (r,) = run("BitShift", [("x", x), ("y", y)], {"direction": "RIGHT"}, opset=11)
    np.testing.assert_array_equal(r, [-1, 0, -1])
    (r,) = run("BitShift", [("x", x), ("y", y)], {"direction": "LEFT"}, opset=11)
    np.testing.assert_array_equal(r, [0, 0, 0])


def test_bitwise_ops():
    a = np.array([0b1100, 0b1010], np.int32)
    b = np.array([0b1010, 0b0110], np.int32)
    for op in ("BitwiseAnd", "BitwiseOr", "BitwiseXor"):
        check(op, [("a", a), ("b", b)], opset=18)
    check("BitwiseNot", [("a", a)], opset=18)


# ---- variadic, Clip, Where --------------------------------------------------------------------

@pytest.mark.parametrize("op", ["Max", "Min", "Sum", "Mean"])
def test_variadic_vs_ort(op):
    a = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    b = RNG.standard_normal((3, 1)).astype(np.float32)
    c = RNG.standard_normal((4,)).astype(np.float32)
    check(op, [("a", a), ("b", b), ("c", c)])
    ours = check(op, [("a", a)])
    assert ours[0] is not a


def test_clip_forms():
    x = np.linspace(-3, 3, 13).astype(np.float32)
    check("Clip", [("x", x), ("lo", np.array(-1, np.float32)), ("hi", np.array(2, np.float32))],
          opset=13)
    (y,) = run("Clip", [("x", x)], {"min": -0.5, "max": 0.5}, opset=6)
    np.testing.assert_array_equal(y, np.clip(x, -0.5, 0.5))
    xi = np.arange(-5, 5, dtype=np.int32)
    check("Clip", [("x", xi), ("lo", np.array(-2, np.int32)), ("hi", np.array(3, np.int32))],
          opset=13)
    # min > max: everything becomes max
    (y,) = run("Clip", [("x", x), ("lo", np.array(2, np.float32)),
                        ("hi", np.array(1, np.float32))], opset=13)
    assert np.all(y == 1)
    with pytest.raises(InvalidArgument):
        run("Clip", [("x", x), ("lo", np.array([1, 2], np.float32))], opset=13)


def test_where_broadcast_and_strings():
    c = np.array([[True], [False]])
    x = np.array([1, 2, 3], np.int64)
    y = np.array([[7], [8]], np.int64)
    check("Where", [("c", c), ("x", x), ("y", y)], opset=16)
    s = run("Where", [("c", np.array([True, False])), ("x", np.array(["a", "b"], object)),
                      ("y", np.array(["c", "d"], object))], opset=16)[0]
    np.testing.assert_array_equal(s, ["a", "d"])


# ---- Cast ----------------------------------------------------------------------------------

NUMERIC = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
           np.uint64, np.float16, np.float32, np.float64]


@pytest.mark.parametrize("src", NUMERIC)
def test_cast_numeric_pairs_vs_ort(src):
    x = np.array([0, 1, 2, 7, 100, 3, 0, 1]).astype(src)
    for dst in NUMERIC:
        check("Cast", [("x", x)], {"to": elem_of(dst)}, out_types=[elem_of(dst)])


def test_cast_numbers_to_strings_like_ort():
    f = np.array([0.1, 1 / 3, 1e10, 1.5e-7, 123456789, -0.0, np.nan, np.inf, -np.inf, 100],
                 np.float32)
    for x in (f, f.astype(np.float64), np.array([1, -5, 2**40], np.int64),
              np.array([True, False]), np.array([2**64 - 1, 0], np.uint64),
              np.array([1 / 3, 123456789.123, 1e-300, 2.0**70])):
        check("Cast", [("x", x)], {"to": TensorProto.STRING}, out_types=[TensorProto.STRING])


def test_cast_strings_to_numbers_like_ort():
    s = np.array(["1.5", "-INF", "inf", "NaN", "+INF", "1e3", " 7", "3.9", "-2.5", "1e40"],
                 dtype=object)
    for to in (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16):
        check("Cast", [("x", s)], {"to": to}, out_types=[to])
    si = np.array(["12", "-3", "3.9", "1e3", "300", " 5", "0"], dtype=object)
    for to in (TensorProto.INT64, TensorProto.INT32, TensorProto.UINT8, TensorProto.BOOL):
        check("Cast", [("x", si)], {"to": to}, out_types=[to])
    with pytest.raises(InvalidArgument):
        run("Cast", [("x", np.array(["abc"], object))], {"to": TensorProto.INT64},
            out_types=[TensorProto.INT64])


def test_cast_opset1_string_to_attribute():
    x = np.array([1.7, -2.2], np.float32)
    (y,) = run("Cast", [("x", x)], {"to": "INT32"}, opset=1, out_types=[TensorProto.INT32])
    np.testing.assert_array_equal(y, [1, -2])


def test_cast_float8_saturate():
    x = np.array([1e6, -1e6, np.inf, -np.inf, np.nan, 0.3], np.float32)
    (y,) = run("Cast", [("x", x)], {"to": TensorProto.FLOAT8E4M3FN}, opset=19,
               out_types=[TensorProto.FLOAT8E4M3FN])
    np.testing.assert_array_equal(y.astype(np.float32)[:4], [448, -448, 448, -448])
    assert np.isnan(y.astype(np.float32)[4])
    (y,) = run("Cast", [("x", x)], {"to": TensorProto.FLOAT8E5M2, "saturate": 0}, opset=19,
               out_types=[TensorProto.FLOAT8E5M2])
    np.testing.assert_array_equal(y.astype(np.float32)[:4], [np.inf, -np.inf, np.inf, -np.inf])
    (y,) = run("Cast", [("x", x)], {"to": TensorProto.FLOAT8E4M3FN, "saturate": 0}, opset=19,
               out_types=[TensorProto.FLOAT8E4M3FN])
    assert np.isnan(y.astype(np.float32)[:5]).all()


def test_cast_int4_wraps_and_e8m0_rounding():
    x = np.array([-9, -8, 7, 8, 15, 300], np.int64)
    (y,) = run("Cast", [("x", x)], {"to": TensorProto.INT4}, out_types=[TensorProto.INT4])
    np.testing.assert_array_equal(y.astype(np.int8), [7, -8, 7, -8, -1, -4])
    v = np.array([1.1, 1.5, 1.4, 2.0, 0.0, 1e39], np.float64)
    expect = {"up": [2, 2, 2, 2, 2.0**-127, 2.0**127], "down": [1, 1, 1, 2, 2.0**-127, 2.0**127],
              "nearest": [1, 2, 1, 2, 2.0**-127, 2.0**127]}
    for mode, exp in expect.items():
        (y,) = run("Cast", [("x", v)], {"to": TensorProto.FLOAT8E8M0, "round_mode": mode},
                   opset=24, out_types=[TensorProto.FLOAT8E8M0])
        np.testing.assert_array_equal(y.astype(np.float64), exp)
    (y,) = run("Cast", [("x", v)], {"to": TensorProto.FLOAT8E8M0, "saturate": 0,
                                    "round_mode": "nearest"},
               opset=24, out_types=[TensorProto.FLOAT8E8M0])
    assert np.isnan(y.astype(np.float32)[4:]).all()


def test_castlike_and_bitcast():
    x = np.array([1.5, -2.0], np.float32)
    (y,) = run("CastLike", [("x", x), ("t", np.zeros(0, np.int64))], opset=21)
    assert y.dtype == np.int64 and list(y) == [1, -2]
    (y,) = run("BitCast", [("x", x)], {"to": TensorProto.INT32}, opset=26,
               out_types=[TensorProto.INT32])
    np.testing.assert_array_equal(y, x.view(np.int32))
    (y,) = run("BitCast", [("x", np.array(3.0, np.float32))], {"to": TensorProto.UINT32},
               opset=26, out_types=[TensorProto.UINT32])
    assert y.shape == () and int(y) == 0x40400000
    u4 = np.array([15, 8, 1], np.uint8).astype(ml_dtypes.uint4)
    (y,) = run("BitCast", [("x", u4)], {"to": TensorProto.INT4}, opset=26,
               out_types=[TensorProto.INT4])
    np.testing.assert_array_equal(y.astype(np.int8), [-1, -8, 1])
    with pytest.raises(Exception):
        run("BitCast", [("x", x)], {"to": TensorProto.INT64}, opset=26,
            out_types=[TensorProto.INT64])
