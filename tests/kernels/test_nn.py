"""Unit tests of the nn kernel family (conv, pooling, matmul, normalization, losses), compared
with onnxruntime on random inputs or with formulas."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxrun
from onnxrun.errors import InvalidArgument

ort = pytest.importorskip("onnxruntime")

_NP2ONNX = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE,
            np.dtype(np.float16): TensorProto.FLOAT16, np.dtype(np.int64): TensorProto.INT64,
            np.dtype(np.int32): TensorProto.INT32, np.dtype(bool): TensorProto.BOOL,
            np.dtype(np.int8): TensorProto.INT8, np.dtype(np.uint8): TensorProto.UINT8}


def make_model(op, inputs, consts=None, attrs=None, n_out=1, opset=22, out_types=None):
    """A one-node model: ``inputs`` is a list of (name, array) fed at run time, ``consts`` a
    list of (name, array) initializers (order: inputs then consts unless names say otherwise)."""
    consts = consts or []
    names = [n for n, _ in inputs] + [n for n, _ in consts]
    outs = [f"y{i}" for i in range(n_out)]
    node = helper.make_node(op, names, outs, **(attrs or {}))
    g_in = [helper.make_tensor_value_info(n, _NP2ONNX[a.dtype], a.shape) for n, a in inputs]
    out_types = out_types or [_NP2ONNX[inputs[0][1].dtype]] * n_out
    g_out = [helper.make_tensor_value_info(o, t, None) for o, t in zip(outs, out_types)]
    inits = [numpy_helper.from_array(a, n) for n, a in consts]
    g = helper.make_graph([node], "g", g_in, g_out, inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)


def run_both(model, feeds):
    data = model.SerializeToString()
    a = onnxrun.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, feeds)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    b = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"]).run(None, feeds)
    return a, b


def run_ours(model, feeds):
    return onnxrun.InferenceSession(model.SerializeToString(),
                                    providers=["CPUExecutionProvider"]).run(None, feeds)


RNG = np.random.default_rng(0)


def rand(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


# ----------------------------------------------------------------------------- Conv
CONV_CASES = [
    # (x shape, w shape, attrs)            path exercised
    ((1, 128, 14, 14), (128, 128, 3, 3), dict(pads=[1, 1, 1, 1])),          # winograd
    ((2, 128, 13, 11), (144, 128, 3, 3), dict(pads=[1, 0, 1, 2])),          # winograd odd
    ((1, 128, 16, 12), (128, 128, 3, 3), dict(auto_pad="SAME_LOWER")),      # winograd
    ((1, 16, 10, 10), (32, 16, 1, 1), {}),                                 # pointwise
    ((2, 16, 9, 9), (32, 16, 1, 1), dict(strides=[2, 2])),                 # strided pointwise
    ((1, 8, 48, 50), (16, 8, 1, 1), {}),                                   # pointwise, bias fold
    ((1, 8, 11, 11), (8, 1, 3, 3), dict(group=8, pads=[1, 1, 1, 1], strides=[2, 2])),  # dw
    ((2, 6, 11, 9), (6, 1, 5, 3), dict(group=6, dilations=[2, 1])),         # depthwise
    ((1, 6, 12, 13), (6, 1, 3, 3), dict(group=6, pads=[0, 2, 1, 0], strides=[2, 2])),  # dw
    ((2, 5, 14, 10), (5, 1, 3, 3), dict(group=5, pads=[2, 1, 2, 2], strides=[3, 2],
                                        dilations=[2, 3])),                # dw stride phases
    ((1, 4, 9, 8), (4, 1, 3, 3), dict(group=4, auto_pad="SAME_UPPER", strides=[2, 2])),
    ((2, 6, 8, 7), (6, 1, 3, 1), dict(group=6, pads=[1, 0, 1, 0])),         # dw, no crop
    ((1, 3, 50, 60), (3, 1, 3, 3), dict(group=3, pads=[1, 1, 1, 1])),       # dw, large map
    ((1, 8, 10, 10), (12, 4, 3, 3), dict(group=2, pads=[0, 1, 2, 1])),     # grouped im2col
    ((2, 3, 15, 13), (5, 3, 7, 7), dict(strides=[2, 3], pads=[3, 3, 3, 3])),  # im2col
    ((1, 4, 12), (6, 4, 3), dict(auto_pad="SAME_UPPER", strides=[2])),     # 1-D
    ((1, 2, 5, 6, 7), (3, 2, 3, 2, 3), dict(pads=[1, 0, 1, 1, 1, 0])),     # 3-D
    ((1, 4, 9, 9), (4, 2, 3, 3), dict(group=2, dilations=[2, 2], auto_pad="VALID")),
    ((1, 32, 10, 9), (8, 32, 3, 3), dict(pads=[1, 1, 1, 1])),                # kn2row
    ((2, 24, 11, 8), (6, 24, 3, 2), dict(pads=[2, 0, 1, 1], dilations=[2, 1])),  # kn2row
    ((1, 16, 9, 9), (4, 16, 5, 5), dict(auto_pad="SAME_UPPER")),             # kn2row
]


@pytest.mark.parametrize("xs,ws,attrs", CONV_CASES)
@pytest.mark.parametrize("const_w", [True, False])
@pytest.mark.parametrize("small", [True, False])
def test_conv_vs_ort(monkeypatch, xs, ws, attrs, const_w, small):
    """Every algorithm, and (``small``) the gather path that small outputs take instead."""
    if not small:
        monkeypatch.setattr("onnxrun.kernels.nn._conv_small.MAX_COLS", 0)
    x, w, b = rand(*xs), rand(*ws), rand(ws[0])
    if const_w:
        m = make_model("Conv", [("x", x)], [("w", w), ("b", b)], attrs)
        feeds = {"x": x}
    else:
        m = make_model("Conv", [("x", x), ("w", w), ("b", b)], None, attrs)
        feeds = {"x": x, "w": w, "b": b}
    (a,), (e,) = run_both(m, feeds)
    assert a.dtype == np.float32 and a.shape == e.shape
    np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4)


def test_conv_float16_and_float64():
    x, w = rand(1, 64, 6, 6), rand(64, 64, 3, 3)
    for dt in (np.float16, np.float64):
        m = make_model("Conv", [("x", x.astype(dt))], [("w", w.astype(dt))],
                       dict(pads=[1, 1, 1, 1]))
        (a,) = run_ours(m, {"x": x.astype(dt)})
        assert a.dtype == dt
        ref = run_ours(make_model("Conv", [("x", x.astype(np.float64))],
                                  [("w", w.astype(np.float64))], dict(pads=[1, 1, 1, 1])),
                       {"x": x.astype(np.float64)})[0]
        np.testing.assert_allclose(a.astype(np.float64), ref, rtol=1e-2 if dt == np.float16
                                   else 1e-10, atol=0.2 if dt == np.float16 else 1e-10)


def test_conv_channel_mismatch_raises():
    m = make_model("Conv", [("x", rand(1, 3, 5, 5)), ("w", rand(4, 2, 3, 3))])
    with pytest.raises(InvalidArgument):
        run_ours(m, {"x": rand(1, 3, 5, 5), "w": rand(4, 2, 3, 3)})


def test_conv_picks_algorithms():
    from onnxrun.kernels.nn.conv import Conv

    class Info:
        def __init__(self, w, **attrs):
            self.const_inputs = [None, w]
            self.attrs = attrs
            self.intra_op = None

        def attr(self, k, d=None):
            return self.attrs.get(k, d)

    assert Conv(Info(rand(128, 128, 3, 3), pads=[1] * 4)).prepared.algo == "winograd"
    assert Conv(Info(rand(96, 128, 3, 3), pads=[1] * 4)).prepared.algo == "im2col"
    assert Conv(Info(rand(64, 128, 3, 3), strides=[2, 2])).prepared.algo == "im2col"
    assert Conv(Info(rand(32, 1, 3, 3), group=32)).prepared.algo == "depthwise"
    assert Conv(Info(rand(32, 16, 1, 1))).prepared.algo == "pointwise"
    assert Conv(Info(rand(32, 128, 3, 3), pads=[1] * 4)).prepared.algo == "kn2row"


# ----------------------------------------------------------------------------- ConvTranspose
@pytest.mark.parametrize("xs,ws,attrs", [
    ((1, 4, 5, 6), (4, 3, 3, 3), dict(strides=[2, 2], pads=[1, 0, 1, 1])),
    ((2, 4, 5, 5), (4, 2, 4, 4), dict(group=2, strides=[2, 2], output_padding=[1, 1])),
    ((1, 3, 7), (3, 2, 3), dict(dilations=[2], strides=[3])),
    ((1, 2, 4, 4), (2, 3, 3, 3), dict(strides=[2, 2], output_shape=[9, 10])),
    ((1, 2, 4, 4), (2, 3, 3, 3), dict(strides=[2, 2], auto_pad="SAME_UPPER")),
])
def test_conv_transpose_vs_ort(xs, ws, attrs):
    x, w, b = rand(*xs), rand(*ws), rand(ws[1] * attrs.get("group", 1))
    m = make_model("ConvTranspose", [("x", x)], [("w", w), ("b", b)], attrs)
    (a,), (e,) = run_both(m, {"x": x})
    np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------- pooling
@pytest.mark.parametrize("op,attrs", [
    ("MaxPool", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),
    ("MaxPool", dict(kernel_shape=[3, 2], strides=[2, 2], ceil_mode=1, dilations=[1, 2])),
    ("AveragePool", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),
    ("AveragePool", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                         count_include_pad=1, ceil_mode=1)),
    ("AveragePool", dict(kernel_shape=[2, 3], auto_pad="SAME_LOWER")),
    ("LpPool", dict(kernel_shape=[2, 2], strides=[2, 1], p=3)),
])
def test_pool_vs_ort(op, attrs):
    x = rand(2, 3, 9, 8)
    m = make_model(op, [("x", x)], attrs=attrs)
    (a,), (e,) = run_both(m, {"x": x})
    np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("attrs", [
    dict(kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]),
    dict(kernel_shape=[2, 3], strides=[3, 2], pads=[1, 2, 0, 1], dilations=[2, 1]),
    dict(kernel_shape=[3, 1], strides=[1, 2], ceil_mode=1),
    dict(kernel_shape=[1, 1], strides=[2, 2]),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int8, np.uint8])
def test_maxpool_2d_flat_path_dtypes(attrs, dtype):
    """2-D pooling on the flattened padded input: strides, dilations, pads, ceil_mode,
    integer and half types (padding must never win a max)."""
    x = (rand(2, 3, 10, 9) * 40).astype(dtype)
    if dtype in (np.int8, np.uint8):
        x = np.full((2, 3, 10, 9), np.iinfo(dtype).min, dtype)
        x[..., ::3] = (rand(2, 3, 10, 3) * 40).astype(dtype)
    m = make_model("MaxPool", [("x", x)], attrs=attrs, opset=12)
    (a,), (e,) = run_both(m, {"x": x})
    assert a.dtype == e.dtype and a.shape == e.shape
    np.testing.assert_array_equal(a, e)
    if dtype == np.float32:
        m = make_model("AveragePool", [("x", x)], attrs=attrs, opset=19)
        (a,), (e,) = run_both(m, {"x": x})
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-5)


def test_maxpool_indices_vs_ort():
    x = rand(2, 3, 7, 8)
    for so in (0, 1):
        m = make_model("MaxPool", [("x", x)], attrs=dict(kernel_shape=[3, 3], strides=[2, 2],
                                                         pads=[1, 1, 1, 1], storage_order=so),
                       n_out=2, out_types=[TensorProto.FLOAT, TensorProto.INT64])
        a, e = run_both(m, {"x": x})
        np.testing.assert_allclose(a[0], e[0])
        np.testing.assert_array_equal(a[1], e[1])


def test_global_pools_and_float16():
    x = rand(2, 3, 5, 4).astype(np.float16)
    for op in ("GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"):
        if op == "GlobalLpPool":  # onnxruntime: float32 only, opset 2..21
            (a,), (e,) = run_both(make_model(op, [("x", x.astype(np.float32))], opset=21),
                                  {"x": x.astype(np.float32)})
            np.testing.assert_allclose(a, e, rtol=1e-5)
            continue
        (a,), (e,) = run_both(make_model(op, [("x", x)]), {"x": x})
        assert a.dtype == np.float16 and a.shape == (2, 3, 1, 1)
        np.testing.assert_allclose(a.astype(np.float32), e.astype(np.float32), rtol=2e-3,
                                   atol=2e-3)


def test_maxroipool_vs_ort():
    x = rand(2, 3, 10, 12)
    rois = np.array([[0, 1, 1, 8, 6], [1, 0, 2, 11, 9], [0, 3, 3, 3, 3]], dtype=np.float32)
    m = make_model("MaxRoiPool", [("x", x), ("r", rois)],
                   attrs=dict(pooled_shape=[2, 3], spatial_scale=1.0), opset=16)
    (a,), (e,) = run_both(m, {"x": x, "r": rois})
    np.testing.assert_allclose(a, e)


# ----------------------------------------------------------------------------- Gemm / MatMul
@pytest.mark.parametrize("ta,tb,cshape", [(0, 0, (5,)), (1, 0, (4, 5)), (0, 1, (1, 5)),
                                           (1, 1, ())])
@pytest.mark.parametrize("const_b", [True, False])
def test_gemm_vs_ort(ta, tb, cshape, const_b):
    a = rand(3, 4) if ta else rand(4, 3)
    b = rand(5, 3) if tb else rand(3, 5)
    c = rand(*cshape)
    attrs = dict(transA=ta, transB=tb, alpha=0.7, beta=1.3)
    if const_b:
        m = make_model("Gemm", [("a", a)], [("b", b), ("c", c)], attrs)
        feeds = {"a": a}
    else:
        m = make_model("Gemm", [("a", a), ("b", b), ("c", c)], attrs=attrs)
        feeds = {"a": a, "b": b, "c": c}
    (r,), (e,) = run_both(m, feeds)
    np.testing.assert_allclose(r, e, rtol=1e-5, atol=1e-6)


def test_matmul_broadcast_and_dtypes():
    for sa, sb in [((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((3, 4), (4,))]:
        for dt in (np.float32, np.float16, np.int64):
            a, b = (rand(*sa) * 3).astype(dt), (rand(*sb) * 3).astype(dt)
            (r,) = run_ours(make_model("MatMul", [("a", a), ("b", b)]), {"a": a, "b": b})
            assert r.dtype == dt
            np.testing.assert_allclose(r.astype(np.float64),
                                       np.matmul(a.astype(np.float64), b.astype(np.float64)),
                                       rtol=5e-3, atol=5e-2)
    with pytest.raises(InvalidArgument):
        run_ours(make_model("MatMul", [("a", rand(2, 3)), ("b", rand(4, 2))]),
                 {"a": rand(2, 3), "b": rand(4, 2)})


# ----------------------------------------------------------------------------- normalizations
def test_batchnorm_inference_and_training_vs_formula():
    x = rand(2, 3, 4, 5)
    s, b, mean, var = rand(3), rand(3), rand(3), np.abs(rand(3)) + 0.5
    m = make_model("BatchNormalization", [("x", x)], [("s", s), ("b", b), ("m", mean),
                                                      ("v", var)], dict(epsilon=1e-3))
    (a,), (e,) = run_both(m, {"x": x})
    np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-5)
    m = make_model("BatchNormalization", [("x", x), ("s", s), ("b", b), ("m", mean),
                                          ("v", var)], attrs=dict(training_mode=1, momentum=0.8),
                   n_out=3)
    y, rm, rv = run_ours(m, {"x": x, "s": s, "b": b, "m": mean, "v": var})
    bm, bv = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    ref = (x - bm[:, None, None]) / np.sqrt(bv[:, None, None] + 1e-5) * s[:, None, None] \
        + b[:, None, None]
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(rm, mean * 0.8 + bm * 0.2, rtol=1e-5)
    np.testing.assert_allclose(rv, var * 0.8 + bv * 0.2, rtol=1e-5)


@pytest.mark.parametrize("op,consts,attrs,opset", [
    ("InstanceNormalization", [(3,), (3,)], dict(epsilon=1e-3), 22),
    ("LayerNormalization", [(4, 5), (4, 5)], dict(axis=-2), 17),
    ("GroupNormalization", [(6,), (6,)], dict(num_groups=3), 21),
    ("LRN", [], dict(size=3, alpha=1e-2, beta=0.6, bias=2.0), 13),
    ("LpNormalization", [], dict(axis=1, p=1), 22),
    ("MeanVarianceNormalization", [], dict(axes=[0, 2]), 13),
])
def test_norms_vs_ort(op, consts, attrs, opset):
    C = 6 if op == "GroupNormalization" else 3
    x = rand(2, C, 4, 5)
    cs = [(f"c{i}", rand(*s)) for i, s in enumerate(consts)]
    (a,), (e,) = run_both(make_model(op, [("x", x)], cs, attrs, opset=opset), {"x": x})
    np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-5)


def test_layernorm_stats_outputs():
    x = rand(3, 4, 5)
    m = make_model("LayerNormalization", [("x", x)], [("s", rand(5)), ("b", rand(5))],
                   dict(axis=-1), n_out=3, opset=17)
    a, e = run_both(m, {"x": x})
    for u, v in zip(a, e):
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-5)


def test_group_norm_opset18_per_group_scale():
    x = rand(2, 6, 3)
    s, b = rand(3), rand(3)
    (a,) = run_ours(make_model("GroupNormalization", [("x", x)], [("s", s), ("b", b)],
                               dict(num_groups=3), opset=18), {"x": x})
    xg = x.reshape(2, 3, -1)
    n = (xg - xg.mean(-1, keepdims=True)) / np.sqrt(xg.var(-1, keepdims=True) + 1e-5)
    ref = n * s[None, :, None] + b[None, :, None]
    np.testing.assert_allclose(a, ref.reshape(x.shape), rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------- dropout / losses
def test_dropout_inference_and_seeded_training():
    x = rand(4, 5)
    m = make_model("Dropout", [("x", x)], n_out=2, out_types=[TensorProto.FLOAT,
                                                              TensorProto.BOOL])
    y, mask = run_ours(m, {"x": x})
    np.testing.assert_array_equal(y, x)
    assert mask.dtype == bool and mask.all()
    r, t = np.array(0.5, np.float32), np.array(True)
    m = make_model("Dropout", [("x", x), ("r", r), ("t", t)], attrs=dict(seed=3), n_out=2,
                   out_types=[TensorProto.FLOAT, TensorProto.BOOL])
    y1, m1 = run_ours(m, {"x": x, "r": r, "t": t})
    y2, m2 = run_ours(m, {"x": x, "r": r, "t": t})
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_allclose(y1, np.where(m1, x * 2, 0), rtol=1e-6)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_losses_vs_ort(reduction):
    x = rand(3, 4, 2)
    t = np.array([[0, 3], [1, -1], [2, 2]], dtype=np.int64)
    w = np.abs(rand(4)) + 0.1
    attrs = dict(reduction=reduction, ignore_index=-1)
    m = make_model("SoftmaxCrossEntropyLoss", [("x", x), ("t", t), ("w", w)], attrs=attrs,
                   n_out=2, opset=13)
    a, e = run_both(m, {"x": x, "t": t, "w": w})
    for u, v in zip(a, e):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)
    m = make_model("NegativeLogLikelihoodLoss", [("x", x), ("t", t)], attrs=attrs, opset=13)
    (u,), (v,) = run_both(m, {"x": x, "t": t})
    np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)


def test_nll_target_out_of_range_raises():
    x, t = rand(2, 3), np.array([0, 5], dtype=np.int64)
    with pytest.raises(InvalidArgument):
        run_ours(make_model("NegativeLogLikelihoodLoss", [("x", x), ("t", t)], opset=13),
                 {"x": x, "t": t})


# ----------------------------------------------------------------------------- old opsets
@pytest.mark.parametrize("op,inputs,consts,attrs,opset,n_out", [
    ("Conv", [(1, 3, 7, 7)], [(4, 3, 3, 3)], dict(pads=[1, 1, 1, 1]), 1, 1),
    ("MaxPool", [(1, 2, 7, 7)], [], dict(kernel_shape=[2, 2], strides=[2, 2]), 1, 1),
    ("MaxPool", [(1, 2, 7, 7)], [], dict(kernel_shape=[3, 3], strides=[2, 2]), 8, 2),
    ("AveragePool", [(1, 2, 7, 7)], [], dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                             count_include_pad=1), 7, 1),
    ("Gemm", [(3, 4)], [(4, 5), (5,)], dict(alpha=2.0, beta=0.5), 7, 1),
    ("BatchNormalization", [(2, 3, 4)], [(3,), (3,), (3,), (3,)], dict(epsilon=1e-2), 7, 1),
    ("InstanceNormalization", [(2, 3, 4)], [(3,), (3,)], {}, 6, 1),
    ("LRN", [(1, 5, 3, 3)], [], dict(size=3), 1, 1),
    ("LpPool", [(1, 2, 6, 6)], [], dict(kernel_shape=[2, 2], p=2), 2, 1),
    ("GlobalLpPool", [(1, 2, 6, 6)], [], dict(p=3), 2, 1),
    ("ConvTranspose", [(1, 2, 4, 4)], [(2, 3, 3, 3)], dict(strides=[2, 2]), 1, 1),
])
def test_old_opsets_vs_ort(op, inputs, consts, attrs, opset, n_out):
    ins = [(f"x{i}", rand(*s)) for i, s in enumerate(inputs)]
    cs = [(f"c{i}", np.abs(rand(*s)) + 0.1) for i, s in enumerate(consts)]
    types = [TensorProto.FLOAT, TensorProto.INT64][:n_out]
    m = make_model(op, ins, cs, attrs, n_out=n_out, opset=opset, out_types=types)
    a, e = run_both(m, dict(ins))
    for u, v in zip(a, e):
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-5)


def test_gemm_opset6_broadcast_attribute():
    a, b, c = rand(3, 4), rand(4, 5), rand(5)
    m = make_model("Gemm", [("a", a)], [("b", b), ("c", c)], dict(broadcast=1, alpha=2.0),
                   opset=6)
    (y,) = run_ours(m, {"a": a})
    np.testing.assert_allclose(y, 2 * a @ b + c, rtol=1e-5, atol=1e-6)


def test_dropout_opset7_mask_has_input_type():
    x = rand(3, 4)
    m = make_model("Dropout", [("x", x)], attrs=dict(ratio=0.3), n_out=2, opset=7)
    y, mask = run_ours(m, {"x": x})
    np.testing.assert_array_equal(y, x)
    assert mask.dtype == np.float32 and (mask == 1).all()


@pytest.mark.parametrize("attrs", [dict(auto_pad="SAME"), dict(kernel_shape=[2, 2]),
                                   dict(pads=[1, 1])])
def test_conv_bad_attributes_raise(attrs):
    x, w = rand(1, 2, 5, 5), rand(3, 2, 3, 3)
    with pytest.raises(Exception) as ei:
        run_ours(make_model("Conv", [("x", x)], [("w", w)], attrs), {"x": x})
    assert "INVALID_ARGUMENT" in str(ei.value) or "FAIL" in str(ei.value)


@pytest.mark.parametrize("attrs", [dict(kernel_shape=[7, 7]),
                                   dict(kernel_shape=[7, 7], count_include_pad=1),
                                   dict(kernel_shape=[7, 7], strides=[2, 2], ceil_mode=1),
                                   dict(kernel_shape=[7, 7], auto_pad="SAME_UPPER"),
                                   dict(kernel_shape=[7, 7], pads=[1, 0, 0, 0])])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_average_pool_whole_map(attrs, dtype):
    """A window covering the whole map takes the mean fast path (not with padding)."""
    x = rand(2, 5, 7, 7, dtype=dtype)
    m = make_model("AveragePool", [("x", x)], None, attrs, opset=19)
    (a,), (e,) = run_both(m, {"x": x})
    assert a.dtype == e.dtype and a.shape == e.shape
    tol = 1e-3 if dtype == np.float16 else 1e-5
    np.testing.assert_allclose(a.astype(np.float64), e.astype(np.float64), rtol=tol, atol=tol)


def test_conv_geometry_per_input_shape():
    """One session, several input shapes: the per-shape geometry must not leak across shapes."""
    w = rand(6, 2, 3, 3)
    node = helper.make_node("Conv", ["x", "w"], ["y"], group=2, strides=[2, 1],
                            auto_pad="SAME_UPPER")
    g = helper.make_graph([node], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                         [None, 4, None, None])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(w, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)], ir_version=10)
    data = m.SerializeToString()
    ours = onnxrun.InferenceSession(data)
    theirs = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    for shape in [(1, 4, 9, 8), (2, 4, 5, 11), (1, 4, 9, 8), (1, 4, 3, 3)]:
        x = rand(*shape)
        a = ours.run(None, {"x": x})[0]
        e = theirs.run(None, {"x": x})[0]
        assert a.shape == e.shape
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4)
