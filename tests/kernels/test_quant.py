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


# ---- constant-weight fast path (kernels/quant/_float_exact.py): exact at float32 speed -------

def _int_conv(x, xzp, w, wzp, group=1, pads=(0, 0, 0, 0), strides=(1, 1)):
    """Integer reference: int64 arithmetic, 2-D, NCHW."""
    xi = x.astype(np.int64) - int(xzp)
    wi = w.astype(np.int64) - (wzp.astype(np.int64).reshape(-1, 1, 1, 1) if np.ndim(wzp)
                                else int(wzp))
    xi = np.pad(xi, [(0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])])
    N, C, H, W = xi.shape
    M, Cg, kh, kw = wi.shape
    oh, ow = (H - kh) // strides[0] + 1, (W - kw) // strides[1] + 1
    y = np.zeros((N, M, oh, ow), np.int64)
    Mg = M // group
    for g in range(group):
        xs = xi[:, g * Cg:(g + 1) * Cg]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i:i + strides[0] * oh:strides[0], j:j + strides[1] * ow:strides[1]]
                y[:, g * Mg:(g + 1) * Mg] += np.einsum("nchw,mc->nmhw", patch,
                                                       wi[g * Mg:(g + 1) * Mg, :, i, j])
    return y.astype(np.int32)


@pytest.mark.parametrize("C,M,k,group,extreme", [
    (960, 160, 1, 1, True),     # 1x1 with a long sum: chunks of input channels
    (128, 128, 3, 1, True),     # a float Conv of this shape may take Winograd; not here
    (256, 64, 3, 1, False),     # kn2row's shape
    (32, 32, 3, 32, True),      # depthwise
    (64, 32, 5, 1, True),       # im2col, chunked
    (512, 64, 3, 4, True),      # grouped with long per-group sums: the float64 path
])
def test_convinteger_constant_weights_exact(C, M, k, group, extreme):
    if extreme:  # every product at its largest magnitude: partial sums far beyond 2**24
        x = np.full((1, C, 9, 9), 255, np.uint8)
        w = np.full((M, C // group, k, k), -128, np.int8)
        xzp, wzp = np.uint8(0), np.int8(127)
    else:
        x = u8(1, C, 9, 9)
        w = RNG.integers(-128, 128, (M, C // group, k, k)).astype(np.int8)
        xzp, wzp = np.uint8(128), np.int8(3)
    pads = [k // 2] * 4
    m, feeds = _build("ConvInteger", [("x", x), ("w", w), ("xz", np.array(xzp)),
                                      ("wz", np.array(wzp))],
                      {"group": group, "pads": pads}, consts=("w", "wz"))
    got = onnxrun.InferenceSession(m).run(None, feeds)[0]
    np.testing.assert_array_equal(got, _int_conv(x, xzp, w, wzp, group, pads))


@pytest.mark.parametrize("K", [64, 768, 3072])
@pytest.mark.parametrize("zp_form", ["scalar", "per_column", "none"])
def test_matmulinteger_constant_b_exact(K, zp_form):
    N = 96
    a = u8(2, 17, K)
    b = RNG.integers(-128, 128, (K, N)).astype(np.int8)
    b[: K // 2] = -128  # long runs of the largest products
    a[..., : K // 2] = 255
    inputs = [("a", a), ("b", b), ("az", np.array(7, np.uint8))]
    bz = {"scalar": np.array(5, np.int8), "per_column": RNG.integers(-3, 3, N).astype(np.int8),
          "none": None}[zp_form]
    inputs.append(("bz", bz))
    m, feeds = _build("MatMulInteger", inputs, consts=("b", "bz"))
    got = onnxrun.InferenceSession(m).run(None, feeds)[0]
    ref = (a.astype(np.int64) - 7) @ (b.astype(np.int64) - (0 if bz is None else
                                                           bz.astype(np.int64)))
    np.testing.assert_array_equal(got, ref.astype(np.int32))
    exp = ort.InferenceSession(m, providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    np.testing.assert_array_equal(got, exp)


def test_qlinear_ops_constant_weights_match_onnxruntime():
    x = u8(1, 64, 12, 12)
    w = RNG.integers(-128, 128, (48, 64, 3, 3)).astype(np.int8)
    f = lambda v: np.array(v, np.float32)  # noqa: E731
    inputs = [("x", x), ("xs", f(0.02)), ("xz", np.array(120, np.uint8)), ("w", w),
              ("ws", f(0.01)), ("wz", np.array(0, np.int8)), ("ys", f(0.5)),
              ("yz", np.array(128, np.uint8))]
    exp, got = _both("QLinearConv", inputs, {"pads": [1, 1, 1, 1]},
                     consts=("w", "ws", "wz"))
    np.testing.assert_allclose(got[0].astype(int), exp[0].astype(int), atol=1)
    a = u8(30, 700)
    b = RNG.integers(-128, 128, (700, 50)).astype(np.int8)
    inputs = [("a", a), ("as", f(0.02)), ("az", np.array(100, np.uint8)), ("b", b),
              ("bs", f(0.01)), ("bz", np.array(0, np.int8)), ("ys", f(2.0)),
              ("yz", np.array(10, np.uint8))]
    exp, got = _both("QLinearMatMul", inputs, consts=("b", "bs", "bz"))
    np.testing.assert_allclose(got[0].astype(int), exp[0].astype(int), atol=1)
