"""Gelu (com.onnxrun) for models below opset 20, created by the optimizer's GELU fusion:
0.5 * x * (1 + erf(x / sqrt(2))), with a fast erf built from NumPy ufuncs."""

from __future__ import annotations

import numpy as np

from ..registry import kernel
from ..math.erf import erf_values as erf

DOMAIN = "com.onnxrun"


@kernel("Gelu", since=1, domain=DOMAIN, fresh=True)
def gelu(x):
    y = x * np.asarray(1 / np.sqrt(2.0), dtype=x.dtype)
    y = erf(y)
    y += 1
    y *= x
    y *= np.asarray(0.5, dtype=x.dtype)
    return y
