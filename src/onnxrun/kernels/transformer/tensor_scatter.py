"""TensorScatter (opset 24): write ``update`` into a copy of ``past_cache`` along the sequence
axis at per-batch ``write_indices`` (linear or circular)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel


@kernel("TensorScatter", since=24, fresh=True)
class TensorScatter(OpKernel):
    """KV-cache update; ``linear`` requires index + update length <= max length,
    ``circular`` wraps modulo the max length."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.mode = info.attr("mode", "linear")
        if self.mode not in ("linear", "circular"):
            raise InvalidArgument(f"mode must be 'linear' or 'circular', got '{self.mode}'")
        self.axis = int(info.attr("axis", -2))

    def __call__(self, past_cache, update, write_indices=None):
        r = past_cache.ndim
        if update.ndim != r or r < 2:
            raise InvalidArgument(f"past_cache and update must have the same rank >= 2, got "
                                  f"{past_cache.shape} and {update.shape}")
        if not -r <= self.axis < r or self.axis % r == 0:
            raise InvalidArgument(f"axis {self.axis} must be in [-{r}, {r}) and not the batch "
                                  "axis")
        ax = self.axis % r
        for i in range(r):
            if i != ax and past_cache.shape[i] != update.shape[i]:
                raise InvalidArgument(f"update shape {update.shape} must match past_cache "
                                      f"shape {past_cache.shape} except on axis {ax}")
        B, L, S = past_cache.shape[0], past_cache.shape[ax], update.shape[ax]
        if S > L:
            raise InvalidArgument(f"update sequence length {S} exceeds the cache length {L}")
        if write_indices is None:
            wi = np.zeros(B, dtype=np.int64)
        else:
            wi = np.asarray(write_indices).astype(np.int64).reshape(-1)
            if wi.shape[0] != B:
                raise InvalidArgument(f"write_indices must have {B} entries, got {wi.shape[0]}")
        if np.any(wi < 0):
            raise InvalidArgument(f"write_indices must be >= 0, got {wi.tolist()}")
        idx = wi[:, None] + np.arange(S)[None, :]
        if self.mode == "circular":
            idx %= L
        elif np.any(idx >= L):
            raise InvalidArgument(f"write_indices + sequence length ({S}) exceed the cache "
                                  f"length {L} in linear mode: {wi.tolist()}")
        out = past_cache.copy()
        ov = np.moveaxis(out, ax, 1)
        ov[np.arange(B)[:, None], idx] = np.moveaxis(update, ax, 1)
        return out
