"""Sigmoid, HardSigmoid, HardSwish."""

from __future__ import annotations

import numpy as np

from ..base import OpKernel
from ..registry import kernel
from ._common import as_compute, back, sigmoid_f


@kernel("Sigmoid", since=1, fresh=True)
def sigmoid(x):
    """1 / (1 + exp(-x))."""
    return back(sigmoid_f(as_compute(x, "Sigmoid")), x.dtype)


@kernel("HardSigmoid", since=1, fresh=True)
class HardSigmoid(OpKernel):
    """max(0, min(1, alpha * x + beta))."""

    def __init__(self, info):
        super().__init__(info)
        self.alpha = float(info.attr("alpha", 0.2))
        self.beta = float(info.attr("beta", 0.5))

    def __call__(self, x):
        c = as_compute(x, "HardSigmoid")
        t = c.dtype.type
        r = c * t(self.alpha)
        r += t(self.beta)
        np.clip(r, t(0), t(1), out=r)
        return back(r, x.dtype)


@kernel("HardSwish", since=14, fresh=True)
def hard_swish(x):
    """x * max(0, min(1, x / 6 + 0.5))."""
    c = as_compute(x, "HardSwish")
    t = c.dtype.type
    r = c * t(1.0 / 6.0)
    r += t(0.5)
    np.clip(r, t(0), t(1), out=r)
    r *= c
    return back(r, x.dtype)
