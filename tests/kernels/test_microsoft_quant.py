"""com.microsoft quantization kernels, one node at a time, against onnxruntime (bit-exact
where onnxruntime's integer outputs are deterministic) and error cases. MatMulNBits is in
test_microsoft_matmul_nbits.py, whole quantized models in test_microsoft_quant_models.py."""

import ml_dtypes
import numpy as np
import pytest

import onnxrun
from onnxrun.errors import InvalidArgument, OnnxRuntimeError

from ._msq import (F32, assert_close, assert_same, node_model, ort_session, q8, run_both, scale,
                   zp)

RNG = np.random.default_rng(20)
Q8 = (np.uint8, np.int8)


def _mine(model, feeds):
    return onnxrun.InferenceSession(model).run(None, feeds)


# ---- QLinearAdd / QLinearMul ---------------------------------------------------------------
@pytest.mark.parametrize("op", ["QLinearAdd", "QLinearMul"])
@pytest.mark.parametrize("dt", Q8)
def test_qlinear_binary_all_code_pairs(op, dt):
    """Every (A, B) code pair for a few scale sets: exact float arithmetic of onnxruntime."""
    codes = np.arange(256, dtype=np.uint8).view(dt)
    a, b = np.repeat(codes, 256), np.tile(codes, 256)
    for _ in range(4):
        m, f = node_model(op, [("A", a, False), ("sa", scale(RNG), True), ("za", zp(RNG, dt), True),
                               ("B", b, False), ("sb", scale(RNG), True), ("zb", zp(RNG, dt), True),
                               ("sc", scale(RNG), True), ("zc", zp(RNG, dt), True)])
        assert_same(*run_both(m, f))


@pytest.mark.parametrize("op", ["QLinearAdd", "QLinearMul"])
@pytest.mark.parametrize("shapes", [((3, 4, 5), (5,)), ((3, 4, 5), (4, 1)), ((3, 1, 5), (1, 4, 1)),
                                    ((1,), (3, 256)), ((256, 3), ()), ((2, 3, 1), (3, 1)),
                                    ((64, 64), (64, 1))])
def test_qlinear_binary_broadcast(op, shapes):
    """Broadcast spans where one side is a scalar take onnxruntime's operand swap."""
    dt = np.uint8
    m, f = node_model(op, [("A", q8(RNG, dt, *shapes[0]), False), ("sa", scale(RNG), True),
                           ("za", zp(RNG, dt), True), ("B", q8(RNG, dt, *shapes[1]), False),
                           ("sb", scale(RNG), True), ("zb", zp(RNG, dt), True),
                           ("sc", scale(RNG), True), ("zc", zp(RNG, dt), True)])
    assert_same(*run_both(m, f))


# scale/zero-point sets where A-as-span-scalar rounds differently with and without
# onnxruntime's operand swap (found by search; random sets differ about one time in 15)
SWAP_SENSITIVE = [(0.050637777894735336, 0.035331789404153824, 0.041474826633930206, 208, 161,
                   139),
                  (0.0405571423470974, 0.051602985709905624, 0.010746631771326065, 188, 33, 186),
                  (0.051371198147535324, 0.0533963106572628, 0.005735315382480621, 30, 221, 21)]


@pytest.mark.parametrize("params", SWAP_SENSITIVE)
@pytest.mark.parametrize("scalar_side", [0, 1])
def test_qlinear_add_scalar_span_operand_order(params, scalar_side):
    """Every code pair with one side a scalar per broadcast span: onnxruntime swaps the
    operands when A is the scalar, which changes the float rounding."""
    dt = np.uint8
    sa, sb, sc, za, zb, zc = params
    codes = np.arange(256, dtype=np.uint8)
    full, col = np.tile(codes, (256, 1)), codes.reshape(256, 1)
    a, b = (col, full) if scalar_side == 0 else (full, col)
    if scalar_side == 1:  # the same parameters seen from the other side
        sa, sb, za, zb = sb, sa, zb, za
    m, f = node_model("QLinearAdd", [
        ("A", a, False), ("sa", np.array(sa, F32), True), ("za", np.array(za, dt), True),
        ("B", b, False), ("sb", np.array(sb, F32), True), ("zb", np.array(zb, dt), True),
        ("sc", np.array(sc, F32), True), ("zc", np.array(zc, dt), True)])
    assert_same(*run_both(m, f))


