"""Helpers for activation kernels: run float math in float32/float64 whatever the input type."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..math._common import F32, F64, compute_dtype, is_float


def as_compute(x: np.ndarray, op: str) -> np.ndarray:
    """x as float32/float64 (half and narrow floats widen to float32); ints are rejected."""
    if x.dtype == F32 or x.dtype == F64:
        return x
    if not is_float(x.dtype):
        raise InvalidArgument(f"{op} expects a floating point tensor, got {x.dtype}")
    return x.astype(compute_dtype(x.dtype))


def back(y: np.ndarray, dt: np.dtype) -> np.ndarray:
    """y converted back to the input dtype ``dt`` (no copy when it already is)."""
    return y if y.dtype == dt else y.astype(dt)


def const(v: float, dt: np.dtype):
    """A scalar of the computation dtype (keeps float32 math in float32)."""
    return dt.type(v)


def sigmoid_f(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) for a float32/float64 array (new array)."""
    t = np.negative(x)
    np.exp(t, out=t)
    t += x.dtype.type(1)
    np.reciprocal(t, out=t)
    return t
