"""CumSum and CumProd (``exclusive``, ``reverse``)."""

from __future__ import annotations

import numpy as np
import ml_dtypes

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import norm_axis, scalar_int

_LOW = {np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)}


class _Cumulative(OpKernel):
    """Cumulative reduction along ``axis`` (a scalar input)."""

    UFUNC = np.add

    def __init__(self, info):
        super().__init__(info)
        self.exclusive = bool(info.attr("exclusive", 0))
        self.reverse = bool(info.attr("reverse", 0))

    def __call__(self, x, axis):
        if np.ndim(axis) > 1:
            raise InvalidArgument(f"axis must be a scalar or 1-element tensor, got shape "
                                  f"{list(np.shape(axis))}")
        if x.ndim == 0:
            raise InvalidArgument(f"{type(self).__name__} needs an input of rank >= 1")
        a = norm_axis(scalar_int(axis, "axis"), x.ndim)
        w = x.astype(np.float32) if x.dtype in _LOW else x
        if x.size == 0:
            return x.copy()
        base = np.empty(x.shape, dtype=w.dtype)
        src = np.moveaxis(w, a, 0)
        dst = np.moveaxis(base, a, 0)
        if self.reverse:
            src, dst = src[::-1], dst[::-1]
        if self.exclusive:
            dst[0] = 0 if self.UFUNC is np.add else 1
            if src.shape[0] > 1:
                self._scan(src[:-1], dst[1:])
        else:
            self._scan(src, dst)
        return base.astype(x.dtype, copy=False)

    def _scan(self, src, dst):
        """Inclusive scan of ``src`` along axis 0 into ``dst``."""
        n = src.shape[0]
        if src.size // n >= 32 and n <= 4096:
            # a short loop of vectorized steps beats ufunc.accumulate's scalar inner loop
            dst[0] = src[0]
            for i in range(1, n):
                self.UFUNC(dst[i - 1], src[i], out=dst[i])
        else:
            self.UFUNC.accumulate(src, axis=0, dtype=src.dtype, out=dst)


@kernel("CumSum", since=11, fresh=True)
class CumSum(_Cumulative):
    """Cumulative sum along ``axis``."""

    UFUNC = np.add


@kernel("CumProd", since=26, fresh=True)
class CumProd(_Cumulative):
    """Cumulative product along ``axis``."""

    UFUNC = np.multiply
