"""Jitted helpers the compiled kernels share: the stride-phase layout of a padded image, and
the fused activations. (A change here reaches every kernel's cache key: _jit.DEPENDENCY_TAG.)"""

from __future__ import annotations

import numba
import numpy as np

from ._jit import OPTIONS


@numba.njit(**OPTIONS)
def phase_grid(H, W, OH, OW, kh, kw, sh, sw, dh, dw, pt, pl):
    """(Hq, Wq, Lq) of the stride-phase layout: phase (a, b) of the padded image holds its
    rows a, a + sh, ... and columns b, b + sw, ... (padded pixel (r * sh + a, q * sw + b) at
    r * Wq + q), stored flat with Hq rows of Wq, in Lq >= Hq * Wq entries so that every tap of
    every output (the columns past the output width included) reads inside it."""
    Hq = max((H + pt + sh - 1) // sh, OH + ((kh - 1) * dh) // sh)
    Wq = max((W + pl + sw - 1) // sw, OW + ((kw - 1) * dw) // sw)
    return Hq, Wq, Hq * Wq + ((kw - 1) * dw) // sw + 1


#: activation codes of the compiled epilogues (FusedConv's ``activation`` attribute); not
#: Sigmoid and Tanh: Numba's exp and tanh are scalar libm calls, slower than NumPy's loops
ACTIVATIONS = {None: 0, "Relu": 1, "Clip": 2, "HardSigmoid": 3, "HardSwish": 4,
               "LeakyRelu": 5}


def epilogue_constants(dtype, params=()):
    """The constants array ``activate`` reads, in the output's dtype: alpha, beta (the
    activation's parameters), 0, 1, 1/6, 1/2 (typed, so float32 math stays float32)."""
    p = list(params) + [0.0] * (2 - len(params))
    return np.array([p[0], p[1], 0.0, 1.0, 1.0 / 6.0, 0.5], dtype=dtype)


@numba.njit(**OPTIONS)
def activate(v, act, k):
    """``v`` through activation ``act`` (a compile-time constant where it is inlined, so the
    branches fold away) with constants ``k`` from :func:`epilogue_constants`; the semantics of
    the NumPy epilogues (fused/_activation.py), NaN staying NaN."""
    if act == 1:
        return k[2] if v < k[2] else v
    if act == 2:
        v = k[0] if v < k[0] else v
        return k[1] if v > k[1] else v
    if act == 3:
        g = v * k[0] + k[1]
        g = k[2] if g < k[2] else g
        return k[3] if g > k[3] else g
    if act == 4:
        g = v * k[4] + k[5]
        g = k[2] if g < k[2] else g
        g = k[3] if g > k[3] else g
        return v * g
    if act == 5:
        return v * k[0] if v < k[2] else v
    return v
