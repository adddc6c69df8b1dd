"""com.microsoft layer norms, GELUs, RotaryEmbedding, EmbedLayerNormalization and the fused
MatMul/Gemm/Conv/BiasSoftmax kernels against onnxruntime (CPU) on single-node models, and
their errors on bad inputs."""

import re

import numpy as np
import pytest
from onnx import numpy_helper

from onnxrun.errors import InvalidArgument, NotImplemented as OrtNotImplemented

from ._microsoft import f16, f32, node_model, r, run_mine, vs_ort

SKIP_OUTS = ("y", "mean", "inv", "sum")


# --- layer norms ------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["full", "skip2d", "skip1SH", "no_beta_bias", "input2d", "fp16"])
def test_skip_layer_norm(case):
    x, s, g, b, bias = r(2, 3, 16), r(2, 3, 16), r(16), r(16), r(16)
    ins = {"full": [x, s, g, b, bias], "skip2d": [x, s[0], g, b], "skip1SH": [x, s[:1], g],
           "no_beta_bias": [x, s, g], "input2d": [x[0], s[0], g, b, bias],
           "fp16": [a.astype(f16) for a in (x, s, g, b, bias)]}[case]
    tol = dict(rtol=2e-3, atol=2e-3) if case == "fp16" else {}
    vs_ort("SkipLayerNormalization", list(zip("xsgbc", ins)), dict(epsilon=1e-5),
           outputs=SKIP_OUTS, **tol)


def test_skip_layer_norm_only_sum_output_and_default_epsilon():
    x, s, g = r(2, 3, 16), r(2, 3, 16), r(16)
    vs_ort("SkipLayerNormalization", [("x", x), ("s", s), ("g", g), ("b", None), ("c", r(16))],
           outputs=("y", "", "", "sum"))


@pytest.mark.parametrize("dt", [f32, f16])
def test_skip_simplified_layer_norm(dt):
    x, s, g, bias = (a.astype(dt) for a in (r(2, 3, 16), r(2, 3, 16), r(16), r(16)))
    tol = dict(rtol=2e-3, atol=2e-3) if dt == f16 else {}
    vs_ort("SkipSimplifiedLayerNormalization", [("x", x), ("s", s), ("g", g), ("c", bias)],
           outputs=SKIP_OUTS, **tol)


@pytest.mark.parametrize("case", ["last", "axis1", "fp16_x", "f64"])
def test_simplified_layer_norm_onnx_domain(case):
    x, g = r(2, 3, 16), r(16)
    attrs = {}
    if case == "axis1":
        g, attrs = r(3, 16), dict(axis=1, epsilon=1e-3)
    elif case == "fp16_x":
        x = x.astype(f16)  # Y takes the scale's type (float32)
    elif case == "f64":
        x, g = x.astype(np.float64), g.astype(np.float64)
    vs_ort("SimplifiedLayerNormalization", [("x", x), ("g", g)], attrs, outputs=("y", "inv"),
           domain="")


def test_simplified_layer_norm_ms_domain_matches_onnx_domain():
    x, g = r(2, 3, 16), r(16)
    m1, feeds = node_model("SimplifiedLayerNormalization", [("x", x), ("g", g)], domain="")
    m2, _ = node_model("SimplifiedLayerNormalization", [("x", x), ("g", g)])
    ref = x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5) * g
    for m in (m1, m2):
        np.testing.assert_allclose(run_mine(m, feeds)[0], ref, rtol=1e-5, atol=1e-6)


def test_layer_norm_onnx_domain_below_opset_17():
    x, g, b = r(2, 3, 16), r(16), r(16)
    vs_ort("LayerNormalization", [("x", x), ("g", g), ("b", b)], dict(epsilon=1e-5),
           outputs=("y", "mean", "inv"), domain="", opset=13)


