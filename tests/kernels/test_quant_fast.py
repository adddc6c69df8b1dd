"""The fast paths of the quantization kernels against the general formulas and onnxruntime:
blocked per-tensor Quantize/DequantizeLinear (rounding ties, saturation, NaN, infinities, zero
scales, 0-d, empty, non-contiguous and multi-threaded inputs), QLinearConv's float32
requantization (biases past 2**24, per-channel scales), weights whose sums need chunks, and
the Numba provider's integer convs against the CPU provider's, bit for bit."""

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxrun
from onnxrun.kernels.quant._float_exact import EXACT, sum_chunks

ort = pytest.importorskip("onnxruntime")
RNG = np.random.default_rng(11)
CPU = ["CPUExecutionProvider"]


def _c(name, value, dtype=None):
    return numpy_helper.from_array(np.array(value, dtype), name)


def _model(nodes, inputs, outputs, inits=(), opset=21):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                             ir_version=10).SerializeToString()


def _run(model, feeds, threads=1, providers=None):
    so = onnxrun.SessionOptions()
    so.intra_op_num_threads = threads
    return onnxrun.InferenceSession(model, so, providers=providers).run(None, feeds)


def _quantize_ref(x, s, z, dt):
    """QuantizeLinear's formula: float32 x / s, round half to even, + z, saturate, NaN ->
    the type's minimum."""
    info = np.iinfo(dt)
    with np.errstate(all="ignore"):
        q = np.rint(x / np.float32(s)) + np.float32(z)
    return np.minimum(np.fmax(q, info.min), info.max).astype(dt)


@pytest.mark.parametrize("dt,z", [(np.uint8, 128), (np.int8, -7), (np.int16, 300),
                                  (np.uint16, 0)])
@pytest.mark.parametrize("scale", [0.037, 0.0, -0.5, np.inf])
def test_quantize_and_dequantize_per_tensor(dt, z, scale):
    x = (RNG.standard_normal(5000) * 300).astype(np.float32)
    x[:8] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 3e38, -3e38, 1e-30]
    x[8:200] = (np.arange(-96, 96) + 0.5) * np.float32(0.037)  # ties
    f = helper.make_tensor_value_info
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dt))
    inits = [_c("s", scale, np.float32), _c("z", z, dt)]
    q = _model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"])],
               [f("x", TensorProto.FLOAT, None)], [f("y", elem, None)], inits)
    for xx in (x, x.reshape(50, 100)[:, ::3], np.float32(x[0]), x[:0]):  # strided, 0-d, empty
        xx = np.asarray(xx)
        got = _run(q, {"x": xx})[0]
        assert got.dtype == dt and got.shape == xx.shape
        np.testing.assert_array_equal(got, _quantize_ref(xx, scale, z, dt))
    if scale == 0.037:
        np.testing.assert_array_equal(
            _run(q, {"x": x})[0],
            ort.InferenceSession(q, providers=CPU).run(None, {"x": x})[0])
        codes = np.arange(np.iinfo(dt).min, np.iinfo(dt).max + 1).astype(dt)  # every code
        d = _model([helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"])],
                   [f("q", elem, None)], [f("y", TensorProto.FLOAT, None)], inits)
        got = _run(d, {"q": codes})[0]
        want = (codes.astype(np.float32) - np.float32(z)) * np.float32(scale)
        assert got.tobytes() == want.tobytes()
        np.testing.assert_array_equal(
            got, ort.InferenceSession(d, providers=CPU).run(None, {"q": codes})[0])


def test_large_tensors_split_over_threads_give_the_same_bits():
    x = (RNG.standard_normal((3, 1000, 300)) * 4).astype(np.float32)
    f = helper.make_tensor_value_info
    m = _model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
                helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"])],
               [f("x", TensorProto.FLOAT, None)],
               [f("y", TensorProto.FLOAT, None), f("q", TensorProto.INT8, None)],
               [_c("s", 0.02, np.float32), _c("z", 3, np.int8)])
    one, two = _run(m, {"x": x}, 1), _run(m, {"x": x}, 2)
    np.testing.assert_array_equal(one[1], _quantize_ref(x, 0.02, 3, np.int8))
    for a, b in zip(one, two):
        assert a.tobytes() == b.tobytes()


def _qlinear_conv(w, B, ws, group=1, pads=(1, 1, 1, 1), yz=(128, np.uint8)):
    M = w.shape[0]
    inits = [_c("xs", 0.02, np.float32), _c("xz", 120, np.uint8),
             numpy_helper.from_array(w, "w"), numpy_helper.from_array(ws, "ws"),
             numpy_helper.from_array(np.zeros(M, w.dtype), "wz"), _c("ys", 0.3, np.float32),
             _c("yz", yz[0], yz[1])]
    names = ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"]
    if B is not None:
        inits.append(numpy_helper.from_array(B, "B"))
        names.append("B")
    f = helper.make_tensor_value_info
    node = helper.make_node("QLinearConv", names, ["y"], pads=list(pads), group=group)
    return _model([node], [f("x", TensorProto.UINT8, None)],
                  [f("y", helper.np_dtype_to_tensor_dtype(np.dtype(yz[1])), None)], inits,
                  opset=13)