def test_qlinear_add_runtime_scales_default_c_zero_point():
    """Scales fed at run time; C_zero_point left out (0, output uint8). (onnxruntime's type
    inference rejects an omitted A/B zero point, so those are covered on onnxrun alone.)"""
    dt = np.uint8
    m, f = node_model("QLinearAdd", [("A", q8(RNG, dt, 4, 8), False), ("sa", scale(RNG), False),
                                     ("za", zp(RNG, dt), True), ("B", q8(RNG, dt, 8), False),
                                     ("sb", scale(RNG), False), ("zb", zp(RNG, dt), True),
                                     ("sc", scale(RNG), False)])
    assert_same(*run_both(m, f))
    a, b = q8(RNG, dt, 5), q8(RNG, dt, 5)
    m, f = node_model("QLinearAdd", [("A", a, False), ("sa", np.array(0.5, F32), True),
                                     ("za", None, True), ("B", b, False),
                                     ("sb", np.array(0.25, F32), True), ("zb", None, True),
                                     ("sc", np.array(0.5, F32), True)])
    want = np.clip(np.rint(a.astype(np.float64) + b / 2.0), 0, 255).astype(dt)
    np.testing.assert_array_equal(_mine(m, f)[0], want)


@pytest.mark.parametrize("op", ["QLinearAdd", "QLinearMul"])
def test_qlinear_binary_infinite_scales_like_onnxruntime(op):
    """Quantizers write an infinite scale for tensors holding -inf (a causal mask); the NaNs
    that follow become the type's minimum in onnxruntime, and so in onnxrun."""
    dt = np.int8
    inf = np.array(np.inf, F32)
    m, f = node_model(op, [("A", q8(RNG, dt, 4, 8), False), ("sa", scale(RNG), True),
                           ("za", np.array(0, dt), True), ("B", q8(RNG, dt, 8), False),
                           ("sb", inf, True), ("zb", np.array(0, dt), True), ("sc", inf, True),
                           ("zc", np.array(0, dt), True)])
    assert_same(*run_both(m, f))


# ---- lookup-table activations --------------------------------------------------------------
@pytest.mark.parametrize("op,attrs", [("QLinearSigmoid", {}), ("QLinearLeakyRelu", {"alpha": 0.2}),
                                      ("QLinearLeakyRelu", {})])
@pytest.mark.parametrize("dt", Q8)
@pytest.mark.parametrize("const", [True, False])
def test_qlinear_lookup_all_codes(op, attrs, dt, const):
    """All 256 codes; constant parameters build the table at init, fed ones per run. The
    sigmoid is exact where onnxruntime approximates it: off-by-one is possible in principle
    (never seen on these scales), so sigmoid allows 1."""
    x = np.arange(256, dtype=np.uint8).view(dt).reshape(16, 16)
    for _ in range(6):
        ys = np.array(RNG.random() * 0.01 + 1 / 300, F32) if op == "QLinearSigmoid" else scale(RNG)
        m, f = node_model(op, [("X", x, False), ("sx", scale(RNG, lo=0.01, hi=0.1), const),
                               ("zx", zp(RNG, dt), const), ("sy", ys, const),
                               ("zy", zp(RNG, dt), const)], attrs)
        exp, got = run_both(m, f)
        if op == "QLinearSigmoid":
            assert got[0].dtype == dt
            np.testing.assert_allclose(got[0].astype(int), exp[0].astype(int), atol=1)
        else:
            assert_same(exp, got)


# ---- QLinearSoftmax ------------------------------------------------------------------------
@pytest.mark.parametrize("dt", Q8)
@pytest.mark.parametrize("opset,axis,shape", [(13, None, (4, 10)), (13, 1, (2, 5, 3)),
                                              (12, 1, (2, 5, 3)), (11, None, (3, 4, 6)),
                                              (12, 2, (2, 3, 4, 5)), (13, 0, (300, 2))])
def test_qlinear_softmax(dt, opset, axis, shape):
    """opset < 13 normalizes everything from ``axis``; >= 13 along ``axis``; the default axis
    is -1 for both; int8 saturates (y_scale 1/256 with zero point -128 reaches 128)."""
    info = np.iinfo(dt)
    for ys, yz in ((1 / 256, info.min), (0.003, 0)):
        attrs = {"opset": opset} if axis is None else {"opset": opset, "axis": axis}
        m, f = node_model("QLinearSoftmax", [
            ("X", q8(RNG, dt, *shape), False), ("xs", scale(RNG, lo=0.01, hi=0.2), True),
            ("xz", zp(RNG, dt), True), ("ys", np.array(ys, F32), True),
            ("yz", np.array(yz, dt), True)], attrs)
        assert_same(*run_both(m, f))


def test_qlinear_softmax_long_rows_sum_in_order():
    """Rows of 1000 (the row sum accumulates left to right like onnxruntime's loop; a pairwise
    sum rounds it differently, though no random case tried flipped an output)."""
    for dt in Q8:
        m, f = node_model("QLinearSoftmax", [
            ("X", q8(RNG, dt, 64, 1000), False), ("xs", np.array(0.02, F32), True),
            ("xz", zp(RNG, dt), True), ("ys", np.array(1 / 256, F32), True),
            ("yz", np.array(np.iinfo(dt).min, dt), True)], {"opset": 13})
        assert_same(*run_both(m, f))


