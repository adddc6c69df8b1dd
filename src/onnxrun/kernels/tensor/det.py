"""Det."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..registry import kernel


@kernel("Det", since=11, fresh=True)
def det(x):
    """Determinant of the square matrices in the last two axes (16-bit floats computed in
    float32)."""
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise InvalidArgument(f"Det input must be (..., M, M), got shape {list(x.shape)}")
    w = x.astype(np.float32) if x.dtype.itemsize < 4 else x
    return np.asarray(np.linalg.det(w)).astype(x.dtype)
