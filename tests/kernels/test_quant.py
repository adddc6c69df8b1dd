"""Quantization kernels against onnxruntime on random inputs (QLinearConv/ConvInteger geometry,
per-channel parameters, MatMulInteger zero points, Quantize/DequantizeLinear per-axis and blocked,
float8 saturation, int4) and error cases."""

import ml_dtypes
import numpy as np
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper

import onnxrun
from onnxrun.errors import InvalidArgument

RNG = np.random.default_rng(0)


def _build(op, inputs, attrs=None, opset=21, n_out=1, consts=()):
    """inputs: list of (name, array) with None entries for missing optional inputs; names in
    ``consts`` become initializers."""
    vis, names, inits, feeds = [], [], [], {}
    for name, arr in inputs:
        if arr is None:
            names.append("")
            continue
        names.append(name)
        if name in consts:
            inits.append(numpy_helper.from_array(arr, name))
        else:
            elem = helper.np_dtype_to_tensor_dtype(arr.dtype)
            vis.append(helper.make_tensor_value_info(name, elem, arr.shape))
            feeds[name] = arr
    outs = [f"y{i}" for i in range(n_out)]
    node = helper.make_node(op, names, outs, **(attrs or {}))
    g = helper.make_graph([node], "g", vis, [helper.make_empty_tensor_value_info(o) for o in outs],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 10
    return m.SerializeToString(), feeds


def _both(op, inputs, attrs=None, opset=21, n_out=1, consts=()):
    m, feeds = _build(op, inputs, attrs, opset, n_out, consts)
    exp = ort.InferenceSession(m, providers=["CPUExecutionProvider"]).run(None, feeds)
    got = onnxrun.InferenceSession(m).run(None, feeds)
    return exp, got


def _mine(op, inputs, attrs=None, opset=21, n_out=1):
    m, feeds = _build(op, inputs, attrs, opset, n_out)
    return onnxrun.InferenceSession(m).run(None, feeds)


def _same(exp, got):
    for e, g in zip(exp, got):
        assert e.dtype == g.dtype and e.shape == g.shape
        np.testing.assert_array_equal(g, e)


def u8(*s):
    return RNG.integers(0, 256, s).astype(np.uint8)


def i8(*s):
    # 7-bit values: onnxruntime's u8*s8 kernels saturate int16 pair sums on full-range weights
    return RNG.integers(-64, 64, s).astype(np.int8)


f32 = np.float32


@pytest.mark.parametrize("attrs", [
    {}, dict(pads=[1, 1, 1, 1], strides=[2, 2]), dict(auto_pad="SAME_UPPER", strides=[2, 1]),
    dict(pads=[2, 1, 0, 1], dilations=[2, 2]), dict(group=2, pads=[0, 1, 2, 1])])
@pytest.mark.parametrize("const", [False, True])
def test_qlinearconv(attrs, const):
    x, w = u8(2, 4, 7, 6), i8(6, 4 // attrs.get("group", 1), 3, 3)
    ins = [("x", x), ("xs", f32(0.02)), ("xz", np.uint8(128)), ("w", w),
           ("ws", RNG.uniform(0.001, 0.01, 6).astype(f32)), ("wz", np.zeros(6, np.int8)),
           ("ys", f32(0.15)), ("yz", np.uint8(120)),
           ("B", RNG.integers(-500, 500, 6).astype(np.int32))]
    ins = [(n, np.asarray(a)) for n, a in ins]
    _same(*_both("QLinearConv", ins, attrs, opset=10, consts=("w", "wz") if const else ()))


@pytest.mark.parametrize("attrs", [{}, dict(pads=[2, 1], strides=[3])])
def test_convinteger_1d(attrs):
    ins = [("x", u8(2, 3, 11)), ("w", u8(4, 3, 3)), ("xz", np.asarray(np.uint8(7))),
           ("wz", np.asarray(np.uint8(3)))]
    _same(*_both("ConvInteger", ins, attrs, opset=10))


def test_convinteger_3d_large_values_exact():
    ins = [("x", u8(1, 8, 5, 5, 5)), ("w", u8(2, 8, 3, 3, 3))]
    exp, got = _both("ConvInteger", ins, dict(pads=[1] * 6), opset=10)
    _same(exp, got)


def test_matmulinteger_zero_points():
    a, b = u8(3, 5, 7), i8(7, 4)
    ins = [("a", a), ("b", b), ("az", np.asarray(np.uint8(11))),
           ("bz", RNG.integers(-5, 5, 4).astype(np.int8))]
    _same(*_both("MatMulInteger", ins, opset=10))


@pytest.mark.parametrize("dt", [np.uint8, np.int8])
def test_qlinearmatmul(dt):
    a = u8(2, 3, 8) if dt == np.uint8 else i8(2, 3, 8)
    b = u8(8, 5) if dt == np.uint8 else i8(8, 5)
    ins = [("a", a), ("as", np.asarray(f32(0.03))), ("az", np.asarray(dt(3))), ("b", b),
           ("bs", np.asarray(f32(0.02))), ("bz", np.asarray(dt(1))),
           ("ys", np.asarray(f32(0.2))), ("yz", np.asarray(dt(5)))]
    _same(*_both("QLinearMatMul", ins, opset=10))


@pytest.mark.parametrize("zp", [np.uint8(3), np.int8(-4), np.uint16(100), np.int16(-7)])
def test_quantize_per_axis(zp):
    x = RNG.standard_normal((3, 4, 5)).astype(f32) * 50
    x[0, 0, :3] = [0.5, 1.5, 2.5]  # ties round to even
    ins = [("x", x), ("s", np.array([0.5, 1.0, 0.25, 2.0], f32)),
           ("z", np.full(4, zp, dtype=np.asarray(zp).dtype))]
    _same(*_both("QuantizeLinear", ins, dict(axis=1)))


def test_quantize_blocked_int4_and_dequantize():
    x = RNG.standard_normal((4, 6)).astype(f32) * 4
    s = RNG.uniform(0.3, 1.0, (4, 2)).astype(f32)
    z = np.array([[1, -2]] * 4, dtype=ml_dtypes.int4)
    (q,) = _mine("QuantizeLinear", [("x", x), ("s", s), ("z", z)], dict(axis=1, block_size=3))
    full_s, full_z = np.repeat(s, 3, axis=1), np.repeat(z.astype(f32), 3, axis=1)
    want = np.clip(np.rint(x / full_s) + full_z, -8, 7)
    assert q.dtype == ml_dtypes.int4
    np.testing.assert_array_equal(q.astype(f32), want)
    (y,) = _mine("DequantizeLinear", [("q", q), ("s", s), ("z", z)], dict(axis=1, block_size=3))
    np.testing.assert_allclose(y, (want - full_z) * full_s, rtol=1e-6)


@pytest.mark.parametrize("sat", [0, 1])
def test_quantize_float8_saturate(sat):
    x = np.array([0, 1.3, -2.7, 500, -1e6, np.inf, -np.inf, np.nan], f32)
    z = np.zeros((), dtype=ml_dtypes.float8_e4m3fn)
    (got,) = _mine("QuantizeLinear", [("x", x), ("s", np.asarray(f32(1))), ("z", z)],
                   dict(saturate=sat), opset=19)
    big = [448, -448, 448, -448] if sat else [np.nan] * 4
    want = np.array([0, 1.25, -2.75] + big + [np.nan], f32)
    np.testing.assert_array_equal(got.astype(f32), want)
    z5 = np.zeros((), dtype=ml_dtypes.float8_e5m2)
    (got,) = _mine("QuantizeLinear", [("x", x), ("s", np.asarray(f32(1))), ("z", z5)],
                   dict(saturate=sat), opset=19)
    big = [512, -57344, 57344, -57344] if sat else [512, -np.inf, np.inf, -np.inf]
    np.testing.assert_array_equal(got.astype(f32)[3:7], np.array(big, f32))


def test_dequantize_int32_float16_scale():
    x = RNG.integers(-10**6, 10**6, 10).astype(np.int32)
    exp, got = _both("DequantizeLinear", [("x", x), ("s", np.asarray(np.float16(0.01)))])
    assert got[0].dtype == np.float16
    np.testing.assert_allclose(got[0].astype(f32), exp[0].astype(f32), rtol=1e-3)


@pytest.mark.parametrize("x", [np.zeros(5, f32), -np.arange(1, 6, dtype=f32),
                               np.arange(6, dtype=f32).reshape(2, 3) * 1.7 - 2])
def test_dynamicquantizelinear(x):
    exp, got = _both("DynamicQuantizeLinear", [("x", x)], opset=11, n_out=3)
    _same(exp, got)


def test_bad_scale_shape():
    x = np.zeros((2, 3), f32)
    with pytest.raises(InvalidArgument, match="y_scale"):
        _mine("QuantizeLinear", [("x", x), ("s", np.ones(5, f32))], dict(axis=1))


def test_bad_block_shape():
    x = np.zeros((2, 6), f32)
    with pytest.raises(InvalidArgument, match="block_size"):
        _mine("DequantizeLinear", [("x", np.zeros((2, 6), np.int8)), ("s", np.ones((2, 4), f32))],
              dict(axis=1, block_size=3))
