"""Transformer-era kernels: Attention and RotaryEmbedding against onnxruntime on random inputs,
Einsum (implicit mode, ellipsis, views), TensorScatter (circular), LinearAttention and
CausalConvWithState against direct formulas, and error cases."""

import numpy as np
import onnxruntime as ort
import pytest
from onnx import helper

import onnxrun
from onnxrun.errors import InvalidArgument

RNG = np.random.default_rng(1)
f32 = np.float32


def _model(op, inputs, attrs=None, opset=23, n_out=1):
    vis, names, feeds = [], [], {}
    for name, arr in inputs:
        if arr is None:
            names.append("")
            continue
        names.append(name)
        vis.append(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(arr.dtype),
                                                 arr.shape))
        feeds[name] = arr
    outs = [f"y{i}" for i in range(n_out)]
    node = helper.make_node(op, names, outs, **(attrs or {}))
    g = helper.make_graph([node], "g", vis, [helper.make_empty_tensor_value_info(o) for o in outs])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 10
    return m.SerializeToString(), feeds


def _mine(op, inputs, attrs=None, opset=23, n_out=1):
    m, feeds = _model(op, inputs, attrs, opset, n_out)
    return onnxrun.InferenceSession(m).run(None, feeds)


def _vs_ort(op, inputs, attrs=None, opset=23, n_out=1, rtol=1e-5, atol=1e-6):
    m, feeds = _model(op, inputs, attrs, opset, n_out)
    exp = ort.InferenceSession(m, providers=["CPUExecutionProvider"]).run(None, feeds)
    got = onnxrun.InferenceSession(m).run(None, feeds)
    for e, g in zip(exp, got):
        assert e.dtype == g.dtype and e.shape == g.shape
        np.testing.assert_allclose(g.astype(f32), e.astype(f32), rtol=rtol, atol=atol)


def r(*s, dt=f32):
    return RNG.standard_normal(s).astype(dt)


@pytest.mark.parametrize("attrs", [{}, dict(is_causal=1), dict(scale=0.3, softcap=2.0)])
def test_attention_gqa_past_vs_ort(attrs):
    q, k, v = r(2, 4, 3, 8), r(2, 2, 3, 8), r(2, 2, 3, 6)
    pk, pv = r(2, 2, 5, 8), r(2, 2, 5, 6)
    _vs_ort("Attention", [("q", q), ("k", k), ("v", v), ("m", None), ("pk", pk), ("pv", pv)],
            attrs, n_out=3)


def test_attention_3d_bool_mask_vs_ort():
    q, k, v = r(2, 4, 12), r(2, 6, 6), r(2, 6, 6)
    mask = RNG.random((4, 6)) > 0.3
    _vs_ort("Attention", [("q", q), ("k", k), ("v", v), ("m", mask)],
            dict(q_num_heads=2, kv_num_heads=1))


def test_attention_fully_masked_row_is_zero_and_fp16():
    q, k, v = r(1, 1, 2, 4, dt=np.float16), r(1, 1, 3, 4, dt=np.float16), r(1, 1, 3, 4,
                                                                             dt=np.float16)
    mask = np.array([[False, False, False], [True, False, True]])
    y, _, _, p = _mine("Attention", [("q", q), ("k", k), ("v", v), ("m", mask)],
                       dict(qk_matmul_output_mode=3), n_out=4)
    assert y.dtype == np.float16 and p.dtype == np.float16
    assert not np.any(np.isnan(y)) and np.all(y[0, 0, 0] == 0) and np.all(p[0, 0, 0] == 0)
    np.testing.assert_allclose(p[0, 0, 1].astype(f32).sum(), 1, rtol=1e-3)