def test_qlinear_softmax_runtime_scale_and_dynamic_shape():
    m, f = node_model("QLinearSoftmax", [
        ("X", q8(RNG, np.uint8, 3, 7), False), ("xs", np.array(0.07, F32), False),
        ("xz", None, True), ("ys", np.array(1 / 256, F32), True),
        ("yz", np.array(0, np.uint8), True)], {"opset": 13})
    assert_same(*run_both(m, f))


# ---- QLinearConcat -------------------------------------------------------------------------
@pytest.mark.parametrize("dt", Q8)
def test_qlinear_concat(dt):
    """Inputs requantized through tables, a plain copy where the parameters equal Y's, and a
    triple whose scale is fed at run time."""
    ys, yz = scale(RNG), zp(RNG, dt)
    ins = [("ys", ys, True), ("yz", yz, True),
           ("x0", q8(RNG, dt, 2, 3, 4), False), ("s0", scale(RNG), True), ("z0", zp(RNG, dt), True),
           ("x1", q8(RNG, dt, 2, 5, 4), False), ("s1", ys, True), ("z1", yz, True),
           ("x2", q8(RNG, dt, 2, 1, 4), False), ("s2", scale(RNG), False), ("z2", zp(RNG, dt), True)]
    m, f = node_model("QLinearConcat", ins, {"axis": 1})
    assert_same(*run_both(m, f))
    m, f = node_model("QLinearConcat", ins[:5] + [("x1", q8(RNG, dt, 2, 3, 2), False),
                                                  ("s1", scale(RNG), True),
                                                  ("z1", zp(RNG, dt), True)], {"axis": -1})
    assert_same(*run_both(m, f))


# ---- pools ---------------------------------------------------------------------------------
POOLS = [dict(kernel_shape=[3, 3]), dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
         dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1),
         dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1, count_include_pad=1,
              pads=[1, 1, 1, 1]),
         dict(kernel_shape=[3, 2], auto_pad="SAME_UPPER", strides=[2, 1]),
         dict(kernel_shape=[3, 2], auto_pad="SAME_LOWER", count_include_pad=1),
         dict(kernel_shape=[2, 3], auto_pad="VALID"),
         dict(kernel_shape=[5, 6])]  # the whole map: onnxruntime's integer global path


@pytest.mark.parametrize("attrs", POOLS)
@pytest.mark.parametrize("cl", [0, 1])
def test_qlinear_average_pool_2d(attrs, cl):
    dt = np.int8 if cl else np.uint8
    x = q8(RNG, dt, 2, 5, 6, 3) if cl else q8(RNG, dt, 2, 3, 5, 6)
    m, f = node_model("QLinearAveragePool", [
        ("X", x, False), ("xs", scale(RNG), True), ("xz", zp(RNG, dt), True),
        ("ys", scale(RNG), True), ("yz", zp(RNG, dt), True)], dict(attrs, channels_last=cl))
    assert_same(*run_both(m, f))


def test_qlinear_average_pool_rounds_after_adding_zero_point():
    """onnxruntime rounds ``mean / y_scale + y_zp`` (one float32 sum, then rint), which differs
    from ``rint(mean / y_scale) + y_zp`` when the sum loses the fraction's low bits."""
    for dt, zy in ((np.uint8, 250), (np.int8, -120)):
        m, f = node_model("QLinearAveragePool", [
            ("X", q8(RNG, dt, 1, 16, 64, 64), False), ("xs", np.array(0.0173, F32), True),
            ("xz", zp(RNG, dt), True), ("ys", np.array(0.0071, F32), True),
            ("yz", np.array(zy, dt), True)], {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]})
        assert_same(*run_both(m, f))


@pytest.mark.parametrize("attrs,shape", [(dict(kernel_shape=[3], strides=[2]), (2, 3, 7)),
                                         (dict(kernel_shape=[2, 2, 2], pads=[1, 0, 1, 0, 1, 1]),
                                          (1, 2, 4, 5, 3))])
@pytest.mark.parametrize("cl", [0, 1])
def test_qlinear_average_pool_1d_3d(attrs, shape, cl):
    x = q8(RNG, np.uint8, *shape)
    if cl:
        x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    m, f = node_model("QLinearAveragePool", [
        ("X", x, False), ("xs", scale(RNG), True), ("xz", zp(RNG, np.uint8), True),
        ("ys", scale(RNG), True), ("yz", zp(RNG, np.uint8), True)], dict(attrs, channels_last=cl))
    assert_same(*run_both(m, f))


@pytest.mark.parametrize("dt", Q8)
@pytest.mark.parametrize("cl", [0, 1])
@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (1, 4, 9), (1, 8, 40, 40)])
def test_qlinear_global_average_pool(dt, cl, shape):
    m, f = node_model("QLinearGlobalAveragePool", [
        ("X", q8(RNG, dt, *shape), False), ("xs", scale(RNG), True), ("xz", zp(RNG, dt), True),
        ("ys", scale(RNG), True), ("yz", zp(RNG, dt), True)], {"channels_last": cl})
    assert_same(*run_both(m, f))


