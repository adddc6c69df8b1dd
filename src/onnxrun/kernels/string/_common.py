"""Helpers shared by the string kernels."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument


def string_tensor(x, what: str) -> np.ndarray:
    """``x`` checked to be a string tensor (an ``object`` array of ``str``)."""
    if not isinstance(x, np.ndarray):
        raise InvalidArgument(f"{what} must be a string tensor, got {type(x).__name__}")
    if x.dtype.kind == "U":
        return x.astype(object)
    if x.dtype != object:
        raise InvalidArgument(f"{what} must be a string tensor, got element type {x.dtype}")
    return x


def object_array(values, shape) -> np.ndarray:
    """An ``object`` array of the given shape filled from a flat list of Python objects."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out.reshape(shape)
