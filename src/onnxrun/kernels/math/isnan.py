"""IsNaN and IsInf."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import F32, is_float, is_narrow_float


def _as_np(x):
    if is_narrow_float(x.dtype):
        return x.astype(F32)
    if not is_float(x.dtype):
        raise InvalidArgument(f"expected a floating point tensor, got {x.dtype}")
    return x


@kernel("IsNaN", since=9, fresh=True)
def isnan(x):
    """True where x is NaN."""
    return np.isnan(_as_np(x))


@kernel("IsInf", since=10, fresh=True)
class IsInf(OpKernel):
    """True where x is +inf (detect_positive) or -inf (detect_negative)."""

    def __init__(self, info):
        super().__init__(info)
        self.pos = bool(info.attr("detect_positive", 1))
        self.neg = bool(info.attr("detect_negative", 1))

    def __call__(self, x):
        x = _as_np(x)
        if self.pos and self.neg:
            return np.isinf(x)
        if self.pos:
            return np.isposinf(x)
        if self.neg:
            return np.isneginf(x)
        return np.zeros(x.shape, dtype=bool)
