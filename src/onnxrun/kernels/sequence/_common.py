"""Helpers shared by the sequence and optional kernels."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument


def as_sequence(value, what: str) -> list:
    """``value`` checked to be a sequence (a Python list)."""
    if not isinstance(value, (list, tuple)):
        raise InvalidArgument(f"{what} must be a sequence, got {type(value).__name__}")
    return list(value)


def as_tensor(value, what: str) -> np.ndarray:
    """``value`` checked to be a tensor (a NumPy array)."""
    if not isinstance(value, np.ndarray):
        raise InvalidArgument(f"{what} must be a tensor, got {type(value).__name__}")
    return value


def position(value, length: int, what: str, allow_end: bool = False) -> int:
    """A position tensor (int32/int64 scalar) within [-length, length-1], or up to ``length``
    when ``allow_end``; returned non-negative."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu" or arr.size != 1:
        raise InvalidArgument(f"{what} must be a one-element int32/int64 tensor, got "
                              f"{arr.dtype} of shape {arr.shape}")
    p = int(arr.reshape(-1)[0])
    hi = length if allow_end else length - 1
    if not -length <= p <= hi:
        raise InvalidArgument(f"{what} {p} is out of bounds for a sequence of length {length} "
                              f"(expected [{-length}, {hi}])")
    return p + length if p < 0 else p


def same_dtype(seq: list, tensor: np.ndarray, what: str) -> None:
    """All elements of a sequence share one element type."""
    if seq and isinstance(seq[0], np.ndarray) and seq[0].dtype != tensor.dtype:
        raise InvalidArgument(f"{what}: element type {tensor.dtype} differs from the "
                              f"sequence's {seq[0].dtype}")
