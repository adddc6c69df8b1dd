"""Helpers shared by the random kernels: generators, dtype resolution and size checks."""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from ...errors import InvalidArgument
from ...ir.types import BFLOAT16, dtype_of
from .. import _random_state

FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64), BFLOAT16)


def seed_value(seed) -> Optional[int]:
    """The float ``seed`` attribute as a seed for ``default_rng``, or None. A non-negative whole
    seed is used as is; any other value uses its float32 bit pattern plus 2**32, so every
    distinct seed gives a distinct stream."""
    if seed is None:
        return None
    s = float(seed)
    if s >= 0 and s.is_integer():
        return int(s)
    return int(np.array(s, dtype=np.float32).view(np.uint32)) + 2 ** 32


def rng_for(seed: Optional[int]) -> np.random.Generator:
    """A fresh generator for a seeded node (same draws every run), else the process-wide one."""
    if seed is None:
        return _random_state.generator()
    return np.random.default_rng(seed)


def float_dtype(elem: int, what: str) -> np.dtype:
    """The NumPy dtype of a float ``dtype`` attribute value."""
    try:
        dt = dtype_of(int(elem))
    except ValueError:
        dt = None
    if dt not in FLOAT_DTYPES:
        raise InvalidArgument(f"{what}: dtype {elem} is not a float type (expected float16, "
                              "float, double or bfloat16)")
    return dt


def check_shape(shape: Sequence[int], dtype: np.dtype, limit: Optional[int], what: str) -> tuple:
    """``shape`` as a tuple of non-negative ints, refused when it would exceed ``limit``."""
    shape = tuple(int(d) for d in shape)
    if any(d < 0 for d in shape):
        raise InvalidArgument(f"{what}: shape {list(shape)} has a negative dimension")
    if limit is not None:
        n = math.prod(shape) * max(np.dtype(dtype).itemsize, 8)
        if n > limit:
            raise InvalidArgument(f"{what}: shape {list(shape)} needs {n} bytes, above the "
                                  f"limit of {limit}")
    return shape


def uniform01(rng: np.random.Generator, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Uniform [0, 1) draws, in float32 for the narrow float types and float32 itself."""
    work = np.float64 if dtype == np.float64 else np.float32
    return rng.random(shape, dtype=work)


def normal01(rng: np.random.Generator, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Standard normal draws, in float32 for the narrow float types and float32 itself."""
    work = np.float64 if dtype == np.float64 else np.float32
    return rng.standard_normal(shape, dtype=work)
