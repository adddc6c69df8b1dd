"""Shrink: x - bias if x > lambd, x + bias if x < -lambd, else 0."""

from __future__ import annotations

import numpy as np

from ..base import OpKernel
from ..registry import kernel
from ..math._common import F64, compute_dtype, is_float


@kernel("Shrink", since=9, fresh=True)
class Shrink(OpKernel):
    """Shrink with ``bias`` and ``lambd`` attributes (numeric types; ints computed in float64)."""

    def __init__(self, info):
        super().__init__(info)
        self.bias = float(info.attr("bias", 0.0))
        self.lambd = float(info.attr("lambd", 0.5))

    def __call__(self, x):
        cd = compute_dtype(x.dtype) if is_float(x.dtype) else F64
        c = x.astype(cd, copy=False)
        t = cd.type
        lam, b = t(self.lambd), t(self.bias)
        r = np.where(c < -lam, c + b, np.where(c > lam, c - b, t(0)))
        return r.astype(x.dtype, copy=False)
