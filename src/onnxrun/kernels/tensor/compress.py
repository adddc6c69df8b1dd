"""Compress and NonZero."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import norm_axis


@kernel("Compress", since=9, fresh=True)
class Compress(OpKernel):
    """Keep the slices along ``axis`` (or elements of the flattened input) where
    ``condition`` is true; a condition shorter than the axis selects among its first
    entries only."""

    def __init__(self, info):
        super().__init__(info)
        axis = info.attr("axis")
        self.axis = None if axis is None else int(axis)

    def __call__(self, x, condition):
        cond = np.asarray(condition)
        if cond.ndim != 1:
            raise InvalidArgument(f"condition must be 1-D, got shape {list(cond.shape)}")
        cond = cond.astype(bool, copy=False)
        if self.axis is None:
            flat = x.reshape(-1)
            axis, n = 0, flat.size
        else:
            axis = norm_axis(self.axis, x.ndim)
            flat, n = x, x.shape[axis]
        if cond.size > n:
            extra = np.flatnonzero(cond[n:])
            if extra.size:
                raise InvalidArgument(f"condition selects index {n + int(extra[0])}, out of "
                                      f"range: expected indices in [0, {n - 1}] for an axis of "
                                      f"size {n}")
            cond = cond[:n]
        return np.compress(cond, flat, axis=axis)


@kernel("NonZero", since=9, fresh=True)
def nonzero(x):
    """Indices of the non-zero elements, shape (rank, count), int64 (a scalar counts as
    rank 1, like onnxruntime)."""
    if x.ndim == 0:
        x = x.reshape(1)
    if x.dtype == np.dtype(object):
        x = x.astype(bool)
    flat = np.flatnonzero(x).astype(np.int64, copy=False)
    out = np.empty((x.ndim, flat.size), dtype=np.int64)
    for i in range(x.ndim - 1, 0, -1):  # unravel with one divmod per axis
        flat, out[i] = np.divmod(flat, x.shape[i])
    out[0] = flat
    return out