# --- GELUs ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dt", [f32, f16])
@pytest.mark.parametrize("op,attrs,bias", [("Gelu", {}, False), ("FastGelu", {}, False),
                                           ("FastGelu", {}, True), ("BiasGelu", {}, True),
                                           ("QuickGelu", {}, False),
                                           ("QuickGelu", dict(alpha=1.3), False)])
def test_gelu_family(op, attrs, bias, dt):
    x = r(3, 50, 64, dt=dt)  # more than one block of the blocked bias pass
    ins = [("x", x)] + ([("b", r(64, dt=dt))] if bias else [])
    tol = dict(rtol=3e-3, atol=3e-3) if dt == f16 else {}
    vs_ort(op, ins, attrs, **tol)


def test_fast_gelu_double_and_bias_shape_error():
    x = r(4, 8).astype(np.float64)
    vs_ort("FastGelu", [("x", x), ("b", r(8).astype(np.float64))], rtol=1e-6, atol=1e-6)
    m, feeds = node_model("BiasGelu", [("x", r(4, 8)), ("b", r(4))])
    with pytest.raises(InvalidArgument, match="bias must be 1-D"):
        run_mine(m, feeds)


# --- RotaryEmbedding --------------------------------------------------------------------------

_COS, _SIN = r(12, 4), r(12, 4)
_POS_OFF = np.array([2], np.int64)
_POS_BS = np.array([[0, 1, 2], [5, 6, 7]], np.int64)


@pytest.mark.parametrize("shape,pos,attrs", [
    ((2, 3, 16), _POS_OFF, dict(num_heads=2)),
    ((2, 3, 16), _POS_OFF, {}),  # head size from the cache
    ((2, 3, 16), _POS_BS, dict(num_heads=2, interleaved=1)),
    ((2, 3, 32), _POS_OFF, dict(num_heads=2, rotary_embedding_dim=8)),
    ((2, 3, 32), _POS_BS, dict(num_heads=2, rotary_embedding_dim=8, interleaved=1)),
    ((2, 2, 3, 8), _POS_BS, {}),
    ((2, 2, 3, 8), _POS_OFF, dict(interleaved=1, scale=2.0)),
    ((2, 2, 3, 16), _POS_OFF, dict(num_heads=2, rotary_embedding_dim=8)),
])
def test_rotary_embedding(shape, pos, attrs):
    vs_ort("RotaryEmbedding", [("x", r(*shape)), ("p", pos), ("c", _COS), ("s", _SIN)], attrs)


def test_rotary_embedding_fp16():
    vs_ort("RotaryEmbedding", [("x", r(2, 3, 16, dt=f16)), ("p", _POS_OFF),
                               ("c", _COS.astype(f16)), ("s", _SIN.astype(f16))],
           dict(num_heads=2), rtol=2e-3, atol=2e-3)


def test_rotary_embedding_position_out_of_cache_is_an_error():
    m, feeds = node_model("RotaryEmbedding", [("x", r(2, 3, 16)), ("p", np.array([10])),
                                              ("c", _COS), ("s", _SIN)], dict(num_heads=2))
    with pytest.raises(InvalidArgument, match="exceed the cos/sin cache range"):
        run_mine(m, feeds)


# --- EmbedLayerNormalization ------------------------------------------------------------------

def _embed_inputs(B=2, S=4, H=16, V=10, dt=f32):
    rng = np.random.default_rng(3)
    ids = rng.integers(0, V, (B, S)).astype(np.int32)
    seg = rng.integers(0, 2, (B, S)).astype(np.int32)
    mask = np.array([[1, 1, 0, 1], [1, 1, 1, 1]], np.int32)
    return [("i", ids), ("sg", seg), ("we", r(V, H, dt=dt)), ("pe", r(6, H, dt=dt)),
            ("se", r(2, H, dt=dt)), ("g", r(H, dt=dt)), ("b", r(H, dt=dt)), ("m", mask)]


