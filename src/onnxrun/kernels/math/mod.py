"""Mod: integer/float remainder, sign of the divisor (fmod=0) or of the dividend (fmod=1)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import F32, is_float, is_narrow_float


@kernel("Mod", since=10, fresh=True)
class Mod(OpKernel):
    """A mod B with the ``fmod`` attribute choosing floor (0) or C fmod (1) semantics."""

    def __init__(self, info):
        super().__init__(info)
        self.fmod = int(info.attr("fmod", 0))
        if self.fmod not in (0, 1):
            raise InvalidArgument(f"fmod must be 0 or 1, got {self.fmod}")

    def __call__(self, a, b):
        dt = a.dtype
        if not is_float(dt):
            if np.any(b == 0):
                raise InvalidArgument("integer Mod by zero: B must not contain 0")
            return np.fmod(a, b) if self.fmod else np.mod(a, b)
        if is_narrow_float(dt):
            a, b = a.astype(F32), b.astype(F32)
        r = np.fmod(a, b) if self.fmod else np.mod(a, b)
        return r.astype(dt, copy=False)
