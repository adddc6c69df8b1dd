"""Helpers shared by the tensor-manipulation kernels (axes, size caps, index checks)."""

from __future__ import annotations

from typing import Iterable, List, Optional

import numpy as np

from ...errors import InvalidArgument

from .._alloc import DEFAULT_MAX_BYTES, check_alloc, max_bytes  # noqa: F401  (shared cap)


def norm_axis(axis: int, rank: int, what: str = "axis") -> int:
    """Normalize a possibly negative axis into [0, rank); raise if out of range."""
    a = int(axis)
    if a < -rank or a >= rank:
        raise InvalidArgument(f"{what} {a} is out of range for a tensor of rank {rank}; "
                              f"expected a value in [{-rank}, {rank - 1}]")
    return a + rank if a < 0 else a


def norm_axes(axes: Iterable[int], rank: int, what: str = "axes") -> List[int]:
    """Normalize a list of axes; raise on out-of-range or repeated axes."""
    out = [norm_axis(a, rank, what) for a in axes]
    if len(set(out)) != len(out):
        raise InvalidArgument(f"{what} {list(axes)} contains a repeated axis")
    return out


def int_list(value, what: str = "input", allow_float: bool = False) -> List[int]:
    """A 1-D integer tensor (or list, or scalar) as a list of Python ints (``allow_float``:
    integral float tensors too, for legacy ops whose integer inputs had type T)."""
    if value is None:
        return []
    arr = np.asarray(value)
    if allow_float and arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise InvalidArgument(f"{what} must hold whole numbers, got {arr.tolist()}")
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iub":
        raise InvalidArgument(f"{what} must be an integer tensor, got {arr.dtype}")
    out = arr.reshape(-1).tolist()  # Python ints, without a NumPy scalar per element
    return [int(v) for v in out] if arr.dtype.kind == "b" else out


def scalar_int(value, what: str, allow_float: bool = False) -> int:
    """A single-element integer tensor as a Python int."""
    arr = np.asarray(value)
    if arr.size != 1:
        raise InvalidArgument(f"{what} must hold exactly one value, got shape {list(arr.shape)}")
    return int_list(arr, what, allow_float)[0]


def check_indices(idx: np.ndarray, dim: int, what: str = "indices") -> np.ndarray:
    """Validate gather-type indices against an axis of size ``dim`` and make them
    non-negative (int64). Negative indices in [-dim, -1] count from the end."""
    idx = np.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise InvalidArgument(f"{what} must be an integer tensor, got {idx.dtype}")
    if idx.size == 0:
        return idx.astype(np.int64, copy=False)
    lo = int(idx.min())
    hi = int(idx.max())
    if lo < -dim or hi >= dim:
        bad = lo if lo < -dim else hi
        raise InvalidArgument(f"{what} value {bad} is out of range: expected a value in "
                              f"[{-dim}, {dim - 1}] for an axis of size {dim}")
    idx = idx.astype(np.int64, copy=False)
    if lo < 0:
        idx = np.where(idx < 0, idx + dim, idx)
    return idx


#: results kept per input shape by the shape-op kernels (a bounded cache: beyond it, computed
#: per run as before)
MAX_SHAPES = 64


def remember(cache: dict, key, value):
    """Keep ``value`` under ``key`` in a per-shape ``cache`` while it is under MAX_SHAPES
    entries; returns ``value``."""
    if len(cache) < MAX_SHAPES:
        cache[key] = value
    return value


def const_ints(info, i: int, what: str) -> Optional[List[int]]:
    """Input ``i`` as a list of ints when it is a constant integer tensor (else None: the
    kernel reads it per run, and reports a bad one there)."""
    c = const_input(info, i)
    if c is None:
        return None
    try:
        return int_list(c, what)
    except InvalidArgument:
        return None


def const_input(info, i: int) -> Optional[np.ndarray]:
    """Constant value of input ``i`` (initializer) or None."""
    cs = getattr(info, "const_inputs", None) or []
    return cs[i] if i < len(cs) else None