@pytest.mark.parametrize("case", ["mask", "no_mask", "no_segment", "pos_1S", "pos_BS", "fp16"])
def test_embed_layer_norm(case):
    ins = _embed_inputs(dt=f16 if case == "fp16" else f32)
    attrs, outs = dict(epsilon=1e-5), ("y", "mi", "sum")
    if case == "no_mask":
        ins = ins[:7]
    elif case == "no_segment":
        ins = [ins[0], ("sg", None)] + ins[2:4] + [("se", None)] + ins[5:7]
        attrs["mask_index_type"] = 0
    elif case == "pos_1S":
        ins.append(("pid", np.array([[3, 2, 1, 0]], np.int32)))
    elif case == "pos_BS":
        ins.append(("pid", np.array([[3, 2, 1, 0], [0, 1, 2, 5]], np.int32)))
    tol = dict(rtol=2e-3, atol=2e-3) if case == "fp16" else {}
    vs_ort("EmbedLayerNormalization", ins, attrs, outputs=outs, **tol)


def test_embed_layer_norm_id_out_of_range():
    ins = _embed_inputs()
    ins[0] = ("i", np.array([[0, 1, 2, 10], [0, 0, 0, 0]], np.int32))
    m, feeds = node_model("EmbedLayerNormalization", ins, outputs=("y", "mi"))
    with pytest.raises(InvalidArgument, match="word_embedding index out of range"):
        run_mine(m, feeds)


# --- FusedMatMul, FusedGemm, FusedConv, BiasSoftmax -------------------------------------------

@pytest.mark.parametrize("ta,tb,tba,tbb,a,b", [
    (0, 0, 0, 0, (2, 3, 4, 5), (2, 3, 5, 6)), (1, 0, 0, 0, (2, 3, 5, 4), (5, 6)),
    (0, 1, 0, 0, (2, 3, 4, 5), (6, 5)), (1, 1, 0, 0, (3, 5, 4), (2, 3, 6, 5)),
    (0, 0, 1, 0, (4, 2, 3, 5), (2, 3, 5, 6)), (1, 0, 1, 0, (5, 2, 3, 4), (2, 3, 5, 6)),
    (0, 0, 0, 1, (2, 3, 4, 5), (5, 2, 3, 6)), (1, 1, 1, 1, (5, 2, 3, 4), (6, 2, 3, 5)),
    (1, 1, 0, 0, (5,), (6, 5)), (0, 0, 0, 0, (4, 5), (5,)),
])
def test_fused_matmul(ta, tb, tba, tbb, a, b):
    vs_ort("FusedMatMul", [("a", r(*a)), ("b", r(*b))],
           dict(transA=ta, transB=tb, transBatchA=tba, transBatchB=tbb, alpha=0.5))


