"""Gelu (exact with erf, or the tanh approximation)."""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ..math._common import F32, chunked
from ..math.erf import erf_f32, erf_values
from ._common import as_compute, back


def gelu_erf(c: np.ndarray) -> np.ndarray:
    """0.5 * x * (1 + erf(x / sqrt(2))) for a float32/float64 array."""
    t = c.dtype.type
    r = c * t(1.0 / math.sqrt(2.0))
    r = erf_f32(r) if c.dtype == F32 else erf_values(r)
    r += t(1)
    r *= c
    r *= t(0.5)
    return r


def gelu_tanh(c: np.ndarray) -> np.ndarray:
    """0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) for a float32/float64 array."""
    t = c.dtype.type
    r = c * c
    r *= t(0.044715)
    r += t(1)
    r *= c
    r *= t(math.sqrt(2.0 / math.pi))
    np.tanh(r, out=r)
    r += t(1)
    r *= c
    r *= t(0.5)
    return r


@kernel("Gelu", since=20, fresh=True)
class Gelu(OpKernel):
    """Gaussian error linear unit; ``approximate`` is 'none' or 'tanh'."""

    def __init__(self, info):
        super().__init__(info)
        a = info.attr("approximate", "none")
        if a not in ("none", "tanh"):
            raise InvalidArgument(f"Gelu approximate must be 'none' or 'tanh', got {a!r}")
        self.fn = gelu_tanh if a == "tanh" else gelu_erf

    def __call__(self, x):
        return back(chunked(self.fn, as_compute(x, "Gelu")), x.dtype)