def test_qlinear_global_average_pool_scale_out_of_range():
    """x_scale / (y_scale * size) must be in [2**-32, 256), as onnxruntime requires."""
    m, f = node_model("QLinearGlobalAveragePool", [
        ("X", q8(RNG, np.uint8, 1, 2, 2, 2), False), ("xs", np.array(10.0, F32), True),
        ("xz", np.array(0, np.uint8), True), ("ys", np.array(0.001, F32), True),
        ("yz", np.array(0, np.uint8), True)])
    with pytest.raises(InvalidArgument, match="computable range"):
        _mine(m, f)


# ---- QGemm ---------------------------------------------------------------------------------
@pytest.mark.parametrize("adt,bdt", [(np.uint8, np.uint8), (np.uint8, np.int8), (np.int8, np.int8)])
@pytest.mark.parametrize("trans", [(0, 0), (1, 1)])
@pytest.mark.parametrize("percol", [False, True])
@pytest.mark.parametrize("float_out", [False, True])
def test_qgemm(adt, bdt, trans, percol, float_out):
    """K = 600: products of 255 * 255 overflow float32's exact range, so the exact chunked
    product matters; C broadcast per column; float output without y_scale."""
    M, K, N = 5, 600, 7
    ta, tb = trans
    ins = [("A", q8(RNG, adt, *((K, M) if ta else (M, K))), False), ("as", scale(RNG), True),
           ("az", zp(RNG, adt), True), ("B", q8(RNG, bdt, *((N, K) if tb else (K, N))), True),
           ("bs", scale(RNG, N if percol else None), True),
           ("bz", zp(RNG, bdt, N if percol else None), True),
           ("C", RNG.integers(-5000, 5000, (N,)).astype(np.int32), True)]
    if not float_out:
        ins += [("ys", np.array(2.0, F32), True), ("yz", zp(RNG, adt), True)]
    m, f = node_model("QGemm", ins, {"transA": ta, "transB": tb, "alpha": 0.7})
    assert_same(*run_both(m, f))


def test_qgemm_runtime_b_and_no_c():
    ins = [("A", q8(RNG, np.uint8, 3, 8), False), ("as", scale(RNG), True),
           ("az", zp(RNG, np.uint8), True), ("B", q8(RNG, np.int8, 8, 4), False),
           ("bs", scale(RNG), True), ("bz", zp(RNG, np.int8), True), ("C", None, True),
           ("ys", scale(RNG), True), ("yz", zp(RNG, np.uint8), True)]
    m, f = node_model("QGemm", ins)
    assert_same(*run_both(m, f))


# ---- com.microsoft QLinearConv -------------------------------------------------------------
@pytest.mark.parametrize("xdt,wdt", [(np.uint8, np.uint8), (np.uint8, np.int8), (np.int8, np.int8)])
@pytest.mark.parametrize("cl", [0, 1])
@pytest.mark.parametrize("attrs,wshape,xshape", [
    (dict(pads=[1, 1, 1, 1]), (8, 3, 3, 3), (2, 3, 9, 9)),
    (dict(group=3, strides=[2, 2]), (6, 1, 3, 3), (1, 3, 8, 8)),
    (dict(), (4, 3, 3), (2, 3, 10))])
def test_qlinear_conv_channels_last(xdt, wdt, cl, attrs, wshape, xshape):
    x = q8(RNG, xdt, *xshape)
    if cl:
        x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    M = wshape[0]
    wz = np.zeros(M, wdt) if wdt == np.int8 else zp(RNG, wdt, M)
    m, f = node_model("QLinearConv", [
        ("x", x, False), ("xs", scale(RNG), True), ("xz", zp(RNG, xdt), True),
        ("w", q8(RNG, wdt, *wshape), True), ("ws", scale(RNG, M), True), ("wz", wz, True),
        ("ys", np.array(0.5, F32), True), ("yz", zp(RNG, xdt), True),
        ("B", RNG.integers(-1000, 1000, M).astype(np.int32), True)], dict(attrs, channels_last=cl))
    assert_same(*run_both(m, f))


# ---- DynamicQuantizeMatMul / MatMulIntegerToFloat ------------------------------------------
@pytest.mark.parametrize("bdt", Q8)
@pytest.mark.parametrize("percol,ashape,bshape", [
    (False, (3, 64), (64, 16)), (True, (3, 64), (64, 16)), (False, (2, 5, 64), (2, 64, 16)),
    (False, (4, 600), (600, 8)), (True, (4, 600), (600, 8))])
def test_dynamic_quantize_matmul(bdt, percol, ashape, bshape):
    N = bshape[-1]
    m, f = node_model("DynamicQuantizeMatMul", [
        ("A", RNG.standard_normal(ashape).astype(F32), False), ("B", q8(RNG, bdt, *bshape), True),
        ("bs", scale(RNG, N if percol else None), True),
        ("bz", zp(RNG, bdt, N if percol else None), True),
        ("bias", RNG.standard_normal(N).astype(F32), True)])
    assert_same(*run_both(m, f))


