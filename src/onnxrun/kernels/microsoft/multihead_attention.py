"""MultiHeadAttention (com.microsoft): self or cross attention on projected Q/K/V with optional
projection bias, key padding mask, attention bias and past/present key/value."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument, NotImplemented as OrtNotImplemented
from ..base import OpKernel
from ..registry import kernel
from ._transformer import (DOMAIN, add_bias, attend, causal_bias, check_attention_bias,
                           compute, default_scale, mask_bias, merge_heads, require_inputs,
                           split_heads)


@kernel("MultiHeadAttention", since=1, domain=DOMAIN, fresh=True)
class MultiHeadAttention(OpKernel):
    """Forms of query/key/value: Q [B, S, N*H] with K/V [B, L, N*H] (self or cross attention,
    concatenated after past_key/past_value when given), K/V already split [B, N, L, H] (cross
    attention; no bias, no past), packed KV [B, L, N, 2, H], packed QKV [B, S, N, 3, H].

    As onnxruntime's CPU kernel: masked positions get ``mask_filter_value`` (default -10000)
    added; the causal mask (``unidirectional``) adds the lowest float to keys after the
    query's position (past length + row), except on the last query row (see causal_bias); the
    output ``qk`` holds the scaled Q K^T plus masks and attention bias, before softmax. The
    packed forms run here although onnxruntime's CPU kernel rejects them."""

    def __init__(self, info):
        super().__init__(info)
        require_inputs(info, "query")
        self.N = int(info.require_attr("num_heads"))
        if self.N <= 0:
            raise InvalidArgument(f"num_heads must be positive, got {self.N}")
        self.causal = int(info.attr("unidirectional", 0)) == 1
        self.filter = float(info.attr("mask_filter_value", -10000.0))
        self.scale_attr = info.attr("scale")
        self.want_present = info.output_wanted(1) or info.output_wanted(2)
        self.want_qk = info.output_wanted(3)

    def __call__(self, query, key=None, value=None, bias=None, key_padding_mask=None,
                 attention_bias=None, past_key=None, past_value=None, past_sequence_length=None,
                 cache_indirection=None):
        if past_sequence_length is not None or cache_indirection is not None:
            raise OrtNotImplemented("MultiHeadAttention with past_sequence_length or "
                                 "cache_indirection (decoder-masked buffer sharing) is not "
                                 "supported")
        N = self.N
        dt = query.dtype
        q, k, v, bnsh_kv = self._qkv(query, key, value, bias)
        B, _, S, H = q.shape
        P = 0
        if (past_key is None) != (past_value is None):
            raise InvalidArgument("past_key and past_value must be given together")
        if past_key is not None:
            if bnsh_kv:
                raise InvalidArgument("past_key/past_value cannot be used with 4-D key/value")
            for name, p, d in (("past_key", past_key, k.shape[3]),
                               ("past_value", past_value, v.shape[3])):
                if p.ndim != 4 or p.shape[:2] != (B, N) or p.shape[3] != d or \
                        p.shape[2] != past_key.shape[2]:
                    raise InvalidArgument(f"{name} must have shape ({B}, {N}, past_length, {d}), "
                                          f"got {p.shape}")
            P = past_key.shape[2]
            k = np.concatenate([compute(past_key, "past_key").astype(k.dtype, copy=False), k], 2)
            v = np.concatenate([compute(past_value, "past_value").astype(v.dtype, copy=False),
                                v], 2)
        T = k.shape[2]
        cd = q.dtype
        q = q * cd.type(default_scale(self.scale_attr, H))
        bias_total = None
        if key_padding_mask is not None:
            bias_total = mask_bias(key_padding_mask, B, S, T, P, self.filter, cd,
                                   "key_padding_mask")
        if self.causal and S > 1:
            bias_total = add_bias(bias_total, causal_bias(S, T, P, cd))
        if attention_bias is not None:
            check_attention_bias(attention_bias, B, N, S, T)
            bias_total = add_bias(bias_total, compute(attention_bias, "attention_bias"))
        ctx, raw, _ = attend(q, k, v, bias_total, keep_scores=self.want_qk)
        out = merge_heads(ctx, dt)
        present_k = present_v = None
        if self.want_present:
            # copies: K/V may be (views of) the key/value inputs
            present_k = np.array(k, dtype=dt, order="C")
            present_v = np.array(v, dtype=dt, order="C")
        qk = None
        if raw is not None:
            qk = np.broadcast_to(raw, (B, N, S, T)).astype(dt)
        return out, present_k, present_v, qk

    def _qkv(self, query, key, value, bias):
        """Q [B, N, S, H], K [B, N, L, H], V [B, N, L, Hv] in the compute dtype (new arrays
        or views of new arrays), and whether K/V came in split (BNSH)."""
        N = self.N
        if query.ndim == 5:
            if key is not None or value is not None:
                raise InvalidArgument("packed QKV query (5-D) needs key and value absent")
            B, S, n, three, H = query.shape
            if n != N or three != 3:
                raise InvalidArgument(f"packed QKV must have shape (B, S, {N}, 3, H), got "
                                      f"{query.shape}")
            x = compute(query, "query").astype(np.float32 if query.dtype != np.float64
                                               else np.float64, copy=True)
            if bias is not None:
                if bias.shape != (3 * N * H,):
                    raise InvalidArgument(f"bias must have shape ({3 * N * H},), got "
                                          f"{bias.shape}")
                x += compute(bias, "bias").reshape(3, N, H).transpose(1, 0, 2)
            qkv = x.transpose(3, 0, 2, 1, 4)  # [3, B, N, S, H]
            return qkv[0], qkv[1], qkv[2], False
        if query.ndim != 3:
            raise InvalidArgument(f"query must be 3-D (B, S, hidden) or 5-D packed QKV, got "
                                  f"shape {query.shape}")
        B, S, hq = query.shape
        if hq % N:
            raise InvalidArgument(f"query hidden size {hq} is not a multiple of num_heads {N}")
        H = hq // N
        if key is None:
            raise InvalidArgument("key is required unless query is packed QKV")
        qc = compute(query, "query")
        cd = qc.dtype
        bq = bk = bv = None
        if key.ndim == 5:
            if value is not None:
                raise InvalidArgument("packed KV key (5-D) needs value absent")
            if key.shape[0] != B or key.shape[2:] != (N, 2, H):
                raise InvalidArgument(f"packed KV must have shape ({B}, L, {N}, 2, {H}), got "
                                      f"{key.shape}")
            hk = hv = hq
        elif key.ndim in (3, 4):
            if value is None or value.ndim != key.ndim:
                raise InvalidArgument(f"value must be given with the rank of key ({key.ndim}), "
                                      f"got {None if value is None else value.shape}")
            if key.ndim == 3:
                hk, hv = key.shape[2], value.shape[2]
                if key.shape[0] != B or value.shape[:2] != key.shape[:2] or hk != hq or hv % N:
                    raise InvalidArgument(f"key {key.shape} / value {value.shape} do not fit "
                                          f"query {query.shape} with {N} heads")
            else:
                if key.shape[:2] != (B, N) or key.shape[3] != H or value.shape[:3] != \
                        key.shape[:3]:
                    raise InvalidArgument(f"4-D key/value must have shape ({B}, {N}, L, {H}), "
                                          f"got {key.shape}, {value.shape}")
                hk, hv = hq, value.shape[1] * value.shape[3]
        else:
            raise InvalidArgument(f"key must be 3-D, 4-D or 5-D, got shape {key.shape}")
        if bias is not None:
            if bias.shape != (hq + hk + hv,):
                raise InvalidArgument(f"bias must have shape ({hq + hk + hv},), got "
                                      f"{bias.shape}")
            bc = compute(bias, "bias").astype(cd, copy=False)
            bq, bk, bv = bc[:hq], bc[hq:hq + hk], bc[hq + hk:]
        q = split_heads(qc + bq if bq is not None else qc, N, "query")
        if key.ndim == 5:
            kv = compute(key, "key")
            if bk is not None:
                kv = kv + np.stack([bk.reshape(N, H), bv.reshape(N, H)], 1)
            kv = kv.transpose(3, 0, 2, 1, 4)
            return q, kv[0], kv[1], False
        kc = compute(key, "key").astype(cd, copy=False)
        vc = compute(value, "value").astype(cd, copy=False)
        if key.ndim == 4:
            return q, kc, vc, True
        if bk is not None:
            kc, vc = kc + bk, vc + bv
        return q, split_heads(kc, N, "key"), split_heads(vc, N, "value"), False