def test_attention_nonpad_causal_offset():
    q, k, v = r(2, 1, 2, 4), r(2, 1, 5, 4), r(2, 1, 5, 4)
    lens = np.array([3, 5], np.int64)
    (y,) = _mine("Attention", [("q", q), ("k", k), ("v", v), ("m", None), ("pk", None),
                               ("pv", None), ("n", lens)], dict(is_causal=1), opset=24)
    for b in range(2):
        for i in range(2):
            last = lens[b] - 2 + i  # bottom-right alignment
            s = q[b, 0, i] @ k[b, 0, :last + 1].T / 2
            p = np.exp(s - s.max())
            p /= p.sum()
            np.testing.assert_allclose(y[b, 0, i], p @ v[b, 0, :last + 1], rtol=1e-5, atol=1e-6)


def test_attention_bad_heads():
    with pytest.raises(InvalidArgument):
        _mine("Attention", [("q", r(1, 3, 2, 4)), ("k", r(1, 2, 2, 4)), ("v", r(1, 2, 2, 4))])


@pytest.mark.parametrize("attrs", [{}, dict(interleaved=1), dict(rotary_embedding_dim=4)])
def test_rotary_vs_ort(attrs):
    x = r(2, 3, 5, 8)
    half = attrs.get("rotary_embedding_dim", 8) // 2
    ang = RNG.random((10, half)).astype(f32) * 3
    pos = RNG.integers(0, 10, (2, 5)).astype(np.int64)
    _vs_ort("RotaryEmbedding", [("x", x), ("c", np.cos(ang)), ("s", np.sin(ang)), ("p", pos)],
            attrs)


def test_rotary_bad_position():
    ang = np.zeros((4, 2), f32)
    with pytest.raises(InvalidArgument, match="position_ids"):
        _mine("RotaryEmbedding", [("x", r(1, 1, 2, 4)), ("c", ang), ("s", ang),
                                  ("p", np.array([[0, 4]], np.int64))])


@pytest.mark.parametrize("eq,shapes", [
    ("ij,jk", [(3, 4), (4, 5)]), ("ji", [(3, 4)]), ("ii->i", [(4, 4)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]), ("bij, bjk -> bik", [(2, 3, 4), (2, 4, 5)]),
    ("Ab,bA", [(3, 4), (4, 3)]), ("i,i", [(5,), (5,)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)])])
def test_einsum(eq, shapes):
    xs = [r(*s) for s in shapes]
    (got,) = _mine("Einsum", [(f"x{i}", x) for i, x in enumerate(xs)], dict(equation=eq),
                   opset=12)
    e = eq.replace(" ", "")
    np.testing.assert_allclose(got, np.einsum(e, *xs), rtol=1e-5, atol=1e-6)
    assert got.dtype == np.float32


def test_einsum_float16_and_ints():
    a, b = r(3, 4, dt=np.float16), r(4, 2, dt=np.float16)
    (got,) = _mine("Einsum", [("a", a), ("b", b)], dict(equation="ij,jk->ik"), opset=12)
    assert got.dtype == np.float16
    a, b = RNG.integers(-5, 5, (3, 4)), RNG.integers(-5, 5, (4, 2))
    (got,) = _mine("Einsum", [("a", a), ("b", b)], dict(equation="ij,jk->ik"), opset=12)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, a @ b)


def test_tensorscatter_circular_and_errors():
    past = np.arange(2 * 3 * 4 * 2, dtype=f32).reshape(2, 3, 4, 2)
    upd = -np.ones((2, 3, 2, 2), f32)
    wi = np.array([3, 1], np.int64)
    (got,) = _mine("TensorScatter", [("p", past), ("u", upd), ("w", wi)],
                   dict(mode="circular"), opset=24)
    want = past.copy()
    want[0, :, [3, 0]] = -1
    want[1, :, [1, 2]] = -1
    np.testing.assert_array_equal(got, want)
    with pytest.raises(InvalidArgument, match="linear"):
        _mine("TensorScatter", [("p", past), ("u", upd), ("w", wi)], opset=24)


