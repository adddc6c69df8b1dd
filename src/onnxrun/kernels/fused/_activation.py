"""In-place activations applied to a fresh kernel output (fusion epilogues)."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..activation.relu import relu_out

#: activation names the fusion pass may attach, with the ONNX attribute names of their params
SUPPORTED = {"Relu": (), "Clip": ("min", "max"), "Sigmoid": (), "Tanh": (),
             "HardSigmoid": ("alpha", "beta"), "LeakyRelu": ("alpha",), "HardSwish": ()}


def make(name: str, params: Sequence[float]) -> Callable[[np.ndarray], np.ndarray]:
    """An in-place function ``f(y) -> y`` for activation ``name``."""
    if name == "Relu":
        # Relu's own float form: NumPy's SIMD clip loop for large outputs, np.maximum (a
        # plain ufunc, less fixed cost) for small ones
        return lambda y: (relu_out(y, out=y) if y.dtype.kind == "f"
                          else np.maximum(y, 0, out=y))
    if name == "Clip":
        lo, hi = params
        return lambda y: np.clip(y, lo, hi, out=y)
    if name == "Tanh":
        return lambda y: np.tanh(y, out=y)
    if name == "Sigmoid":
        def sigmoid(y):
            np.negative(y, out=y)
            np.exp(y, out=y)
            y += 1
            return np.reciprocal(y, out=y)
        return sigmoid
    if name == "HardSigmoid":
        alpha, beta = params

        def hard_sigmoid(y):
            y *= alpha
            y += beta
            return np.clip(y, 0, 1, out=y)
        return hard_sigmoid
    if name == "LeakyRelu":
        (alpha,) = params

        def leaky(y):
            if 0.0 <= alpha <= 1.0:  # about 10x faster than a masked multiply
                return np.maximum(y, y * y.dtype.type(alpha), out=y)
            np.multiply(y, alpha, out=y, where=y < 0)
            return y
        return leaky
    if name == "HardSwish":
        def hard_swish(y):
            g = y * (1 / 6) + 0.5
            np.clip(g, 0, 1, out=g)
            y *= g
            return y
        return hard_swish
    raise ValueError(f"unsupported fused activation {name}")
