"""Trilu."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import scalar_int


@kernel("Trilu", since=14, fresh=True)
class Trilu(OpKernel):
    """Keep the upper (``upper=1``) or lower triangle of the last two axes, offset by
    diagonal ``k``; the rest is zero."""

    def __init__(self, info):
        super().__init__(info)
        self.upper = bool(info.attr("upper", 1))

    def __call__(self, x, k=None):
        if x.ndim < 2:
            raise InvalidArgument(f"Trilu input must have rank >= 2, got shape {list(x.shape)}")
        kk = 0 if k is None else scalar_int(k, "k")
        n, m = x.shape[-2:]
        kk = max(min(kk, m + 1), -n - 1)
        rows = np.arange(n)[:, None]
        cols = np.arange(m)[None, :]
        keep = (cols - rows >= kk) if self.upper else (cols - rows <= kk)
        zero = "" if x.dtype == np.dtype(object) else 0
        return np.where(keep, x, np.array(zero, dtype=x.dtype))