@pytest.mark.parametrize("adt,bdt", [(np.uint8, np.uint8), (np.uint8, np.int8), (np.int8, np.int8)])
@pytest.mark.parametrize("percol", [False, True])
@pytest.mark.parametrize("b_const", [True, False])
def test_matmul_integer_to_float(adt, bdt, percol, b_const):
    N = 16
    m, f = node_model("MatMulIntegerToFloat", [
        ("A", q8(RNG, adt, 3, 600), False), ("B", q8(RNG, bdt, 600, N), b_const),
        ("as", scale(RNG), True), ("bs", scale(RNG, N if percol else None), True),
        ("az", zp(RNG, adt), True), ("bz", zp(RNG, bdt, N if percol else None), True),
        ("bias", RNG.standard_normal(N).astype(F32), True)])
    assert_same(*run_both(m, f))


def test_integer_products_stay_exact_beyond_float32_range():
    """|acc| up to 1000 * 255 * 255 ~ 6.5e7 > 2**24: the product must stay exact (float32
    BLAS alone would round partial sums)."""
    K = 1000
    a = np.full((4, K), 255, np.uint8)
    a[:, ::7] = RNG.integers(200, 256, a[:, ::7].shape)
    b = np.full((K, 6), -128, np.int8)
    b[::5] = RNG.integers(-128, -100, b[::5].shape)
    m, f = node_model("MatMulIntegerToFloat", [
        ("A", a, False), ("B", b, True), ("as", np.array(1.0, F32), True),
        ("bs", np.array(1.0, F32), True), ("az", np.array(0, np.uint8), True),
        ("bz", np.array(127, np.int8), True)])
    exp, got = run_both(m, f)
    assert_same(exp, got)
    want = (a.astype(np.int64) @ (b.astype(np.int64) - 127)).astype(F32)
    np.testing.assert_array_equal(got[0], want)


def test_matmul_integer_to_float_swapped_scales():
    """A 1-D a_scale of length N with a scalar b_scale: onnxruntime takes them as exchanged by
    its fusion and applies the vector per column."""
    N = 5
    m, f = node_model("MatMulIntegerToFloat", [
        ("A", q8(RNG, np.uint8, 3, 8), False), ("B", q8(RNG, np.uint8, 8, N), True),
        ("as", scale(RNG, N), True), ("bs", scale(RNG), True), ("az", zp(RNG, np.uint8), True),
        ("bz", zp(RNG, np.uint8), True)])
    assert_same(*run_both(m, f))


def test_matmul_integer_to_float_row_scale_applies_to_output():
    """An a_scale per row [M, 1] multiplies the output after the bias, as onnxruntime does."""
    m, f = node_model("MatMulIntegerToFloat", [
        ("A", q8(RNG, np.uint8, 3, 8), False), ("B", q8(RNG, np.uint8, 8, 4), True),
        ("as", scale(RNG, 3).reshape(3, 1), True), ("bs", scale(RNG), True),
        ("az", None, True), ("bz", None, True), ("bias", RNG.standard_normal(4).astype(F32), True)])
    assert_same(*run_both(m, f))


# ---- GatherBlockQuantized ------------------------------------------------------------------
@pytest.mark.parametrize("qdt", [ml_dtypes.int4, ml_dtypes.uint4])
@pytest.mark.parametrize("g,qa,shape", [(0, 1, (50, 64)), (1, 0, (64, 10)), (1, 2, (3, 5, 48)),
                                        (0, 0, (64, 3))])
