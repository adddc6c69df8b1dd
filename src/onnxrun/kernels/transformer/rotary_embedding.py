"""RotaryEmbedding (opset 23): rotary position embeddings, half-split or interleaved, full or
partial (``rotary_embedding_dim``), 3-D packed or 4-D input."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import as_compute, compute_dtype


@kernel("RotaryEmbedding", since=23, fresh=True)
class RotaryEmbedding(OpKernel):
    """X: [B, H, S, D] or [B, S, H*D]; caches [max_pos, rot/2] indexed by ``position_ids``
    [B, S], or [B, S, rot/2] when ``position_ids`` is absent."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.interleaved = int(info.attr("interleaved", 0)) != 0
        self.rot_dim = int(info.attr("rotary_embedding_dim", 0))
        self.num_heads = int(info.attr("num_heads", 0))

    def __call__(self, X, cos_cache, sin_cache, position_ids=None):
        cd = compute_dtype(X.dtype)
        if X.ndim == 4:
            x = X.transpose(0, 2, 1, 3)  # [B, S, H, D]
        elif X.ndim == 3:
            if self.num_heads <= 0:
                raise InvalidArgument("num_heads is required for a 3-D input")
            B, S, hid = X.shape
            if hid % self.num_heads:
                raise InvalidArgument(f"hidden size {hid} is not divisible by num_heads "
                                      f"{self.num_heads}")
            x = X.reshape(B, S, self.num_heads, hid // self.num_heads)
        else:
            raise InvalidArgument(f"X must be 3-D or 4-D, got shape {X.shape}")
        B, S, H, D = x.shape
        rd = self.rot_dim or D
        if rd > D or rd % 2:
            raise InvalidArgument(f"rotary_embedding_dim {rd} must be even and <= head size {D}")
        half = rd // 2
        cos, sin = cos_cache, sin_cache
        if position_ids is not None:
            pid = np.asarray(position_ids).astype(np.int64)
            if cos.ndim != 2 or sin.shape != cos.shape:
                raise InvalidArgument(f"with position_ids the caches must be 2-D "
                                      f"[max_position, {half}], got {cos.shape}, {sin.shape}")
            if pid.shape != (B, S):
                raise InvalidArgument(f"position_ids must have shape {(B, S)}, got {pid.shape}")
            if pid.size and (pid.min() < 0 or pid.max() >= cos.shape[0]):
                raise InvalidArgument(f"position_ids must be in [0, {cos.shape[0]}), got values "
                                      f"in [{pid.min()}, {pid.max()}]")
            cos, sin = cos[pid], sin[pid]
        if cos.shape != (B, S, half) or sin.shape != (B, S, half):
            raise InvalidArgument(f"cos/sin caches must give shape {(B, S, half)}, got "
                                  f"{cos.shape} and {sin.shape}")
        c = as_compute(cos, cd)[:, :, None, :]
        s = as_compute(sin, cd)[:, :, None, :]
        xr = as_compute(x[..., :rd], cd)
        if self.interleaved:
            x1, x2 = xr[..., 0::2], xr[..., 1::2]
        else:
            x1, x2 = xr[..., :half], xr[..., half:]
        real = c * x1 - s * x2
        imag = s * x1 + c * x2
        out = np.empty((B, S, H, D), dtype=X.dtype)
        if self.interleaved:
            out[..., 0:rd:2] = real
            out[..., 1:rd:2] = imag
        else:
            out[..., :half] = real
            out[..., half:rd] = imag
        out[..., rd:] = x[..., rd:]
        if X.ndim == 4:
            return np.ascontiguousarray(out.transpose(0, 2, 1, 3))
        return out.reshape(X.shape)