def test_causal_conv_with_state_decode_consistency():
    x, w, b = r(2, 3, 7), r(3, 1, 4), r(3)
    y, st = _mine("CausalConvWithState", [("x", x), ("w", w), ("b", b)],
                  dict(activation="silu"), opset=27, n_out=2)
    # one token at a time through the carried state gives the same result
    state, ys = None, []
    for t in range(7):
        yt, state = _mine("CausalConvWithState", [("x", x[:, :, t:t + 1]), ("w", w), ("b", b),
                                                  ("s", state)], dict(activation="silu"),
                          opset=27, n_out=2)
        ys.append(yt)
    np.testing.assert_allclose(np.concatenate(ys, axis=2), y, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(state, st)


@pytest.mark.parametrize("rule", ["linear", "gated", "delta", "gated_delta"])
def test_linear_attention_chunked_equals_full(rule):
    B, T, Hq, Hkv, dk, dv = 2, 6, 4, 2, 3, 5
    q, k, v = r(B, T, Hq * dk), r(B, T, Hkv * dk), r(B, T, Hkv * dv)
    dec = -np.abs(r(B, T, Hkv)) if "gated" in rule else None
    beta = 1 / (1 + np.exp(-r(B, T, Hkv))) if "delta" in rule else None
    attrs = dict(update_rule=rule, q_num_heads=Hq, kv_num_heads=Hkv)

    def run(sl, state):
        return _mine("LinearAttention", [("q", q[:, sl]), ("k", k[:, sl]), ("v", v[:, sl]),
                                         ("s", state),
                                         ("d", None if dec is None else dec[:, sl]),
                                         ("b", None if beta is None else beta[:, sl])],
                     attrs, opset=27, n_out=2)
    y, s = run(slice(0, T), None)
    y1, s1 = run(slice(0, 4), None)
    y2, s2 = run(slice(4, T), s1)
    np.testing.assert_allclose(np.concatenate([y1, y2], 1), y, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(s2, s, rtol=1e-4, atol=1e-5)
    if rule == "linear":  # closed form: o_t = scale * q_t . sum_{s<=t} k_s v_s^T
        qh = q.reshape(B, T, Hq, dk)
        kh = np.repeat(k.reshape(B, T, Hkv, dk), 2, axis=2)
        vh = np.repeat(v.reshape(B, T, Hkv, dv), 2, axis=2)
        sc = np.einsum("bthd,bshd->bhts", qh, kh) * np.tril(np.ones((T, T)))
        want = np.einsum("bhts,bshe->bthe", sc, vh) / np.sqrt(dk)
        np.testing.assert_allclose(y, want.reshape(B, T, -1), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("per_dim", [False, True])
def test_linear_attention_gated_chunks_vs_loop(per_dim):
    B, T, H, dk, dv = 1, 7, 2, 3, 2
    q, k, v = r(B, T, H * dk), r(B, T, H * dk), r(B, T, H * dv)
    dec = -np.abs(r(B, T, H * dk if per_dim else H))
    s0 = r(B, H, dk, dv)
    (y, s) = _mine("LinearAttention", [("q", q), ("k", k), ("v", v), ("s", s0), ("d", dec)],
                   dict(update_rule="gated", q_num_heads=H, kv_num_heads=H, chunk_size=3),
                   opset=27, n_out=2)
    S = s0.astype(np.float64).copy()
    want = np.zeros((B, T, H, dv))
    g = np.exp(dec.reshape(B, T, H, -1))[..., None]
    for t in range(T):
        kt, vt, qt = (a.reshape(B, T, H, -1)[:, t] for a in (k, v, q))
        S = S * g[:, t] + kt[..., :, None] * vt[..., None, :]
        want[:, t] = np.einsum("bhk,bhkv->bhv", qt, S) / np.sqrt(dk)
    np.testing.assert_allclose(y, want.reshape(B, T, -1), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(s, S, rtol=1e-4, atol=1e-5)
