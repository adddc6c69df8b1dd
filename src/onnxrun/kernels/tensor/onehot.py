"""OneHot."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import check_alloc, max_bytes


@kernel("OneHot", since=9, fresh=True)
class OneHot(OpKernel):
    """One-hot encode ``indices`` with ``depth`` classes inserted at ``axis``; indices
    outside [-depth, depth-1] give an all-off row, as the spec defines."""

    def __init__(self, info):
        super().__init__(info)
        self.axis = int(info.attr("axis", -1))
        self.limit = max_bytes(info)

    def __call__(self, indices, depth, values):
        if np.size(depth) != 1:
            raise InvalidArgument(f"depth must be a scalar, got shape {list(np.shape(depth))}")
        d = np.asarray(depth).reshape(-1)[0]
        if np.asarray(d).dtype.kind == "f" and not np.isfinite(d):
            raise InvalidArgument(f"depth must be finite, got {d}")
        d = int(d)
        if d < 1:
            raise InvalidArgument(f"depth must be >= 1, got {d}")
        vals = np.asarray(values)
        if vals.size != 2:
            raise InvalidArgument(f"values must hold [off_value, on_value], got shape "
                                  f"{list(vals.shape)}")
        vals = vals.reshape(2)
        r = indices.ndim + 1
        axis = self.axis
        if axis < -r or axis >= r:
            raise InvalidArgument(f"axis {axis} is out of range; expected a value in "
                                  f"[{-r}, {r - 1}]")
        if axis < 0:
            axis += r
        out_shape = list(indices.shape)
        out_shape.insert(axis, d)
        check_alloc(out_shape, vals.dtype, self.limit)
        idx = np.asarray(indices)
        if idx.dtype.kind == "f":
            idx = np.trunc(idx)
        idx = idx.astype(np.int64)
        idx = np.where(idx < 0, idx + d, idx)
        mask = idx[..., None] == np.arange(d, dtype=np.int64)
        if axis != r - 1:
            mask = np.moveaxis(mask, -1, axis)
        out = np.where(mask, vals[1], vals[0])
        return np.ascontiguousarray(out, dtype=vals.dtype)
