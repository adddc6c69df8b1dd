"""Helpers shared by the image kernels: size caps, axes, compute dtypes, casting back."""

from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np

from ...errors import InvalidArgument

from .._alloc import DEFAULT_MAX_BYTES, check_alloc, max_bytes  # noqa: F401  (shared cap)


def norm_axes(axes: Optional[Sequence[int]], rank: int, what: str = "axes") -> List[int]:
    """Normalize ``axes`` (None = all) into [0, rank); raise on out-of-range or repeated axes."""
    if axes is None:
        return list(range(rank))
    out = []
    for a in axes:
        a = int(a)
        if a < -rank or a >= rank:
            raise InvalidArgument(f"{what} value {a} is out of range for a tensor of rank {rank}; "
                                  f"expected a value in [{-rank}, {rank - 1}]")
        out.append(a + rank if a < 0 else a)
    if len(set(out)) != len(out):
        raise InvalidArgument(f"{what} {list(axes)} contains a repeated axis")
    return out


def compute_dtype(dtype) -> np.dtype:
    """The float type used to interpolate values of ``dtype`` (float32 unless more is needed)."""
    dt = np.dtype(dtype)
    if dt == np.float64 or dt.kind == "c":
        return dt
    if dt.kind in "iu" and dt.itemsize >= 8:
        return np.dtype(np.float64)
    return np.dtype(np.float32)


def cast_back(values: np.ndarray, dtype, round_ints: bool = False) -> np.ndarray:
    """Cast interpolated float values to ``dtype``; integers are truncated toward zero (as
    onnxruntime's static_cast does) or rounded to nearest (``round_ints``), and saturated to
    the type's range."""
    dt = np.dtype(dtype)
    if values.dtype == dt:
        return values
    if dt.kind in "iu":
        info = np.iinfo(dt)
        values = np.rint(values) if round_ints else np.trunc(values)
        values = np.clip(values, info.min, info.max)
    elif dt == np.bool_:
        return values != 0
    return values.astype(dt)


def scalar(value, what: str):
    """The single element of ``value`` (a scalar or a 1-element tensor) as a Python number."""
    arr = np.asarray(value)
    if arr.size != 1:
        raise InvalidArgument(f"{what} must be a scalar (one element); got shape {list(arr.shape)}")
    return arr.reshape(()).item()
