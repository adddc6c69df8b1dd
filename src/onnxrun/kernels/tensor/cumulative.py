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
        if self.reverse:
            w = np.flip(w, axis=a)
        out = self.UFUNC.accumulate(w, axis=a, dtype=w.dtype)
        if self.exclusive:
            ident = 0 if self.UFUNC is np.add else 1
            shifted = np.empty_like(out)
            lead = [slice(None)] * x.ndim
            lead[a] = slice(0, 1)
            shifted[tuple(lead)] = ident
            rest = [slice(None)] * x.ndim
            rest[a] = slice(1, None)
            src = [slice(None)] * x.ndim
            src[a] = slice(0, -1)
            shifted[tuple(rest)] = out[tuple(src)]
            out = shifted
        if self.reverse:
            out = np.flip(out, axis=a)
        return np.ascontiguousarray(out).astype(x.dtype, copy=False)


@kernel("CumSum", since=11, fresh=True)
class CumSum(_Cumulative):
    """Cumulative sum along ``axis``."""

    UFUNC = np.add


@kernel("CumProd", since=26, fresh=True)
class CumProd(_Cumulative):
    """Cumulative product along ``axis``."""

    UFUNC = np.multiply