def test_fused_matmul_constant_b_and_fp16():
    m, feeds = node_model("FusedMatMul", [("a", r(2, 4, 5)), ("b", r(6, 5))],
                          dict(transB=1, alpha=2.0))
    b = feeds.pop("b")
    m.graph.initializer.append(numpy_helper.from_array(b, "b"))
    del m.graph.input[1]
    np.testing.assert_allclose(run_mine(m, feeds)[0], 2.0 * feeds["a"] @ b.T, rtol=1e-5,
                               atol=1e-5)
    vs_ort("FusedMatMul", [("a", r(2, 4, 5, dt=f16)), ("b", r(5, 3, dt=f16))], dict(alpha=2.0),
           rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("act,params", [
    ("Relu", {}), ("Tanh", {}), ("Sigmoid", {}), ("Softsign", {}), ("Softplus", {}),
    ("LeakyRelu", dict(activation_alpha=0.2)), ("Elu", dict(activation_alpha=0.7)),
    ("Celu", dict(activation_alpha=1.3)), ("ThresholdedRelu", dict(activation_alpha=0.5)),
    ("HardSigmoid", dict(activation_alpha=0.3, activation_beta=0.4)),
    ("Selu", dict(activation_alpha=1.5, activation_gamma=1.1)),
    ("ScaledTanh", dict(activation_alpha=0.5, activation_beta=2.0)),
    ("ParametricSoftplus", dict(activation_alpha=0.5, activation_beta=2.0)),
])
def test_fused_gemm(act, params):
    vs_ort("FusedGemm", [("a", r(3, 8)), ("b", r(8, 4)), ("c", r(4))],
           dict(activation=act, **params))


def test_fused_gemm_transposed_scaled():
    vs_ort("FusedGemm", [("a", r(8, 3)), ("b", r(4, 8)), ("c", r(3, 4))],
           dict(activation="Relu", transA=1, transB=1, alpha=0.5, beta=2.0))


@pytest.mark.parametrize("act,params", [
    ("", []), ("Relu", []), ("HardSwish", []), ("Sigmoid", []), ("Tanh", []),
    ("LeakyRelu", [0.3]), ("Clip", [-0.5, 0.5]), ("HardSigmoid", [0.2, 0.5])])
@pytest.mark.parametrize("with_z", [False, True])
def test_fused_conv(act, params, with_z):
    attrs = dict(pads=[1, 1, 1, 1])
    if act:
        attrs["activation"] = act
    if params:
        attrs["activation_params"] = params
    ins = [("x", r(2, 3, 5, 5)), ("w", r(4, 3, 3, 3)), ("b", r(4))]
    if with_z:
        ins.append(("z", r(2, 4, 5, 5)))
    vs_ort("FusedConv", ins, attrs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("inner,shape,bias_shape,axis", [
    (0, (2, 3, 4, 5), (3, 4, 5), 2), (0, (2, 3, 4, 5), (1, 4, 5), 2),
    (1, (2, 3, 4, 5), (2, 1, 4, 5), 2), (1, (2, 3, 4, 5), (2, 3, 1, 5), 3),
    (0, (6, 7), (7,), 1), (0, (2, 3, 4, 5), (4, 5), -2)])
def test_bias_softmax_matches_add_softmax(inner, shape, bias_shape, axis):
    # onnxruntime has no CPU BiasSoftmax: compare with Add + Softmax-11 (flattened from axis)
    x, b = r(*shape), r(*bias_shape)
    m, feeds = node_model("BiasSoftmax", [("x", x), ("b", b)],
                          dict(axis=axis, is_inner_broadcast=inner))
    got = run_mine(m, feeds)[0]
    a = axis % x.ndim
    nb, n = b.size // int(np.prod(shape[a:])), int(np.prod(shape[a:]))
    if inner:
        s = x.reshape(nb, -1, n) + b.reshape(nb, 1, n)
    else:
        s = x.reshape(-1, nb, n) + b.reshape(1, nb, n)
    e = np.exp(s - s.max(-1, keepdims=True))
    ref = (e / e.sum(-1, keepdims=True)).reshape(shape)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    # with numpy broadcasting the two layouts are Add + Softmax over the trailing axes
    if inner == 0 and len(bias_shape) == len(shape) - 1:
        np.testing.assert_allclose(got.reshape(-1, n).sum(-1), 1, rtol=1e-5)


# --- errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize("op,ins,attrs,err,match", [
    ("SkipLayerNormalization", [("x", r(2, 3, 16)), ("s", r(3, 3, 16)), ("g", r(16))], {},
     InvalidArgument, "skip of shape"),
    ("SkipLayerNormalization", [("x", r(2, 3, 16)), ("s", r(2, 3, 16)), ("g", r(8))], {},
     InvalidArgument, r"gamma must have shape \(16,\)"),
    ("SkipLayerNormalization", [("x", r(16)), ("s", r(16)), ("g", r(16))], {},
     InvalidArgument, "input must be 2-D or 3-D"),
    ("FusedGemm", [("a", r(3, 8)), ("b", r(8, 4))], dict(activation="Elu"),
     InvalidArgument, "needs attribute activation_alpha"),
    ("FusedGemm", [("a", r(3, 8)), ("b", r(8, 4))], dict(activation="Gelu"),
     InvalidArgument, "activation 'Gelu' is not supported"),
    ("FusedConv", [("x", r(1, 3, 5, 5)), ("w", r(4, 3, 3, 3))], dict(activation="LeakyRelu"),
     InvalidArgument, "needs 1 activation_params"),
    ("FusedConv", [("x", r(1, 3, 5, 5)), ("w", r(4, 3, 3, 3)), ("b", None),
                   ("z", r(1, 4, 2, 2))], {}, InvalidArgument, "Z must have the output's shape"),
    ("BiasSoftmax", [("x", r(2, 3, 4)), ("b", r(5, 4))], dict(axis=2, is_inner_broadcast=0),
     InvalidArgument, "does not fit data"),
    ("BiasSoftmax", [("x", r(2, 3, 4)), ("b", r(3, 4))], dict(axis=2),
     InvalidArgument, "required attribute 'is_inner_broadcast'"),
    ("FusedMatMul", [("a", r(2, 3)), ("b", r(4, 5))], {}, InvalidArgument,
     "inner dimensions differ"),
    ("RotaryEmbedding", [("x", r(2, 3, 16)), ("p", np.array([0])), ("c", _COS), ("s", _SIN)],
     dict(is_packed_batching=1), OrtNotImplemented, "is_packed_batching"),
    ("RotaryEmbedding", [("x", r(2, 3, 16)), ("p", np.array([0])), ("c", _COS), ("s", _SIN)],
     dict(rotary_embedding_dim=8), InvalidArgument, "needs num_heads"),
])
def test_bad_inputs_give_onnxrun_errors(op, ins, attrs, err, match):
    m, feeds = node_model(op, ins, attrs)
    with pytest.raises(err, match=match) as info:
        run_mine(m, feeds)
    assert op in str(info.value)  # the message names the node's op


