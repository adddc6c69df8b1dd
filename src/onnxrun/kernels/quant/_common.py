"""Shared helpers of the quantization kernels: type ranges, scale/zero-point broadcasting
(per-tensor, per-axis, blocked), exact saturating conversion, and integer im2col convolution."""

from __future__ import annotations

import functools
from typing import Optional, Sequence, Tuple

import ml_dtypes
import numpy as np

from ...errors import InvalidArgument
from ...ir.types import dtype_of

F32 = np.dtype(np.float32)

#: float8 / float4 / float6 quantized types (converted by rounding to nearest even, no rint)
FLOAT_Q = frozenset(np.dtype(getattr(ml_dtypes, n)) for n in (
    "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz", "float4_e2m1fn",
    "float6_e2m3fn", "float6_e3m2fn") if hasattr(ml_dtypes, n))
_INT_NAMES = ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
              "int4", "uint4", "int2", "uint2")


def int_range(dt: np.dtype) -> Optional[Tuple[int, int]]:
    """(min, max) of an integer dtype (NumPy or ml_dtypes), or None for other types."""
    return _int_range(np.dtype(dt))


@functools.lru_cache(maxsize=None)
def _int_range(dt: np.dtype) -> Optional[Tuple[int, int]]:
    if dt.name not in _INT_NAMES:
        return None
    info = ml_dtypes.iinfo(dt) if dt.type.__module__.startswith("ml_dtypes") else np.iinfo(dt)
    return int(info.min), int(info.max)


def to_float(x: np.ndarray, dt: np.dtype = F32) -> np.ndarray:
    """Values of any numeric array (int4, float8 included) as ``dt``."""
    if x.dtype == dt:
        return x
    return x.astype(dt)


def elem_dtype(elem: int, what: str) -> np.dtype:
    """NumPy dtype of an ONNX element type given as an attribute."""
    try:
        return dtype_of(int(elem))
    except ValueError:
        raise InvalidArgument(f"{what}: unsupported element type {elem}") from None


def normalize_axis(axis: int, rank: int) -> int:
    """Axis in [0, rank); rank-0/1 inputs accept any axis (per-tensor or their only axis)."""
    if rank <= 1:
        return 0
    if not -rank <= axis < rank:
        raise InvalidArgument(f"axis {axis} is out of range for a tensor of rank {rank}")
    return axis % rank


def expand_param(p: np.ndarray, x_shape: Sequence[int], axis: int, block_size: int,
                 what: str) -> np.ndarray:
    """Make a scale or zero point broadcastable to ``x_shape``: a scalar (per tensor), a 1-D
    tensor along ``axis`` (per axis) or, with ``block_size`` > 0, a tensor of the input's rank
    whose ``axis`` dimension is ``ceil(D / block_size)`` (blocked)."""
    r = len(x_shape)
    if p.ndim == 0 or (p.ndim == 1 and p.size == 1 and block_size <= 0):
        return p.reshape(())
    ax = normalize_axis(axis, r)
    if block_size <= 0:
        if p.ndim != 1 or r == 0 or p.shape[0] != x_shape[ax]:
            raise InvalidArgument(f"{what} must be a scalar or a 1-D tensor of length "
                                  f"{x_shape[ax] if r else 1} (axis {axis}) for input shape "
                                  f"{tuple(x_shape)}, got shape {p.shape}")
        shape = [1] * r
        shape[ax] = p.shape[0]
        return p.reshape(shape)
    if p.ndim != r:
        raise InvalidArgument(f"blocked quantization needs {what} of rank {r}, got shape "
                              f"{p.shape}")
    D = x_shape[ax]
    nb = -(-D // block_size)
    for i in range(r):
        want = nb if i == ax else x_shape[i]
        if p.shape[i] != want:
            raise InvalidArgument(f"{what} shape {p.shape} does not match input shape "
                                  f"{tuple(x_shape)} with block_size {block_size} on axis {ax}")
    return np.repeat(p, block_size, axis=ax)[(slice(None),) * ax + (slice(0, D),)]


def saturate_cast(q: np.ndarray, dt: np.dtype, saturate: bool = True) -> np.ndarray:
    """Convert float values (already rounded for integer targets) to ``dt``, clamping to the
    type's range (integers always; float8 when ``saturate``). NaN becomes an integer type's
    minimum, as in onnxruntime (MLAS)."""
    rng = int_range(dt)
    if rng is not None:
        q = np.minimum(np.fmax(q, rng[0]), rng[1])  # fmax: NaN -> the minimum
        if dt.name in ("int64", "uint64"):
            q = np.nan_to_num(q)
        return q.astype(dt)
    if dt in FLOAT_Q:
        if saturate or dt.name.startswith(("float4", "float6")):
            m = float(ml_dtypes.finfo(dt).max)
            q = np.clip(q, -m, m)
        return q.astype(dt)
    raise InvalidArgument(f"unsupported quantized type {dt}")