@pytest.mark.parametrize("with_zp", [False, True])
def test_gather_block_quantized_int4(qdt, g, qa, shape, with_zp):
    """Any gather/quantize axes; negative and out-of-range indices (the latter give zeros)."""
    lo, hi = (-8, 8) if qdt == ml_dtypes.int4 else (0, 16)
    sshape = list(shape)
    sshape[qa] = -(-shape[qa] // 16)
    idx = RNG.integers(-shape[g], shape[g], (2, 3)).astype(np.int64)
    idx[0, 0] = shape[g] + 5
    m, f = node_model("GatherBlockQuantized", [
        ("data", RNG.integers(lo, hi, shape).astype(qdt), True), ("idx", idx, False),
        ("scales", (RNG.random(sshape) * 0.1).astype(np.float16), True),
        ("zp", RNG.integers(lo, hi, sshape).astype(qdt) if with_zp else None, True)],
        {"gather_axis": g, "quantize_axis": qa, "block_size": 16})
    assert_same(*run_both(m, f))


@pytest.mark.parametrize("bits", [2, 4, 8])
@pytest.mark.parametrize("with_zp", [False, True])
def test_gather_block_quantized_uint8(bits, with_zp):
    V, K, per = 20, 64, 8 // bits
    nb = K // 32
    m, f = node_model("GatherBlockQuantized", [
        ("data", RNG.integers(0, 256, (V, K // per)).astype(np.uint8), True),
        ("idx", RNG.integers(0, V, (3,)).astype(np.int32), False),
        ("scales", (RNG.random((V, nb)) * 0.1).astype(F32), True),
        ("zp", RNG.integers(0, 256, (V, -(-nb // per))).astype(np.uint8) if with_zp else None,
         True)], {"gather_axis": 0, "quantize_axis": 1, "block_size": 32, "bits": bits})
    assert_same(*run_both(m, f))


@pytest.mark.parametrize("bs,sshape", [(16, (20, 4)), (0, (20, 1)), (32, (1, 2))])
def test_gather_block_quantized_float8(bs, sshape):
    m, f = node_model("GatherBlockQuantized", [
        ("data", RNG.standard_normal((20, 64)).astype(ml_dtypes.float8_e4m3fn), True),
        ("idx", RNG.integers(0, 20, (4,)).astype(np.int64), False),
        ("scales", (RNG.random(sshape) * 0.1).astype(F32), True)],
        {"gather_axis": 0, "quantize_axis": 1, "block_size": bs})
    assert_same(*run_both(m, f))


# ---- com.microsoft QuantizeLinear / DequantizeLinear ---------------------------------------
@pytest.mark.parametrize("qdt", [np.uint8, np.int8, np.int16, np.uint16])
@pytest.mark.parametrize("sdt", [np.float32, np.float16])
@pytest.mark.parametrize("per_axis", [False, True])
def test_ms_quantize_dequantize(qdt, sdt, per_axis):
    x = (RNG.standard_normal((3, 4, 5)) * 4).astype(sdt)
    s = (RNG.random(4) * 0.1 + 0.01).astype(sdt) if per_axis else np.array(0.05, sdt)
    z = zp(RNG, qdt, 4 if per_axis else None)
    attrs = {"axis": 1} if per_axis else {}
    m, f = node_model("QuantizeLinear", [("x", x, False), ("s", s, True), ("z", z, True)], attrs)
    exp, got = run_both(m, f)
    assert_same(exp, got)
    m, f = node_model("DequantizeLinear", [("x", exp[0], False), ("s", s, True), ("z", z, True)],
                      attrs)
    assert_same(*run_both(m, f))


def test_ms_quantize_int4_roundtrip():
    """int4 has no NumPy type in onnxruntime's Python API: compare the dequantized result of
    a QuantizeLinear -> DequantizeLinear pair (onnxrun's int4 output checked on its own)."""
    import onnx
    from onnx import helper, numpy_helper
    x = (RNG.standard_normal((4, 6)) * 0.5).astype(F32)
    s, z = np.array(0.1, F32), np.array(-2, ml_dtypes.int4)
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], domain="com.microsoft"),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], domain="com.microsoft")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", 1, [4, 6])],
                          [onnx.ValueInfoProto(name="y"), onnx.ValueInfoProto(name="q")],
                          [numpy_helper.from_array(s, "s"), numpy_helper.from_array(z, "z")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                            helper.make_opsetid("com.microsoft", 1)])
    got = onnxrun.InferenceSession(m.SerializeToString()).run(None, {"x": x})
    exp = ort_session(m.SerializeToString()).run(["y"], {"x": x})
    np.testing.assert_array_equal(got[0], exp[0])
    assert got[1].dtype == ml_dtypes.int4
    np.testing.assert_array_equal(got[1].astype(int), np.clip(np.rint(x / 0.1) - 2, -8, 7))


# ---- SparseToDenseMatMul -------------------------------------------------------------------
@pytest.mark.parametrize("attrs", [{}, {"transA": 1}, {"transB": 1, "alpha": 0.5}])
def test_sparse_to_dense_matmul(attrs):
    """onnxruntime takes a COO SparseTensor feed; onnxrun gets the same A as a sparse
    initializer, densified at load."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    A = np.zeros((4, 6), F32)
    A[0, 1], A[2, 3], A[3, 5], A[1, 0] = 2, -1, 0.5, 3
    bshape = {(0, 0): (6, 3), (1, 0): (4, 3), (0, 1): (3, 6)}[
        (attrs.get("transA", 0), attrs.get("transB", 0))]
    B = RNG.standard_normal(bshape).astype(F32)
    node = helper.make_node("SparseToDenseMatMul", ["A", "B"], ["Y"], domain="com.microsoft",
                            **attrs)
    bvi = helper.make_tensor_value_info("B", TensorProto.FLOAT, list(B.shape))
    yvi = onnx.ValueInfoProto(name="Y")
    ops = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    sparse_type = onnx.TypeProto()
    sparse_type.sparse_tensor_type.elem_type = TensorProto.FLOAT
    g = helper.make_graph([node], "g", [helper.make_value_info("A", sparse_type), bvi], [yvi])
    sess = ort_session(helper.make_model(g, opset_imports=ops).SerializeToString())
    nz = np.ascontiguousarray(np.argwhere(A != 0).astype(np.int64))
    st = ort.SparseTensor.sparse_coo_from_numpy(np.array(A.shape, np.int64),
                                                np.ascontiguousarray(A[A != 0]), nz,
                                                ort.OrtDevice.make("cpu", 0))
    exp = sess.run_with_ort_values(["Y"], {"A": ort.OrtValue.ort_value_from_sparse_tensor(st),
                                           "B": ort.OrtValue.ortvalue_from_numpy(B)})[0].numpy()
    sp = helper.make_sparse_tensor(numpy_helper.from_array(np.ascontiguousarray(A[A != 0]), "A"),
                                   numpy_helper.from_array(np.flatnonzero(A).astype(np.int64),
                                                           "Ai"), list(A.shape))
    g2 = helper.make_graph([node], "g", [bvi], [yvi], sparse_initializer=[sp])
    got = _mine(helper.make_model(g2, opset_imports=ops).SerializeToString(), {"B": B})[0]
    np.testing.assert_array_equal(got, exp)


# ---- QAttention / QEmbedLayerNormalization (single node) -----------------------------------
def test_qattention_single_node_per_column_mask_2b():
    """Per-column weight parameters, a [2B] start/end mask, a custom scale and filter value."""
    Bn, S, Din, hid, N = 2, 4, 8, 6, 2
    ins = [("x", q8(RNG, np.uint8, Bn, S, Din), False), ("w", q8(RNG, np.int8, Din, 3 * hid), True),
           ("bias", RNG.standard_normal(3 * hid).astype(F32), True),
           ("xs", scale(RNG), True), ("ws", scale(RNG, 3 * hid), True),
           ("mask", np.array([4, 3, 0, 1], np.int32), False), ("xz", zp(RNG, np.uint8), True),
           ("wz", np.zeros(3 * hid, np.int8), True)]
    m, f = node_model("QAttention", ins, {"num_heads": N, "scale": 0.3,
                                          "mask_filter_value": -500.0}, n_out=1)
    assert_close(*run_both(m, f), rtol=1e-5, atol=1e-6)


def test_qattention_unidirectional_past_with_fully_masked_row():
    """A query whose visible keys are all masked: onnxruntime masks future keys with float32's
    lowest value, so the softmax spreads over the masked visible keys only."""
    Bn, S, Din, hid, N, P = 2, 5, 16, 12, 3, 3
    mask = np.array([[1, 1, 1, 0, 0, 1, 1, 0], [0, 0, 0, 0, 1, 0, 0, 0]], np.int32)
    ins = [("x", q8(RNG, np.uint8, Bn, S, Din), False), ("w", q8(RNG, np.int8, Din, 3 * hid), True),
           ("bias", RNG.standard_normal(3 * hid).astype(F32), True), ("xs", scale(RNG), True),
           ("ws", scale(RNG), True), ("mask", mask, False), ("xz", zp(RNG, np.uint8), True),
           ("wz", np.array(0, np.int8), True),
           ("past", RNG.standard_normal((2, Bn, N, P, hid // N)).astype(F32), False)]
    m, f = node_model("QAttention", ins, {"num_heads": N, "unidirectional": 1}, n_out=2)
    assert_close(*run_both(m, f), rtol=1e-5, atol=1e-5)


def test_qembed_layer_norm_single_node():
    V, P, hid = 12, 8, 6
    dt = np.uint8
    ins = [("ids", RNG.integers(0, V, (2, 5)).astype(np.int32), False),
           ("sids", RNG.integers(0, 2, (2, 5)).astype(np.int32), False),
           ("we", q8(RNG, dt, V, hid), True), ("pe", q8(RNG, dt, P, hid), True),
           ("se", q8(RNG, dt, 2, hid), True), ("g", q8(RNG, dt, hid), True),
           ("b", q8(RNG, dt, hid), True), ("mask", np.array([[1, 1, 0, 0, 0], [1] * 5], np.int32),
                                           False)]
    ins += [(f"s{i}", scale(RNG), True) for i in range(5)]
    ins += [(f"z{i}", zp(RNG, dt), True) for i in range(5)]
    m, f = node_model("QEmbedLayerNormalization", ins, {"epsilon": 1e-5}, n_out=2)
    exp, got = run_both(m, f)
    assert_close(exp[:1], got[:1], rtol=1e-5, atol=1e-5)
    assert_same(exp[1:], got[1:])
    f["ids"][0, 0] = V
    with pytest.raises(InvalidArgument, match="input_ids must be in"):
        _mine(m, f)


# ---- bad inputs ----------------------------------------------------------------------------
def _bad(op, ins, attrs=None, match=None, n_out=1):
    m, f = node_model(op, ins, attrs, n_out=n_out)
    with pytest.raises(OnnxRuntimeError, match=match):
        _mine(m, f)


def test_errors_zero_point_type_and_shape():
    a = q8(RNG, np.uint8, 2, 3)
    _bad("QLinearAdd", [("A", a, False), ("sa", scale(RNG), True),
                        ("za", np.array(1, np.int8), True), ("B", a, False),
                        ("sb", scale(RNG), True), ("zb", np.array(1, np.uint8), True),
                        ("sc", scale(RNG), True)], match="A_zero_point must have the quantized")
    _bad("QLinearMul", [("A", a, False), ("sa", scale(RNG, 2), True), ("za", None, True),
                        ("B", a, False), ("sb", scale(RNG), True), ("zb", None, True),
                        ("sc", scale(RNG), True)], match="A_scale must be a scalar")
    _bad("QGemm", [("A", a, False), ("as", scale(RNG), True), ("az", zp(RNG, np.uint8), True),
                   ("B", q8(RNG, np.int8, 3, 4), True), ("bs", scale(RNG, 3), True),
                   ("bz", zp(RNG, np.int8), True)], match="b_scale must be a scalar or a 1-D")
    _bad("DynamicQuantizeMatMul", [("A", RNG.standard_normal((2, 3)).astype(F32), False),
                                   ("B", q8(RNG, np.int8, 3, 4), True), ("bs", scale(RNG), True),
                                   ("bz", zp(RNG, np.uint8), True)],
         match="b_zero_point type uint8 must equal B's type int8")


def test_errors_wrong_dtypes():
    x = RNG.standard_normal((2, 3)).astype(F32)
    _bad("QLinearSigmoid", [("X", x, False), ("sx", scale(RNG), True), ("zx", None, True),
                            ("sy", scale(RNG), True)], match="X must be uint8 or int8")
    _bad("DynamicQuantizeMatMul", [("A", x.astype(np.float64), False),
                                   ("B", q8(RNG, np.int8, 3, 4), True), ("bs", scale(RNG), True)],
         match="A must be float32")
    _bad("SparseToDenseMatMul", [("A", x, False), ("B", x.T.astype(np.float64), False)],
         match="same type")
    _bad("QLinearSoftmax", [("X", q8(RNG, np.uint8, 2, 3), False), ("xs", scale(RNG), True),
                            ("xz", None, True), ("ys", scale(RNG), True),
                            ("yz", zp(RNG, np.uint8), True)], match="'opset' is required")


def test_errors_shapes():
    _bad("QLinearAdd", [("A", q8(RNG, np.uint8, 2, 3), False), ("sa", scale(RNG), True),
                        ("za", None, True), ("B", q8(RNG, np.uint8, 4), False),
                        ("sb", scale(RNG), True), ("zb", None, True), ("sc", scale(RNG), True)],
         match="not broadcastable")
    _bad("QLinearConcat", [("ys", scale(RNG), True), ("yz", zp(RNG, np.uint8), True),
                           ("x0", q8(RNG, np.uint8, 2, 3), False), ("s0", scale(RNG), True),
                           ("z0", zp(RNG, np.uint8), True), ("x1", q8(RNG, np.uint8, 3, 3), False),
                           ("s1", scale(RNG), True), ("z1", zp(RNG, np.uint8), True)],
         {"axis": 1}, match="differ outside axis")
    _bad("GatherBlockQuantized", [("data", RNG.integers(-8, 8, (10, 32)).astype(ml_dtypes.int4),
                                   True), ("idx", np.array([1], np.int64), False),
                                  ("scales", np.ones((10, 3), F32), True)],
         {"block_size": 16}, match="scales shape")
    _bad("GatherBlockQuantized", [("data", RNG.integers(-8, 8, (10, 32)).astype(ml_dtypes.int4),
                                   True), ("idx", np.array([1], np.int64), False),
                                  ("scales", np.ones((10, 2), F32), True)],
         {"block_size": 12}, match="block_size must be a power of 2")
    _bad("QAttention", [("x", q8(RNG, np.uint8, 1, 2, 4), False),
                        ("w", q8(RNG, np.uint8, 4, 6), True),
                        ("bias", np.zeros(6, F32), True), ("xs", scale(RNG), True),
                        ("ws", scale(RNG), True), ("mask", np.array([[1, 1, 1]], np.int32),
                                                   False)],
         {"num_heads": 1}, match="mask_index must have shape")
    _bad("QAttention", [("x", q8(RNG, np.uint8, 1, 2, 4), False),
                        ("w", q8(RNG, np.uint8, 4, 12), True),
                        ("bias", np.zeros(12, F32), True), ("xs", scale(RNG), True),
                        ("ws", scale(RNG), True)],
         {"num_heads": 3}, match="hidden size 4 is not divisible by num_heads 3")
    _bad("QLinearAveragePool", [("X", q8(RNG, np.uint8, 1, 2, 5, 5), False),
                                ("xs", scale(RNG), True), ("xz", None, True),
                                ("ys", scale(RNG), True)],
         {"kernel_shape": [3]}, match="rank 3 for kernel_shape")
