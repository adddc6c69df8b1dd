"""Elementwise unary math: Abs, Neg, Sign, Ceil, Floor, Round, Reciprocal, Sqrt, Exp, Log."""

from __future__ import annotations

import numpy as np

from ..registry import kernel
from ._common import F32, F64, float_unary, is_narrow_float


def _keep(fn):
    """Apply ``fn`` in the input's dtype; narrow floats go through float32."""

    def run(x):
        if is_narrow_float(x.dtype):
            return fn(x.astype(F32)).astype(x.dtype)
        return fn(x)

    run.__name__ = fn.__name__
    return run


_abs = _keep(np.abs)
_neg = _keep(np.negative)
_ceil = _keep(np.ceil)
_floor = _keep(np.floor)
_round = _keep(np.round)  # round half to even


def _sign(x):
    if x.dtype.kind == "u":
        return (x != 0).astype(x.dtype)
    return np.sign(x)


@kernel("Abs", since=1, fresh=True, float_out=np.abs)
def abs_(x):
    """|x|."""
    return _abs(x)


@kernel("Neg", since=1, fresh=True, float_out=np.negative)
def neg(x):
    """-x (integers wrap)."""
    return _neg(x)


@kernel("Sign", since=9, fresh=True)
def sign(x):
    """-1, 0 or 1 by the sign of x (NaN stays NaN)."""
    return _keep(_sign)(x)


@kernel("Ceil", since=1, fresh=True, float_out=np.ceil)
def ceil(x):
    """Smallest integer >= x."""
    return _ceil(x)


@kernel("Floor", since=1, fresh=True, float_out=np.floor)
def floor(x):
    """Largest integer <= x."""
    return _floor(x)


@kernel("Round", since=11, fresh=True)
def round_(x):
    """Round to nearest, halves to even."""
    return _round(x)


def _recip(x):
    return np.reciprocal(x)


_reciprocal = float_unary(_recip)
_sqrt = float_unary(np.sqrt)
_exp = float_unary(np.exp)
_log = float_unary(np.log)


@kernel("Reciprocal", since=1, fresh=True, float_out=np.reciprocal)
def reciprocal(x):
    """1 / x."""
    if x.dtype == F32 or x.dtype == F64:
        return np.reciprocal(x)
    return _reciprocal(x)


@kernel("Sqrt", since=1, fresh=True, float_out=np.sqrt)
def sqrt(x):
    """Square root (NaN for negatives)."""
    return _sqrt(x)


@kernel("Exp", since=1, fresh=True, float_out=np.exp)
def exp(x):
    """e ** x."""
    return _exp(x)


@kernel("Log", since=1, fresh=True, float_out=np.log)
def log(x):
    """Natural logarithm."""
    return _log(x)
