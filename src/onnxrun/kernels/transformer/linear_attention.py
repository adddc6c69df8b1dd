"""LinearAttention (opset 27): recurrent linear attention with update rules linear, gated,
delta and gated_delta, GQA/MQA head sharing and a carried state [B, H_kv, d_k, d_v]."""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import as_compute, compute_dtype

_RULES = ("linear", "gated", "delta", "gated_delta")


@kernel("LinearAttention", since=27, fresh=True)
class LinearAttention(OpKernel):
    """``S_t`` updated per token by the rule; ``o_t = scale * q_t^T S_t``. The delta rules run
    token by token (batched over batch and heads); ``linear`` and ``gated`` use the equivalent
    chunk-parallel form (``chunk_size`` tokens per block of matrix products)."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.rule = info.attr("update_rule", "gated_delta")
        if self.rule not in _RULES:
            raise InvalidArgument(f"update_rule must be one of {', '.join(_RULES)}, got "
                                  f"'{self.rule}'")
        self.hq = int(info.require_attr("q_num_heads"))
        self.hkv = int(info.require_attr("kv_num_heads"))
        if self.hq <= 0 or self.hkv <= 0 or self.hq % self.hkv:
            raise InvalidArgument(f"q_num_heads ({self.hq}) must be a positive multiple of "
                                  f"kv_num_heads ({self.hkv})")
        self.scale = float(info.attr("scale", 0.0))
        self.chunk = max(1, int(info.attr("chunk_size", 64)))

    def __call__(self, query, key, value, past_state=None, decay=None, beta=None):
        for name, x in (("query", query), ("key", key), ("value", value)):
            if x.ndim != 3:
                raise InvalidArgument(f"{name} must be 3-D [B, T, H*D], got {x.shape}")
        B, T, qh = query.shape
        Hq, Hkv = self.hq, self.hkv
        if qh % Hq or key.shape[2] % Hkv or value.shape[2] % Hkv:
            raise InvalidArgument("packed hidden sizes must be divisible by the head counts")
        dk, dv = qh // Hq, value.shape[2] // Hkv
        if key.shape != (B, T, Hkv * dk) or value.shape[:2] != (B, T):
            raise InvalidArgument(f"key/value shapes {key.shape}, {value.shape} do not fit "
                                  f"query {query.shape}")
        cd = compute_dtype(query.dtype)
        g = Hq // Hkv
        q = as_compute(query, cd).reshape(B, T, Hkv, g, dk)
        k = as_compute(key, cd).reshape(B, T, Hkv, dk)
        v = as_compute(value, cd).reshape(B, T, Hkv, dv)
        state_dt = past_state.dtype if past_state is not None else query.dtype
        if past_state is None:
            S = np.zeros((B, Hkv, dk, dv), dtype=cd)
        else:
            if past_state.shape != (B, Hkv, dk, dv):
                raise InvalidArgument(f"past_state must have shape {(B, Hkv, dk, dv)}, got "
                                      f"{past_state.shape}")
            S = as_compute(past_state, cd).copy()
        gated = self.rule in ("gated", "gated_delta")
        delta = self.rule in ("delta", "gated_delta")
        gexp = None
        if gated:
            if decay is None:
                raise InvalidArgument(f"update_rule '{self.rule}' requires the decay input")
            dec = as_compute(decay, cd)
            if dec.shape == (B, T, Hkv * dk):
                gexp = np.exp(dec.reshape(B, T, Hkv, dk, 1))
            elif dec.shape == (B, T, Hkv):
                gexp = np.exp(dec.reshape(B, T, Hkv, 1, 1))
            else:
                raise InvalidArgument(f"decay must have shape {(B, T, Hkv * dk)} or "
                                      f"{(B, T, Hkv)}, got {decay.shape}")
        bt = None
        if delta:
            if beta is None:
                raise InvalidArgument(f"update_rule '{self.rule}' requires the beta input")
            be = as_compute(beta, cd)
            if be.shape not in ((B, T, Hkv), (B, T, 1)):
                raise InvalidArgument(f"beta must have shape {(B, T, Hkv)} or {(B, T, 1)}, got "
                                      f"{beta.shape}")
            bt = np.broadcast_to(be, (B, T, Hkv))[..., None]  # [B, T, Hkv, 1]
        scale = self.scale if self.scale != 0 else 1.0 / math.sqrt(dk)
        if delta:
            out, S = self._sequential(q, k, v, S, gexp, bt)
        else:
            logd = None if gexp is None else np.log(gexp)[..., 0]  # [B, T, Hkv, dk or 1]
            out, S = self._chunked(q, k, v, S, logd)
        out *= cd.type(scale)
        y = out.reshape(B, T, Hq * dv).astype(query.dtype, copy=False)
        return y, S.astype(state_dt)

    @staticmethod
    def _sequential(q, k, v, S, gexp, bt):
        """Token-by-token recurrence (delta rules; gexp/bt None when absent)."""
        B, T, Hkv, g, dk = q.shape
        out = np.empty((B, T, Hkv, g, v.shape[3]), dtype=q.dtype)
        for t in range(T):
            kt, vt = k[:, t], v[:, t]
            if gexp is not None:
                S = S * gexp[:, t]
            if bt is not None:
                pred = np.einsum("bhkv,bhk->bhv", S, kt)
                upd = bt[:, t] * (vt - pred)
            else:
                upd = vt
            S = S + kt[..., :, None] * upd[..., None, :]
            out[:, t] = np.matmul(q[:, t], S)  # [B, Hkv, g, dk] @ [B, Hkv, dk, dv]
        return out, S

    def _chunked(self, q, k, v, S, logd):
        """Chunk-parallel form of the linear / gated recurrence: within a chunk with cumulative
        log decay G, ``o_t = (q_t * e^G_t) S_0 + sum_{s<=t} (q_t * e^(G_t - G_s)) . k_s v_s``
        and ``S = e^G_last * S_0 + sum_s (k_s * e^(G_last - G_s)) v_s^T``."""
        B, T, Hkv, g, dk = q.shape
        dv = v.shape[3]
        out = np.empty((B, T, Hkv, g, dv), dtype=q.dtype)
        # head-major views: q [B, H, g, T, dk], k [B, H, T, dk], v [B, H, T, dv]
        qh = q.transpose(0, 2, 3, 1, 4)
        kh = k.transpose(0, 2, 1, 3)
        vh = v.transpose(0, 2, 1, 3)
        lh = None if logd is None else logd.transpose(0, 2, 1, 3)  # [B, H, T, dk or 1]
        for c0 in range(0, T, self.chunk):
            c1 = min(T, c0 + self.chunk)
            C = c1 - c0
            qc, kc, vc = qh[:, :, :, c0:c1], kh[:, :, c0:c1], vh[:, :, c0:c1]
            causal = np.tril(np.ones((C, C), dtype=bool))
            if lh is None:
                inter = np.matmul(qc, S[:, :, None])  # [B, H, g, C, dv]
                A = np.matmul(qc, kc[:, :, None].swapaxes(-1, -2)) * causal
                knew = kc
                decay_last = None
            else:
                G = np.cumsum(lh[:, :, c0:c1], axis=2)  # [B, H, C, dk or 1]
                inter = np.matmul(qc * np.exp(G)[:, :, None], S[:, :, None])
                diff = G[:, :, :, None, :] - G[:, :, None, :, :]  # [B, H, t, s, dk or 1]
                D = np.exp(np.where(causal[:, :, None], diff, -np.inf))
                if G.shape[-1] == 1:
                    A = np.matmul(qc, kc[:, :, None].swapaxes(-1, -2)) * D[:, :, None, :, :, 0]
                else:
                    A = np.einsum("bhgtd,bhsd,bhtsd->bhgts", qc, kc, D, optimize=True)
                last = G[:, :, -1:]  # [B, H, 1, dk or 1]
                knew = kc * np.exp(last - G)
                decay_last = np.exp(last[:, :, 0])[..., None]  # [B, H, dk or 1, 1]
            o = inter + np.matmul(A, vc[:, :, None])  # [B, H, g, C, dv]
            out[:, c0:c1] = o.transpose(0, 3, 1, 2, 4)
            if decay_last is not None:
                S = S * decay_last
            S = S + np.matmul(knew.swapaxes(-1, -2), vc)
        return out, S