@pytest.mark.parametrize("op,ins,missing", [
    ("SkipLayerNormalization", [("x", r(2, 3, 16)), ("s", r(2, 3, 16))], "2 ('gamma')"),
    ("RotaryEmbedding", [("x", r(2, 3, 16)), ("p", None), ("c", _COS), ("s", _SIN)],
     "1 ('position_ids')"),
    ("BiasGelu", [("x", r(2, 3))], "1 ('B')"),
])
def test_missing_required_input_is_reported(op, ins, missing):
    m, feeds = node_model(op, ins)
    with pytest.raises(InvalidArgument, match=rf"required input {re.escape(missing)} is missing"):
        run_mine(m, feeds)


BF16 = np.dtype("bfloat16")


@pytest.mark.parametrize("op,ins,attrs", [
    ("SkipLayerNormalization", [("x", r(2, 3, 16)), ("s", r(2, 3, 16)), ("g", r(16))], {}),
    ("FastGelu", [("x", r(2, 3, 16)), ("b", r(16))], {}),
    ("RotaryEmbedding", [("x", r(2, 3, 16)), ("p", _POS_OFF), ("c", _COS), ("s", _SIN)],
     dict(num_heads=2)),
    ("MultiHeadAttention", [("q", r(2, 3, 16)), ("k", r(2, 5, 16)), ("v", r(2, 5, 16))],
     dict(num_heads=2)),
])
def test_bfloat16_matches_float32(op, ins, attrs):
    # onnxruntime's CPU kernels take no bfloat16: compare with onnxrun's float32 result on the
    # same (bfloat16-rounded) values
    ins16 = [(n, a.astype(BF16) if a.dtype == f32 else a) for n, a in ins]
    m16, feeds16 = node_model(op, ins16, attrs)
    got = run_mine(m16, feeds16)[0]
    assert got.dtype == BF16
    m32, _ = node_model(op, ins, attrs)
    feeds32 = {k: v.astype(f32) if v.dtype == BF16 else v for k, v in feeds16.items()}
    np.testing.assert_allclose(got.astype(f32), run_mine(m32, feeds32)[0], rtol=2e-2,
                               atol=2e-2)
