"""Attention (opset 23+): scaled dot-product attention with MHA/GQA/MQA, 3-D packed or 4-D
inputs, KV cache (past/present), external cache lengths (``nonpad_kv_seqlen``), causal and
sliding-window masks, boolean/float masks, softcap, softmax precision and the
``qk_matmul_output`` debug output."""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import F32, as_compute, compute_dtype, safe_softmax

_SOFTMAX_TYPES = {1: np.dtype(np.float32), 10: np.dtype(np.float16), 11: np.dtype(np.float64)}


@kernel("Attention", since=23, fresh=True)
class Attention(OpKernel):
    """Attention, opsets 23-25 (window sizes from 25, ``nonpad_kv_seqlen`` from 24)."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.is_causal = int(info.attr("is_causal", 0)) != 0
        self.q_heads = info.attr("q_num_heads")
        self.kv_heads = info.attr("kv_num_heads")
        self.scale = info.attr("scale")
        self.softcap = float(info.attr("softcap", 0.0))
        self.mode = int(info.attr("qk_matmul_output_mode", 0))
        if self.mode not in (0, 1, 2, 3):
            raise InvalidArgument(f"qk_matmul_output_mode must be 0..3, got {self.mode}")
        sp = info.attr("softmax_precision")
        self.softmax_dtype = None
        if sp is not None and int(sp) != 0:
            if int(sp) == 16:
                self.softmax_dtype = np.dtype("bfloat16")
            elif int(sp) in _SOFTMAX_TYPES:
                self.softmax_dtype = _SOFTMAX_TYPES[int(sp)]
            else:
                raise InvalidArgument(f"softmax_precision must be 1, 10, 11 or 16, got {sp}")
        self.left = int(info.attr("left_window_size", -1))
        self.right = int(info.attr("right_window_size", -1))

    def _to4d(self, x, heads, what):
        if x.ndim == 4:
            return x
        if x.ndim != 3:
            raise InvalidArgument(f"{what} must be 3-D or 4-D, got shape {x.shape}")
        if not heads:
            raise InvalidArgument(f"{what} is 3-D: q_num_heads and kv_num_heads are required")
        B, S, hid = x.shape
        if hid % heads:
            raise InvalidArgument(f"{what} hidden size {hid} is not divisible by {heads} heads")
        return x.reshape(B, S, heads, hid // heads).transpose(0, 2, 1, 3)

    def __call__(self, Q, K, V, attn_mask=None, past_key=None, past_value=None,
                 nonpad_kv_seqlen=None):
        out_dt, v_dt = Q.dtype, V.dtype
        three_d = Q.ndim == 3
        q = self._to4d(Q, self.q_heads, "Q")
        k = self._to4d(K, self.kv_heads, "K")
        v = self._to4d(V, self.kv_heads, "V")
        B, Hq, Sq, D = q.shape
        Hkv = k.shape[1]
        if k.shape[0] != B or v.shape[0] != B or v.shape[1] != Hkv or k.shape[3] != D or \
                v.shape[2] != k.shape[2]:
            raise InvalidArgument(f"incompatible Q/K/V shapes {q.shape}, {k.shape}, {v.shape}")
        if Hkv == 0 or Hq % Hkv:
            raise InvalidArgument(f"q_num_heads {Hq} must be a multiple of kv_num_heads {Hkv}")
        past = 0
        if (past_key is None) != (past_value is None):
            raise InvalidArgument("past_key and past_value must be given together")
        if past_key is not None:
            if past_key.ndim != 4 or past_key.shape[:2] != (B, Hkv) or past_key.shape[3] != D \
                    or past_value.shape[:3] != past_key.shape[:3] or \
                    past_value.shape[3] != v.shape[3]:
                raise InvalidArgument(f"past_key/past_value shapes {past_key.shape}, "
                                      f"{past_value.shape} do not fit K {k.shape}, V {v.shape}")
            past = past_key.shape[2]
            k = np.concatenate([past_key, k.astype(past_key.dtype, copy=False)], axis=2)
            v = np.concatenate([past_value, v.astype(past_value.dtype, copy=False)], axis=2)
        present_k = k if self.info.output_wanted(1) else None
        present_v = v if self.info.output_wanted(2) else None
        T = k.shape[2]
        Dv = v.shape[3]
        cd = compute_dtype(out_dt)
        scale = float(self.scale) if self.scale is not None else 1.0 / math.sqrt(D)
        sq = math.sqrt(scale)
        g = Hq // Hkv
        qc = as_compute(q, cd) * cd.type(sq)
        kc = as_compute(k, cd) * cd.type(sq)
        # GQA without copies: query heads of one KV head are stacked along the row axis
        scores = np.matmul(qc.reshape(B, Hkv, g * Sq, D), kc.transpose(0, 1, 3, 2))
        scores = scores.reshape(B, Hq, Sq, T)
        qk_out = scores if self.mode == 0 else None
        if self.softcap > 0:
            c = cd.type(self.softcap)
            scores = np.tanh(scores / c) * c
        if self.mode == 1:
            qk_out = scores
        bias = self._bias(attn_mask, nonpad_kv_seqlen, B, Hq, Sq, T, past, cd)
        if bias is not None:
            scores = scores + bias
        if self.mode == 2:
            qk_out = scores
        sdt = self.softmax_dtype
        if sdt is None or sdt == cd:
            p = safe_softmax(scores)
        elif sdt.name == "bfloat16":
            p = safe_softmax(scores.astype(sdt).astype(F32)).astype(sdt).astype(cd)
        else:
            p = safe_softmax(scores.astype(sdt)).astype(cd)
        if self.mode == 3:
            qk_out = p
        y = np.matmul(p.reshape(B, Hkv, g * Sq, T), as_compute(v, cd)).reshape(B, Hq, Sq, Dv)
        if three_d:
            y = y.transpose(0, 2, 1, 3).reshape(B, Sq, Hq * Dv)
        y = np.ascontiguousarray(y, dtype=out_dt)
        # present_* may be the K/V inputs themselves (no past): always copy (fresh outputs)
        outs = [y, None if present_k is None else np.array(present_k, dtype=out_dt, order="C"),
                None if present_v is None else np.array(present_v, dtype=v_dt, order="C"),
                None]
        if self.info.output_wanted(3):
            outs[3] = np.ascontiguousarray(qk_out, dtype=out_dt)
        return tuple(outs)

    def _bias(self, mask, nonpad, B, Hq, Sq, T, past, cd):
        """Additive bias [.., Sq, T] (0 / -inf / float mask values) or None."""
        bias = None
        if mask is not None:
            if mask.ndim == 0 or mask.ndim > 4:
                raise InvalidArgument(f"attn_mask must have rank 1..4, got shape {mask.shape}")
            L = mask.shape[-1]
            if L > T:
                raise InvalidArgument(f"attn_mask last dimension {L} exceeds the total "
                                      f"sequence length {T}")
            if mask.dtype == np.bool_:
                m = np.where(mask, cd.type(0), cd.type(-np.inf))
            else:
                m = as_compute(mask, cd)
            if L < T:
                pad = [(0, 0)] * (m.ndim - 1) + [(0, T - L)]
                m = np.pad(m, pad, constant_values=-np.inf)
            try:
                np.broadcast_shapes(m.shape, (B, Hq, Sq, T))
            except ValueError:
                raise InvalidArgument(f"attn_mask shape {mask.shape} is not broadcastable to "
                                      f"{(B, Hq, Sq, T)}") from None
            bias = m
        allowed = None
        if nonpad is not None:
            lens = np.asarray(nonpad).astype(np.int64).reshape(-1)
            if lens.shape[0] != B or np.any(lens < 0) or np.any(lens > T):
                raise InvalidArgument(f"nonpad_kv_seqlen must hold {B} values in [0, {T}], got "
                                      f"{lens.tolist()}")
            offset = (lens - Sq).reshape(B, 1, 1, 1)
            allowed = np.arange(T).reshape(1, 1, 1, T) < lens.reshape(B, 1, 1, 1)
        else:
            offset = np.full((1, 1, 1, 1), past, dtype=np.int64)
        if self.is_causal or self.left >= 0 or self.right >= 0:
            pos = np.arange(Sq).reshape(1, 1, Sq, 1) + offset  # absolute query position
            j = np.arange(T).reshape(1, 1, 1, T)
            win = np.ones(np.broadcast_shapes(pos.shape, j.shape), dtype=bool)
            if self.is_causal:
                win &= j <= pos
            if self.left >= 0:
                win &= j >= pos - self.left
            if self.right >= 0:
                win &= j <= pos + self.right
            allowed = win if allowed is None else allowed & win
        if allowed is not None:
            b2 = np.where(allowed, cd.type(0), cd.type(-np.inf))
            bias = b2 if bias is None else bias + b2
        return bias
