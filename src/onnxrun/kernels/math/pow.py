"""Pow: the result keeps the base's dtype (exponent may be any numeric type since opset 12)."""

from __future__ import annotations

import numpy as np

from ..base import OpKernel
from ..registry import kernel
from ._common import F64, compute_dtype, is_float, legacy_align


def _int_pow(x, y):
    """Integer base: exact integer power for integer exponents, truncation otherwise."""
    if not is_float(y.dtype) and y.dtype.kind in "iub":
        y = y.astype(np.int64, copy=False)
        if not np.any(y < 0):
            return np.power(x, y.astype(x.dtype, copy=False))
        pos = np.power(x, np.maximum(y, 0).astype(x.dtype, copy=False))
        # x ** negative: 1 for x == 1, +-1 for x == -1, else truncates to 0
        odd = (y & 1).astype(bool)
        neg = np.where(x == 1, 1, np.where(x == -1, np.where(odd, -1, 1), 0)).astype(x.dtype)
        return np.where(y < 0, neg, pos).astype(x.dtype, copy=False)
    r = np.power(x.astype(F64), y.astype(F64))
    return r.astype(x.dtype)


def pow_values(x, y):
    """Elementwise x ** y in x's dtype."""
    if not is_float(x.dtype):
        return _int_pow(x, y)
    cx = compute_dtype(x.dtype)
    cy = compute_dtype(y.dtype) if is_float(y.dtype) else cx
    cd = np.result_type(cx, cy)
    r = np.power(x.astype(cd, copy=False), y.astype(cd, copy=False))
    return r.astype(x.dtype, copy=False)


@kernel("Pow", since=7, fresh=True)
class Pow(OpKernel):
    """Pow (opset 7+): fast paths for a constant scalar exponent of 2, 0.5, 1 or 3."""

    def __init__(self, info):
        super().__init__(info)
        self.fast = None
        e = info.const_inputs[1] if len(info.const_inputs) > 1 else None
        if e is not None and e.size == 1 and e.dtype.kind in "fiu":
            v = float(e.reshape(-1)[0])
            if v in (2.0, 0.5, 1.0, 3.0):
                self.fast = v

    def __call__(self, x, y):
        if self.fast is not None and x.dtype.kind == "f" and x.dtype.itemsize >= 4 \
                and y.ndim <= x.ndim:
            if self.fast == 2.0:
                return np.square(x)
            if self.fast == 0.5:
                return np.sqrt(x)
            if self.fast == 3.0:
                return x * x * x
            return x.copy()
        return pow_values(x, y)


@kernel("Pow", since=1, until=6, fresh=True)
class PowLegacy(OpKernel):
    """Pow (opset 1-6) with the legacy broadcast/axis attributes."""

    def __init__(self, info):
        super().__init__(info)
        self.broadcast = int(info.attr("broadcast", 0))
        self.axis = info.attr("axis", None)

    def __call__(self, x, y):
        return pow_values(x, legacy_align(x, y, self.broadcast, self.axis))