def _int_conv(x, xz, w, pads, group):
    """Exact integer reference (int64, 2-D)."""
    xi = np.pad(x.astype(np.int64) - xz, [(0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])])
    M, Cg, kh, kw = w.shape
    N, C, H, W = xi.shape
    oh, ow = H - kh + 1, W - kw + 1
    y = np.zeros((N, M, oh, ow), np.int64)
    for g in range(group):
        for i in range(kh):
            for j in range(kw):
                y[:, g * (M // group):(g + 1) * (M // group)] += np.einsum(
                    "nchw,mc->nmhw", xi[:, g * Cg:(g + 1) * Cg, i:i + oh, j:j + ow],
                    w[g * (M // group):(g + 1) * (M // group), :, i, j].astype(np.int64))
    return y


@pytest.mark.parametrize("C,M,k,group", [(16, 24, 1, 1), (8, 8, 3, 8), (32, 32, 5, 32),
                                         (12, 6, 3, 3), (512, 8, 3, 1)])
@pytest.mark.parametrize("yz", [(128, np.uint8), (-5, np.int8)])
def test_qlinearconv_requantization_exact(C, M, k, group, yz):
    w = RNG.integers(-128, 128, (M, C // group, k, k)).astype(np.int8)
    if C == 512:
        w[:] = -128  # sums past 2**24: chunks of input channels, float64 accumulators
    B = RNG.integers(-2 ** 20, 2 ** 20, M).astype(np.int32)
    B[0] = 2 ** 25 + 3  # not exact in float32: added in float64
    ws = RNG.uniform(1e-4, 1e-3, M).astype(np.float32)
    pads = (k // 2,) * 4
    m = _qlinear_conv(w, B, ws, group, pads, yz)
    x = RNG.integers(0, 256, (2, C, 7, 9)).astype(np.uint8)
    acc = _int_conv(x, 120, w, pads, group) + B.reshape(1, M, 1, 1)
    mult = (np.float32(0.02) * ws / np.float32(0.3)).astype(np.float32).reshape(1, M, 1, 1)
    info = np.iinfo(yz[1])
    want = np.clip(np.rint(acc.astype(np.float32) * mult) + np.float32(yz[0]), info.min,
                   info.max).astype(yz[1])
    got_cpu = _run(m, {"x": x}, providers=CPU)[0]
    np.testing.assert_array_equal(got_cpu, want)
    got = _run(m, {"x": x}, threads=2)[0]  # the Numba provider's kernels where it has them
    np.testing.assert_array_equal(got, want)


def test_qlinearconv_matches_onnxruntime_without_bias():
    w = RNG.integers(-64, 64, (16, 1, 3, 3)).astype(np.int8)
    m = _qlinear_conv(w, None, np.full(16, 0.004, np.float32), group=16)
    x = RNG.integers(0, 256, (1, 16, 10, 10)).astype(np.uint8)
    np.testing.assert_array_equal(_run(m, {"x": x})[0],
                                  ort.InferenceSession(m, providers=CPU).run(None, {"x": x})[0])


def test_sum_chunks_keep_every_column_exact():
    w = RNG.integers(-128, 128, (3000, 40)).astype(np.float32)
    w[:200, 3] = -128  # one crowded column
    pieces = sum_chunks(w, 255)
    assert pieces[0][0] == 0 and pieces[-1][1] == 3000 and len(pieces) > 1
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
    for lo, hi in pieces:
        assert 255 * np.abs(w[lo:hi]).sum(axis=0).max() < EXACT
    assert sum_chunks(w[:100], 255) == [(0, 100)]
    assert sum_chunks(np.full((2, 2), 70000.0, np.float32), 255) is None  # one row too big


def test_requantization_adds_a_large_bias_with_one_rounding():
    """A bias float32 cannot hold: acc + bias must be rounded once (float64 sum), not twice;
    the multiplier is picked so that the two roundings requantize differently."""
    from onnxrun.kernels.quant._blocked import requantize_rows
    acc = np.ones((1, 1, 1, 1), np.float32)
    bias = np.array([2 ** 25 + 2], np.int32)
    once = np.float32(np.float64(1) + bias[0])  # 2**25 + 4
    twice = np.float32(np.float32(bias[0]) + np.float32(1))  # 2**25
    mult = np.float32(127.5 / float(2 ** 25 + 2))
    while np.rint(once * mult) == np.rint(twice * mult):
        mult = np.nextafter(mult, np.float32(1))
    want = np.rint(once * mult).astype(np.uint8)
    got = requantize_rows(acc.copy(), bias, mult, np.float32(0), np.uint8, None)
    assert got.reshape(()) == want


def test_microsoft_exact_matmul_chunks_by_column_sums():
    from onnxrun.kernels.microsoft._quant import exact_matmul, int_matrix
    for K, extreme in ((384, False), (3000, True)):
        w = RNG.integers(-128, 128, (2, K, 12))
        if extreme:
            w[:, : K // 2] = -128  # sums far past 2**24: several chunks, float64 sums
        a = RNG.integers(-255, 256, (2, 5, K))
        a[..., : K // 2] = 255
        b = int_matrix(w.astype(np.float32))
        assert (len(b.chunks) > 1) == extreme
        got = exact_matmul(a.astype(np.float32), b)
        assert got.dtype == (np.float64 if extreme else np.float32)
        np.testing.assert_array_equal(got, a @ w)
