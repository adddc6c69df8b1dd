"""LRN (local response normalization across channels)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import compute_dtype


@kernel("LRN", since=1, fresh=True)
class LRN(OpKernel):
    """y = x / (bias + alpha / size * sum of x^2 over a window of ``size`` channels) ^ beta."""

    def __init__(self, info):
        super().__init__(info)
        self.size = int(info.require_attr("size"))
        if self.size < 1:
            raise InvalidArgument(f"size must be >= 1, got {self.size}")
        self.alpha = float(info.attr("alpha", 1e-4))
        self.beta = float(info.attr("beta", 0.75))
        self.bias = float(info.attr("bias", 1.0))

    def __call__(self, X):
        if X.ndim < 2:
            raise InvalidArgument(f"X must have rank >= 2 (N, C, ...), got shape {X.shape}")
        dt = X.dtype
        cdt = compute_dtype(dt)
        x = X.astype(cdt, copy=False)
        C = X.shape[1]
        lo = (self.size - 1) // 2
        hi = self.size - 1 - lo
        sq = x * x
        acc = sq.copy()
        for off in range(1, max(lo, hi) + 1):
            if off <= lo and off < C:   # channel c gets c - off
                acc[:, off:] += sq[:, :C - off]
            if off <= hi and off < C:   # channel c gets c + off
                acc[:, :C - off] += sq[:, off:]
        acc *= cdt.type(self.alpha / self.size)
        acc += cdt.type(self.bias)
        if self.beta == 0.75:
            d = np.sqrt(acc)
            d *= np.sqrt(d)
        else:
            d = acc ** cdt.type(self.beta)
        return (x / d).astype(dt, copy=False)
