"""Smooth activations: Softplus, Softsign, Mish, Swish, SwiGLU."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import as_compute, back, sigmoid_f


def _softplus(c):
    return np.logaddexp(c.dtype.type(0), c)


@kernel("Softplus", since=1, fresh=True)
def softplus(x):
    """log(1 + exp(x)), computed without overflow."""
    return back(_softplus(as_compute(x, "Softplus")), x.dtype)


@kernel("Softsign", since=1, fresh=True)
def softsign(x):
    """x / (1 + |x|)."""
    c = as_compute(x, "Softsign")
    d = np.abs(c)
    d += c.dtype.type(1)
    return back(np.divide(c, d, out=d), x.dtype)


@kernel("Mish", since=18, fresh=True)
def mish(x):
    """x * tanh(softplus(x))."""
    c = as_compute(x, "Mish")
    r = np.tanh(_softplus(c))
    r *= c
    return back(r, x.dtype)


def _swish(c, alpha):
    s = sigmoid_f(c * c.dtype.type(alpha)) if alpha != 1.0 else sigmoid_f(c)
    s *= c
    return s


@kernel("Swish", since=24, fresh=True)
class Swish(OpKernel):
    """x * sigmoid(alpha * x)."""

    def __init__(self, info):
        super().__init__(info)
        self.alpha = float(info.attr("alpha", 1.0))

    def __call__(self, x):
        return back(_swish(as_compute(x, "Swish"), self.alpha), x.dtype)


@kernel("SwiGLU", since=28, fresh=True)
class SwiGLU(OpKernel):
    """Swish_alpha(A) * B, A and B of identical shapes."""

    def __init__(self, info):
        super().__init__(info)
        self.alpha = float(info.attr("alpha", 1.0))

    def __call__(self, a, b):
        if a.shape != b.shape:
            raise InvalidArgument(f"SwiGLU inputs A and B must have the same shape, got "
                                  f"{a.shape} and {b.shape}")
        r = _swish(as_compute(a, "SwiGLU"), self.alpha)
        r *= as_compute(b, "SwiGLU")
        return back(r, a.dtype)
