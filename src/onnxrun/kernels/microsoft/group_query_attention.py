"""GroupQueryAttention (com.microsoft): causal grouped-query attention with a KV cache, as the
onnxruntime-genai model builder emits it for Llama/Mistral/Phi-style decoders."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument, NotImplemented as OrtNotImplemented
from .._alloc import check_alloc, max_bytes
from ..base import OpKernel
from ..registry import kernel
from ._transformer import (DOMAIN, attend, check_attention_bias, compute, default_scale,
                           int_scalar, merge_heads, require_inputs, rotary_tables, rotate)

_UNSUPPORTED_INPUTS = {12: "k_scale", 13: "v_scale", 14: "q_norm_weight", 15: "k_norm_weight",
                       16: "query_seqlens"}


@kernel("GroupQueryAttention", since=1, domain=DOMAIN, fresh=True)
class GroupQueryAttention(OpKernel):
    """Inputs query [B, S, N*H] (or packed [B, S, (N + 2*Nk)*H] without key/value), key/value
    [B, S, Nk*H], past_key/past_value [B, Nk, P, H] (BNSH; a past length or a shared buffer of
    the maximum length), seqlens_k [B] (each batch entry's total length - 1),
    total_sequence_length (scalar), optional cos_cache/sin_cache (with ``do_rotary``),
    position_ids (for the first prompt only its first element counts: positions
    position_ids[0, 0] + s, as in onnxruntime), attention_bias and head_sink.

    Per batch entry b with T_b = seqlens_k[b] + 1 tokens after this step: for the first prompt
    (S == total_sequence_length) the new tokens are positions 0..S-1 (rows at or beyond T_b
    are right padding); otherwise they follow T_b - S cached tokens. New K/V rows (rotated
    when ``do_rotary``) are written into present at those positions; present has
    max(P, total_sequence_length) rows, the past buffer's other rows copied (so a shared
    buffer keeps its content). Query row s (position p) sees keys j < T_b with j <= p when
    ``causal`` and j > p - local_window_size when a window is set; scores are scaled,
    softcapped, then attention_bias is added; masked keys get probability exactly 0 (as in
    onnxruntime, which skips them, rather than adding a large negative value). Output
    output_qk [B, N, S, total_sequence_length] holds, with ``qk_output`` 1, those scores (0 at
    masked keys) and with 2 the probabilities."""

    def __init__(self, info):
        super().__init__(info)
        require_inputs(info, "query", "", "", "", "", "seqlens_k", "total_sequence_length")
        self.N = int(info.require_attr("num_heads"))
        self.Nk = int(info.require_attr("kv_num_heads"))
        if self.N <= 0 or self.Nk <= 0 or self.N % self.Nk:
            raise InvalidArgument(f"num_heads ({self.N}) must be a positive multiple of "
                                  f"kv_num_heads ({self.Nk})")
        self.scale_attr = info.attr("scale")
        self.softcap = float(info.attr("softcap", 0.0))
        self.window = int(info.attr("local_window_size", -1))
        self.causal = int(info.attr("causal", 1))
        if self.causal not in (0, 1):
            raise InvalidArgument(f"causal must be 0 or 1, got {self.causal}")
        if not self.causal and self.window != -1:
            raise InvalidArgument("local_window_size must be -1 when causal is 0")
        self.rotary = int(info.attr("do_rotary", 0)) != 0
        self.interleaved = int(info.attr("rotary_interleaved", 0)) != 0
        self.smooth = int(info.attr("smooth_softmax", -1)) == 1
        self.qk_output = int(info.attr("qk_output", 0))
        if self.qk_output not in (0, 1, 2):
            raise InvalidArgument(f"qk_output must be 0, 1 or 2, got {self.qk_output}")
        if int(info.attr("sliding_window_cache", 0)):
            raise OrtNotImplemented("GroupQueryAttention with sliding_window_cache=1 is not "
                                 "supported")
        for a in ("k_quant_type", "v_quant_type"):
            v = info.attr(a, "NONE")
            v = v.decode() if isinstance(v, bytes) else v
            if v != "NONE":
                raise OrtNotImplemented(f"GroupQueryAttention with a quantized KV cache ({a}={v}) "
                                     "is not supported")
        for i, name in _UNSUPPORTED_INPUTS.items():
            if i < len(info.input_names) and info.input_names[i]:
                raise OrtNotImplemented(f"GroupQueryAttention input {name} is not supported")

    def __call__(self, query, key=None, value=None, past_key=None, past_value=None,
                 seqlens_k=None, total_sequence_length=None, cos_cache=None, sin_cache=None,
                 position_ids=None, attention_bias=None, head_sink=None, *unsupported):
        N, Nk = self.N, self.Nk
        if seqlens_k is None or total_sequence_length is None:
            raise InvalidArgument("seqlens_k and total_sequence_length are required")
        if query.ndim != 3:
            raise InvalidArgument(f"query must be 3-D, got shape {query.shape}")
        B, S, d = query.shape
        dt = query.dtype
        qc = compute(query, "query")
        cd = qc.dtype
        if key is None:
            if value is not None:
                raise InvalidArgument("key and value must be both present or both absent")
            if d % (N + 2 * Nk):
                raise InvalidArgument(f"packed QKV hidden size {d} is not a multiple of "
                                      f"num_heads + 2 * kv_num_heads ({N + 2 * Nk})")
            H = d // (N + 2 * Nk)
            x = qc.reshape(B, S, N + 2 * Nk, H)
            q, k, v = x[:, :, :N], x[:, :, N:N + Nk], x[:, :, N + Nk:]
        else:
            if value is None or key.ndim != 3 or value.shape != key.shape or \
                    key.shape[:2] != (B, S):
                raise InvalidArgument(f"key and value must both have shape ({B}, {S}, "
                                      f"kv_hidden), got {key.shape} and "
                                      f"{None if value is None else value.shape}")
            if d % N or key.shape[2] != d // N * Nk:
                raise InvalidArgument(f"query hidden {d} and key hidden {key.shape[2]} do not "
                                      f"fit {N} query heads and {Nk} KV heads")
            H = d // N
            q = qc.reshape(B, S, N, H)
            k = compute(key, "key").astype(cd, copy=False).reshape(B, S, Nk, H)
            v = compute(value, "value").astype(cd, copy=False).reshape(B, S, Nk, H)
        lens = np.asarray(seqlens_k).astype(np.int64).reshape(-1) + 1
        if lens.shape != (B,):
            raise InvalidArgument(f"seqlens_k must have shape ({B},), got "
                                  f"{np.shape(seqlens_k)}")
        T = int_scalar(total_sequence_length, "total_sequence_length")
        if np.any(lens < 1) or np.any(lens > T):
            raise InvalidArgument(f"seqlens_k + 1 must be in [1, total_sequence_length={T}], "
                                  f"got {lens.tolist()}")
        first = S == T
        past_len = np.zeros(B, np.int64) if first else lens - S
        if np.any(past_len < 0):
            raise InvalidArgument(f"seqlens_k + 1 ({lens.tolist()}) must be at least the "
                                  f"sequence length {S} after the first prompt")
        if self.rotary:
            q, k = self._rotate(q, k, cos_cache, sin_cache, position_ids, past_len, S, H,
                                first)
        present_k, present_v = self._cache(past_key, past_value, k, v, past_len, T, dt)
        Tmax = int(lens.max())
        keys = present_k[:, :, :Tmax]
        vals = present_v[:, :, :Tmax]
        if keys.dtype != cd:
            keys, vals = keys.astype(cd), vals.astype(cd)
        qh = q.transpose(0, 2, 1, 3) * cd.type(default_scale(self.scale_attr, H))
        pos = past_len[:, None] + np.arange(S)[None, :]  # [B, S] absolute query positions
        j = np.arange(Tmax)[None, None, :]
        ok = j < lens[:, None, None]
        if self.causal:
            ok = ok & (j <= pos[:, :, None])
        if self.window >= 0:
            ok &= j > pos[:, :, None] - self.window
        bias = np.where(ok, cd.type(0), cd.type(-np.inf))[:, None]
        if attention_bias is not None:
            check_attention_bias(attention_bias, B, N, S, T)
            bias = bias + compute(attention_bias, "attention_bias")[..., :Tmax].astype(cd)
        sink = None
        if head_sink is not None:
            if head_sink.shape != (N,):
                raise InvalidArgument(f"head_sink must have shape ({N},), got {head_sink.shape}")
            sink = compute(head_sink, "head_sink")
        elif self.smooth:
            sink = np.zeros(N, dtype=cd)
        ctx, raw, p = attend(qh, keys, vals, bias, self.softcap,
                             keep_scores=self.qk_output == 1, sink=sink)
        out = merge_heads(ctx, dt)
        qk = None
        if self.qk_output and self.info.output_wanted(3):
            check_alloc((B, N, S, T), dt, max_bytes(self.info), "output_qk")
            qk = np.zeros((B, N, S, T), dtype=dt)
            qk[..., :Tmax] = np.where(ok[:, None], raw, 0) if self.qk_output == 1 else p
        return out, present_k, present_v, qk

    def _rotate(self, q, k, cos_cache, sin_cache, position_ids, past_len, S, H, first):
        if cos_cache is None or sin_cache is None:
            raise InvalidArgument("do_rotary=1 needs cos_cache and sin_cache")
        rot = 2 * cos_cache.shape[-1]
        if cos_cache.ndim != 2 or rot > H:
            raise InvalidArgument(f"cos_cache must be 2-D (max_positions, <= head_size/2), got "
                                  f"{cos_cache.shape} for head size {H}")
        B = q.shape[0]
        if position_ids is not None:
            pos = np.asarray(position_ids).astype(np.int64)
            if pos.shape != (B, S):
                raise InvalidArgument(f"position_ids must have shape ({B}, {S}), got "
                                      f"{pos.shape}")
            if first:  # onnxruntime reads only the first element for the first prompt
                pos = np.broadcast_to(pos[0, 0] + np.arange(S), (B, S))
        else:
            pos = past_len[:, None] + np.arange(S)[None, :]
        c, s = rotary_tables(cos_cache, sin_cache, pos, "GroupQueryAttention", q.dtype)
        return (rotate(q, c, s, self.interleaved, rot), rotate(k, c, s, self.interleaved, rot))

    def _cache(self, past_key, past_value, k, v, past_len, T, dt):
        """present_key/present_value [B, Nk, max(P, T), H] with the new rows written."""
        B, S, Nk, H = k.shape
        if (past_key is None) != (past_value is None):
            raise InvalidArgument("past_key and past_value must be both present or both absent")
        P = 0
        if past_key is not None:
            for name, p in (("past_key", past_key), ("past_value", past_value)):
                if p.ndim != 4 or p.shape[:2] != (B, Nk) or p.shape[3] != H or \
                        p.shape[2] != past_key.shape[2]:
                    raise InvalidArgument(f"{name} must have shape ({B}, {Nk}, past_length, "
                                          f"{H}), got {p.shape}")
            P = past_key.shape[2]
        L = max(P, T)
        check_alloc((B, Nk, L, H), dt, max_bytes(self.info), "present_key")
        if np.any(past_len + S > L):
            raise InvalidArgument(f"the KV cache ({L} rows) cannot hold past lengths "
                                  f"{past_len.tolist()} plus {S} new tokens")
        if np.any(past_len > P):
            raise InvalidArgument(f"past_key holds {P} positions, fewer than the past lengths "
                                  f"{past_len.tolist()} implied by seqlens_k")
        out = []
        for past, new in ((past_key, k), (past_value, v)):
            pres = np.zeros((B, Nk, L, H), dtype=dt)
            if past is not None:
                pres[:, :, :P] = past
            for b in range(B):
                a = int(past_len[b])
                pres[b, :, a:a + S] = new[b].transpose(1, 0, 2)
            out.append(pres)
        return out[0], out[1]
