"""com.microsoft Attention, MultiHeadAttention and GroupQueryAttention against onnxruntime (CPU)
on single-node models, every mask / cache / packing form; the forms onnxruntime's CPU kernels
reject (4-D mask, shared past buffer, packed MHA inputs) against equivalent forms it runs; and
errors on bad inputs."""

import numpy as np
import pytest

from onnxrun.errors import InvalidArgument, NotImplemented as OrtNotImplemented

from ._microsoft import FLOAT, f16, i32, node_model, r, run_mine, run_ort, vs_ort

# --- Attention (packed QKV weights) -----------------------------------------------------------

B, S, D, N = 2, 4, 16, 2
X, W, BIAS = r(B, S, D), r(D, 3 * D, scale=0.3), r(3 * D)
PAST = r(2, B, N, 3, D // N)

MASKS = {
    "none": None,
    "key_len": i32(3, 2),
    "end_start": i32(4, 3, 1, 0),
    "3b+2": i32(4, 3, 1, 0, 0, 0, 0, 0),
    "raw2d": np.array([[1, 1, 1, 0], [1, 1, 0, 0]], np.int32),
    "raw3d": (np.random.default_rng(0).random((B, S, S)) > 0.3).astype(np.int32),
    "dummy": np.array([[1], [1]], np.int32),
    "fully_masked": i32(0, 2),
}


def _attention(extra=(), **attrs):
    return [("x", X), ("w", W), ("b", BIAS)] + list(extra), dict(num_heads=N, **attrs)


@pytest.mark.parametrize("uni", [0, 1])
@pytest.mark.parametrize("mask", list(MASKS))
def test_attention_masks(mask, uni):
    ins, attrs = _attention([("m", MASKS[mask])], unidirectional=uni)
    vs_ort("Attention", ins, attrs)


def test_attention_constant_weights_filter_value_and_scale():
    ins, attrs = _attention([("m", MASKS["raw2d"])], mask_filter_value=-1e9, scale=0.2)
    vs_ort("Attention", ins, attrs, consts=("w", "b"))
    ins, attrs = _attention()
    vs_ort("Attention", ins, attrs, consts=("w",))  # constant weights, bias as an input


@pytest.mark.parametrize("mask", [None, i32(6, 7),
                                  np.array([[1] * 7, [1] * 5 + [0, 1]], np.int32)])
@pytest.mark.parametrize("uni", [0, 1])
def test_attention_past_present(mask, uni):
    ins, attrs = _attention([("m", mask), ("p", PAST)], unidirectional=uni)
    vs_ort("Attention", ins, attrs, outputs=("y", "present"))


def test_attention_decoding_step_and_present_without_past():
    ins = [("x", X[:, :1]), ("w", W), ("b", BIAS), ("m", None), ("p", PAST)]
    vs_ort("Attention", ins, dict(num_heads=N, unidirectional=1), outputs=("y", "present"))
    ins, attrs = _attention()
    vs_ort("Attention", ins, attrs, outputs=("y", "present"))


@pytest.mark.parametrize("shape", [(1, N, S, S), (B, 1, S, S), (B, N, S, S)])
def test_attention_bias(shape):
    ins, attrs = _attention([("m", MASKS["key_len"]), ("p", None), ("ab", r(*shape))],
                            unidirectional=1)
    vs_ort("Attention", ins, attrs)


def test_attention_qkv_hidden_sizes_and_fp16():
    vs_ort("Attention", [("x", X), ("w", r(D, 2 * D + 8)), ("b", r(2 * D + 8))],
           dict(num_heads=N, qkv_hidden_sizes=[D, D, 8]))
    ins, attrs = _attention([("m", MASKS["raw2d"])])
    ins16 = [(n, a.astype(f16)) if a.dtype == np.float32 else (n, a) for n, a in ins]
    for consts in ((), ("w", "b")):
        vs_ort("Attention", ins16, attrs, rtol=3e-3, atol=3e-3, consts=consts)


def test_attention_4d_megatron_mask_equals_3d_mask():
    # onnxruntime's CPU kernel rejects 4-D masks: rows [P, P+S) and columns [0, T) of the
    # (B, 1, M, M) mask are the (B, S, T) mask, which it runs
    m3 = MASKS["raw3d"]
    m4 = np.zeros((B, 1, 6, 6), np.int32)
    m4[:, 0, :S, :S] = m3
    ins, attrs = _attention([("m", m4)])
    mine = run_mine(*node_model("Attention", ins, attrs))[0]
    ins, attrs = _attention([("m", m3)])
    np.testing.assert_allclose(mine, run_ort(*node_model("Attention", ins, attrs))[0],
                               rtol=1e-5, atol=1e-6)


def test_attention_shared_past_buffer_equals_plain_past():
    # onnxruntime's CPU kernel cannot run past_present_share_buffer; the result must equal the
    # plain past form with the buffer's first P rows, present keeping the buffer's other rows
    P, M = 3, 8
    buf = r(2, B, N, M, D // N)
    ins, attrs = _attention([("m", None), ("p", buf), ("ab", None),
                             ("psl", np.array([P], np.int32))],
                            unidirectional=1, past_present_share_buffer=1)
    y, present = run_mine(*node_model("Attention", ins, attrs, outputs=("y", "present")))
    ins, attrs = _attention([("m", None), ("p", np.ascontiguousarray(buf[:, :, :, :P]))],
                            unidirectional=1)
    y_ref, present_ref = run_ort(*node_model("Attention", ins, attrs, outputs=("y", "present")))
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-6)
    assert present.shape == buf.shape
    np.testing.assert_allclose(present[:, :, :, :P + S], present_ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(present[:, :, :, P + S:], buf[:, :, :, P + S:])


# --- MultiHeadAttention -----------------------------------------------------------------------

L, H = 5, 4
Q, K, V = r(B, S, N * H), r(B, L, N * H), r(B, L, N * H)
MBIAS = r(3 * N * H)
PK, PV = r(B, N, 3, H), r(B, N, 3, H)


def _mha(q=Q, k=K, v=V, bias=None, mask=None, ab=None, pk=None, pv=None):
    return [("q", q), ("k", k), ("v", v), ("b", bias), ("m", mask), ("ab", ab), ("pk", pk),
            ("pv", pv)]


@pytest.mark.parametrize("case", ["cross", "cross_bias", "self_bias", "bnsh_kv",
                                  "bnsh_kv_bias", "v_head_size"])
def test_mha_forms(case):
    ins = {"cross": _mha(), "cross_bias": _mha(bias=MBIAS),
           "self_bias": _mha(k=Q, v=Q, bias=MBIAS),
           "bnsh_kv": _mha(k=r(B, N, L, H), v=r(B, N, L, H)),
           "bnsh_kv_bias": _mha(k=r(B, N, L, H), v=r(B, N, L, H), bias=MBIAS),
           "v_head_size": _mha(v=r(B, L, N * 6), bias=r(2 * N * H + N * 6))}[case]
    vs_ort("MultiHeadAttention", ins, dict(num_heads=N), outputs=("y", "present_k", "present_v"))


@pytest.mark.parametrize("mask", [i32(3, 5), i32(3, 5, 0, 0, 0, 0, 0, 0), i32(0, 2),
                                  (np.arange(B * L).reshape(B, L) % 3 > 0).astype(np.int32),
                                  (np.arange(B * S * L).reshape(B, S, L) % 4 > 0).astype(
                                      np.int32)])
def test_mha_key_padding_masks(mask):
    # a fully masked row scores around -500: float32 rounding there is about 3e-5
    vs_ort("MultiHeadAttention", _mha(mask=mask, ab=r(1, N, S, L)),
           dict(num_heads=N, mask_filter_value=-500.0), atol=1e-4)


@pytest.mark.parametrize("self_attn", [True, False])
def test_mha_unidirectional(self_attn):
    # cross attention (L > S): onnxruntime leaves the last query row unmasked
    ins = _mha(k=Q, v=Q) if self_attn else _mha()
    vs_ort("MultiHeadAttention", ins, dict(num_heads=N, unidirectional=1))


def test_mha_past_present_with_mask_and_bias():
    T = 3 + S
    ins = _mha(k=r(B, S, N * H), v=r(B, S, N * H), bias=MBIAS,
               mask=(np.arange(B * T).reshape(B, T) % 5 > 0).astype(np.int32),
               ab=r(B, 1, S, T), pk=PK, pv=PV)
    vs_ort("MultiHeadAttention", ins, dict(num_heads=N, unidirectional=1, scale=0.3),
           outputs=("y", "present_k", "present_v"))
    vs_ort("MultiHeadAttention", _mha(pk=PK, pv=PV), dict(num_heads=N),
           outputs=("y", "present_k", "present_v"))


def test_mha_qk_output_and_fp16():
    vs_ort("MultiHeadAttention", _mha(mask=i32(4, 5), ab=r(1, N, S, L)),
           dict(num_heads=N, unidirectional=1), outputs=("y", "", "", "qk"),
           out_types={3: FLOAT})
    vs_ort("MultiHeadAttention", _mha(q=Q.astype(f16), k=K.astype(f16), v=V.astype(f16)),
           dict(num_heads=N), rtol=3e-3, atol=3e-3)


def test_mha_packed_forms_equal_unpacked():
    # onnxruntime's CPU kernel rejects packed QKV / KV; compare with the unpacked inputs
    qkv = r(B, S, N, 3, H)
    q, k, v = (np.ascontiguousarray(qkv[:, :, :, i]).reshape(B, S, N * H) for i in range(3))
    mine = run_mine(*node_model("MultiHeadAttention",
                                [("q", qkv), ("k", None), ("v", None), ("b", MBIAS)],
                                dict(num_heads=N)))[0]
    ref = run_ort(*node_model("MultiHeadAttention", _mha(q, k, v, MBIAS), dict(num_heads=N)))[0]
    np.testing.assert_allclose(mine, ref, rtol=1e-5, atol=1e-6)
    kv = r(B, L, N, 2, H)
    k, v = (np.ascontiguousarray(kv[:, :, :, i]).reshape(B, L, N * H) for i in range(2))
    mine = run_mine(*node_model("MultiHeadAttention", [("q", Q), ("k", kv), ("v", None),
                                                       ("b", MBIAS)], dict(num_heads=N)))[0]
    ref = run_ort(*node_model("MultiHeadAttention", _mha(Q, k, v, MBIAS), dict(num_heads=N)))[0]
    np.testing.assert_allclose(mine, ref, rtol=1e-5, atol=1e-6)


# --- GroupQueryAttention ----------------------------------------------------------------------

GB, GS, GN, GNK, GH = 2, 5, 4, 2, 16
GQ, GK, GV = r(GB, GS, GN * GH), r(GB, GS, GNK * GH), r(GB, GS, GNK * GH)
GQ1, GK1, GV1 = GQ[:, :1], GK[:, :1], GV[:, :1]
COS, SIN = r(16, 8), r(16, 8)


def _gqa(q=GQ, k=GK, v=GV, past=None, seqlens=(4, 4), total=5, cos=None, sin=None, pid=None,
         ab=None, sink=None):
    pk = pv = None
    if past is not None:
        pk, pv = past, past[::-1].copy()
    return [("q", q), ("k", k), ("v", v), ("pk", pk), ("pv", pv), ("sk", i32(*seqlens)),
            ("t", np.array(total, np.int32)), ("c", cos), ("s", sin), ("pid", pid), ("ab", ab),
            ("hs", sink)]


def _vs_ort_gqa(ins, rows=None, outputs=("y", "present_k", "present_v"), out_types=None,
                tol=None, **attrs):
    valid = None
    if rows is not None:
        valid = {1: rows, 2: rows}
    vs_ort("GroupQueryAttention", ins, dict(num_heads=GN, kv_num_heads=GNK, **attrs),
           outputs=outputs, rows=valid, out_types=out_types, **(tol or {}))


PACKED = r(GB, GS, (GN + 2 * GNK) * GH)
GQA_CASES = {
    "prompt": (_gqa(), None, {}),
    "prompt_empty_past": (_gqa(past=r(GB, GNK, 0, GH)), None, {}),
    "prompt_buffer": (_gqa(past=np.zeros((GB, GNK, 8, GH), np.float32)), [5, 5], {}),
    "generate_ragged": (_gqa(GQ1, GK1, GV1, r(GB, GNK, 6, GH), (6, 4), 7), [7, 5], {}),
    "generate_buffer": (_gqa(GQ1, GK1, GV1, r(GB, GNK, 8, GH), (6, 4), 7), [7, 5], {}),
    "chunk_b1": (_gqa(GQ[:1, :3], GK[:1, :3], GV[:1, :3], r(1, GNK, 4, GH), (6,), 7), [7], {}),
    "rotary": (_gqa(cos=COS, sin=SIN), None, dict(do_rotary=1)),
    "rotary_interleaved_partial": (
        _gqa(r(GB, GS, GN * 32), r(GB, GS, GNK * 32), r(GB, GS, GNK * 32), cos=COS, sin=SIN),
        None, dict(do_rotary=1, rotary_interleaved=1)),
    "rotary_generate": (_gqa(GQ1, GK1, GV1, r(GB, GNK, 8, GH), (6, 4), 7, COS, SIN), [7, 5],
                        dict(do_rotary=1)),
    "position_ids_prompt": (_gqa(cos=COS, sin=SIN,
                                 pid=np.array([[2, 3, 4, 5, 6], [0, 1, 2, 3, 4]], np.int64)),
                            None, dict(do_rotary=1)),
    "position_ids_generate": (_gqa(GQ1, GK1, GV1, r(GB, GNK, 6, GH), (6, 4), 7, COS, SIN,
                                   np.array([[9], [3]], np.int64)), [7, 5], dict(do_rotary=1)),
    "packed": (_gqa(PACKED, None, None), None, {}),
    "packed_rotary": (_gqa(PACKED, None, None, cos=COS, sin=SIN), None, dict(do_rotary=1)),
    "attention_bias_softcap": (_gqa(ab=r(GB, 1, GS, 5)), None, dict(softcap=2.0)),
    "head_sink": (_gqa(sink=r(GN)), None, {}),
    "smooth_softmax_scale": (_gqa(), None, dict(smooth_softmax=1, scale=0.3)),
    "local_window": (_gqa(), None, dict(local_window_size=2)),
    "local_window_generate": (_gqa(GQ1, GK1, GV1, r(GB, GNK, 8, GH), (6, 4), 7), [7, 5],
                              dict(local_window_size=3)),
    "bidirectional": (_gqa(), None, dict(causal=0)),
}


@pytest.mark.parametrize("case", list(GQA_CASES))
def test_gqa(case):
    ins, rows, attrs = GQA_CASES[case]
    _vs_ort_gqa(ins, rows, **attrs)


@pytest.mark.parametrize("causal", [1, 0])
def test_gqa_right_padded_prompt(causal):
    # rows at or beyond seqlens_k + 1 are padding: onnxruntime leaves their output unspecified
    ins = _gqa(seqlens=(4, 2))
    m, feeds = node_model("GroupQueryAttention", ins,
                          dict(num_heads=GN, kv_num_heads=GNK, causal=causal),
                          outputs=("y", "present_k", "present_v"))
    got, exp = run_mine(m, feeds), run_ort(m, feeds)
    for b, n in enumerate((5, 3)):
        np.testing.assert_allclose(got[0][b, :n], exp[0][b, :n], rtol=1e-5, atol=1e-6)
        for i in (1, 2):
            np.testing.assert_allclose(got[i][b, :, :n], exp[i][b, :, :n], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", [1, 2])
@pytest.mark.parametrize("step", ["prompt", "generate"])
def test_gqa_qk_output(mode, step):
    if step == "prompt":
        ins, rows = _gqa(ab=r(GB, GN, GS, 5)), [5, 5]
    else:
        ins, rows = _gqa(GQ1, GK1, GV1, r(GB, GNK, 6, GH), (6, 4), 7, ab=r(GB, GN, 1, 7)), [7, 5]
    _vs_ort_gqa(ins, rows, outputs=("y", "present_k", "present_v", "qk"), out_types={3: FLOAT},
                qk_output=mode, softcap=3.0)


def test_gqa_fp16():
    ins = _gqa(GQ.astype(f16), GK.astype(f16), GV.astype(f16))
    _vs_ort_gqa(ins, tol=dict(rtol=3e-3, atol=3e-3))


# --- errors -----------------------------------------------------------------------------------

ERRORS = [
    ("Attention", [("x", X), ("w", W)], {}, InvalidArgument, "required attribute 'num_heads'"),
    ("Attention", [("x", X), ("w", W), ("b", BIAS), ("m", i32(1, 2, 3))], dict(num_heads=N),
     InvalidArgument, "mask_index with 1-D data"),
    ("Attention", [("x", X), ("w", r(D + 1, 3 * D))], dict(num_heads=N), InvalidArgument,
     "must equal the input hidden size"),
    ("Attention", [("x", X), ("w", W)], dict(num_heads=N, do_rotary=1), OrtNotImplemented,
     "do_rotary"),
    ("Attention", [("x", X), ("w", W)], dict(num_heads=N, qkv_hidden_sizes=[16, 8, 24]),
     InvalidArgument, "Q and K sizes must be equal"),
    ("Attention", [("x", X[0]), ("w", W)], dict(num_heads=N), InvalidArgument,
     "input must be 3-D"),
    ("MultiHeadAttention", [("q", Q)], dict(num_heads=N), InvalidArgument, "key is required"),
    ("MultiHeadAttention", _mha(pk=PK), dict(num_heads=N), InvalidArgument,
     "past_key and past_value must be given together"),
    ("MultiHeadAttention", _mha(mask=np.ones((B, 3), np.int32)), dict(num_heads=N),
     InvalidArgument, "key_padding_mask with 2-D data"),
    ("MultiHeadAttention", _mha() + [("psl", i32(1))], dict(num_heads=N), OrtNotImplemented,
     "past_sequence_length"),
    ("GroupQueryAttention", _gqa(seqlens=(4, 5)), dict(num_heads=GN, kv_num_heads=GNK),
     InvalidArgument, r"seqlens_k \+ 1 must be in"),
    ("GroupQueryAttention", _gqa(), dict(num_heads=3, kv_num_heads=GNK), InvalidArgument,
     "must be a positive multiple of kv_num_heads"),
    ("GroupQueryAttention", _gqa() + [("ks", np.ones(1, np.float32))],
     dict(num_heads=GN, kv_num_heads=GNK), OrtNotImplemented, "k_scale"),
    ("GroupQueryAttention", _gqa(), dict(num_heads=GN, kv_num_heads=GNK, do_rotary=1),
     InvalidArgument, "needs cos_cache and sin_cache"),
    ("GroupQueryAttention", _gqa(GQ1, GK1, GV1, r(GB, GNK, 6, GH), (8, 4), 9),
     dict(num_heads=GN, kv_num_heads=GNK), InvalidArgument, "past_key holds 6 positions"),
    ("GroupQueryAttention", _gqa(GQ1, GK1, GV1, r(GB, GNK, 6, GH), (6, 6), 2 ** 31 - 1),
     dict(num_heads=GN, kv_num_heads=GNK), InvalidArgument, "session.max_tensor_bytes"),
]



@pytest.mark.parametrize("op,ins,attrs,err,match", ERRORS,
                         ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)])
def test_bad_inputs_give_onnxrun_errors(op, ins, attrs, err, match):
    m, feeds = node_model(op, ins, attrs)
    with pytest.raises(err, match=match) as info:
        run_mine(m, feeds)
    assert op in str(info.value)


class _Info:
    """The attributes MultiHeadAttention's kernel reads from OpKernelInfo."""

    attrs = {"num_heads": N}
    input_names = ["q", "k", "v"]

    def attr(self, name, default=None):
        return self.attrs.get(name, default)

    def require_attr(self, name):
        return self.attrs[name]

    def output_wanted(self, index):
        return True


@pytest.mark.parametrize("k", [r(B, N, L, H), r(B, 1, N * H)], ids=["bnsh", "one_token"])
def test_mha_present_never_aliases_key_or_value(k):
    # the kernel is registered fresh=True: present_key/value must be new arrays even when
    # K/V pass through unchanged (4-D key/value, or a single token without bias)
    from onnxrun.kernels.microsoft.multihead_attention import MultiHeadAttention
    q = r(B, 1, N * H)
    _, pk, pv, _ = MultiHeadAttention(_Info())(q, k, k.copy())
    assert not np.shares_memory(pk, k)
    expected = k if k.ndim == 4 else k.reshape(B, 1, N, H).transpose(0, 2, 1, 3)
    np.testing.assert_array_equal(pk, expected)
