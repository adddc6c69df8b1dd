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
    """``S_t`` updated per token by the rule; ``o_t = scale * q_t^T S_t``. Tokens run
    sequentially (exact semantics); each step is batched over batch and heads."""

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
        out = np.empty((B, T, Hkv, g, dv), dtype=cd)
        for t in range(T):
            kt, vt = k[:, t], v[:, t]
            if gated:
                S = S * gexp[:, t]
            if delta:
                pred = np.einsum("bhkv,bhk->bhv", S, kt)
                upd = bt[:, t] * (vt - pred)
                S = S + kt[..., :, None] * upd[..., None, :]
            else:
                S = S + kt[..., :, None] * vt[..., None, :]
            out[:, t] = np.matmul(q[:, t], S)  # [B, Hkv, g, dk] @ [B, Hkv, dk, dv]
        out *= cd.type(scale)
        y = out.reshape(B, T, Hq * dv).astype(query.dtype, copy=False)
        return y, S.astype(state_dt)
