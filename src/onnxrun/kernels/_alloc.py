"""The byte cap on data-dependent allocations (``session.max_tensor_bytes``), shared by every
kernel whose output size depends on input values."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..errors import InvalidArgument
from ..options import DEFAULT_MAX_TENSOR_BYTES as DEFAULT_MAX_BYTES


def max_bytes(info) -> int:
    """The largest tensor (in bytes) a kernel may allocate for ``info``'s session."""
    return int(getattr(info, "max_tensor_bytes", DEFAULT_MAX_BYTES) or DEFAULT_MAX_BYTES)


def check_alloc(shape: Sequence[int], dtype, limit: int, what: str = "output") -> None:
    """Raise InvalidArgument if a tensor of ``shape``/``dtype`` would exceed ``limit`` bytes.

    Uses Python ints so that huge shapes cannot overflow."""
    dims = [int(d) for d in shape]
    if any(d < 0 for d in dims):
        raise InvalidArgument(f"{what} shape {dims} has a negative dimension")
    dt = np.dtype(dtype)
    itemsize = 8 if dt == np.dtype(object) else max(dt.itemsize, 1)
    nbytes = math.prod(dims) * itemsize
    if nbytes > limit:
        raise InvalidArgument(
            f"{what} shape {dims} would need {nbytes} bytes, more than the allowed "
            f"{limit} bytes (session.max_tensor_bytes)")
