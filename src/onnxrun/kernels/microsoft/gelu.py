"""onnxruntime's GELU family (com.microsoft): Gelu (erf), BiasGelu (erf GELU of input + bias),
FastGelu (tanh approximation, optional bias) and QuickGelu (x * sigmoid(alpha * x)). Float16
and bfloat16 compute in float32. A bias is added slice by slice inside the GELU pass, so the
fused op reads its input once."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..activation._common import sigmoid_f
from ..activation.gelu import gelu_erf, gelu_tanh
from ..base import OpKernel
from ..math._common import CHUNK, chunked
from ..registry import kernel
from ._transformer import DOMAIN, compute


def _with_bias(fn, x: np.ndarray, bias) -> np.ndarray:
    """``fn(x + bias)`` for float32/float64 ``x`` and a bias over its last axis, computed on
    row blocks that stay in cache."""
    if bias is None:
        return chunked(fn, x)
    H = x.shape[-1] if x.ndim else 0
    if bias.ndim != 1 or bias.shape[0] != H:
        raise InvalidArgument(f"bias must be 1-D with the input's last dimension ({H}), got "
                              f"shape {bias.shape}")
    b = bias.astype(x.dtype, copy=False)
    x2 = x.reshape(-1, H)
    out = np.empty(x2.shape, dtype=x.dtype)
    rows = max(1, CHUNK // max(H, 1))
    for i in range(0, x2.shape[0], rows):
        out[i:i + rows] = fn(x2[i:i + rows] + b)
    return out.reshape(x.shape)


def _run(fn, x, bias=None):
    y = _with_bias(fn, compute(x, "input"), None if bias is None else compute(bias, "bias"))
    return y.astype(x.dtype, copy=False)


@kernel("Gelu", since=1, domain=DOMAIN, fresh=True)
def gelu(x):
    """0.5 * x * (1 + erf(x / sqrt(2)))."""
    return _run(gelu_erf, x)


@kernel("BiasGelu", since=1, domain=DOMAIN, fresh=True)
def bias_gelu(A, B=None):
    """Gelu(A + B), B a vector over A's last axis."""
    if B is None:
        raise InvalidArgument("required input 1 ('B') is missing")
    return _run(gelu_erf, A, B)


@kernel("FastGelu", since=1, domain=DOMAIN, fresh=True)
def fast_gelu(X, bias=None):
    """0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) of X (+ bias)."""
    return _run(gelu_tanh, X, bias)


@kernel("QuickGelu", since=1, domain=DOMAIN, fresh=True)
class QuickGelu(OpKernel):
    """x * sigmoid(alpha * x), alpha 1.702 by default."""

    def __init__(self, info):
        super().__init__(info)
        self.alpha = float(info.attr("alpha", 1.702))

    def __call__(self, X):
        alpha = self.alpha

        def quick(c):
            s = sigmoid_f(c * c.dtype.type(alpha))
            s *= c
            return s

        return _run(quick, X)
