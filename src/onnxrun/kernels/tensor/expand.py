"""Expand and Tile (size-checked before allocating)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import check_alloc, int_list, max_bytes, norm_axis, scalar_int


def broadcast_shape(a, b):
    """Bidirectional (numpy) broadcast of two shapes, with a clear error."""
    a, b = list(a), list(b)
    r = max(len(a), len(b))
    a = [1] * (r - len(a)) + a
    b = [1] * (r - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise InvalidArgument(f"shapes {a} and {b} cannot be broadcast together")
    return out


@kernel("Expand", since=8, fresh=True)
class Expand(OpKernel):
    """Broadcast the input to ``shape`` (bidirectionally)."""

    def __init__(self, info):
        super().__init__(info)
        self.limit = max_bytes(info)

    def __call__(self, x, shape):
        dims = int_list(shape, "shape")
        if any(d < 0 for d in dims):
            raise InvalidArgument(f"shape {dims} has a negative dimension")
        out = broadcast_shape(x.shape, dims)
        check_alloc(out, x.dtype, self.limit)
        res = np.empty(out, dtype=x.dtype)
        res[...] = x
        return res


@kernel("Tile", since=1, fresh=True)
class Tile(OpKernel):
    """Repeat the input ``repeats[i]`` times along each axis (Tile-1: ``tiles`` times along
    ``axis``)."""

    def __init__(self, info):
        super().__init__(info)
        self.v1 = info.since_version < 6
        self.limit = max_bytes(info)

    def __call__(self, x, repeats, axis=None):
        if self.v1:
            t = scalar_int(repeats, "tiles", allow_float=True)
            reps = [1] * x.ndim
            a = scalar_int(axis, "axis", allow_float=True) if axis is not None else 0
            reps[norm_axis(a, x.ndim)] = t
        else:
            reps = int_list(repeats, "repeats")
            if len(reps) != x.ndim:
                raise InvalidArgument(f"repeats has {len(reps)} values, expected one per input "
                                      f"axis ({x.ndim})")
        if any(r < 0 for r in reps):
            raise InvalidArgument(f"repeats {reps} must be non-negative")
        check_alloc([d * r for d, r in zip(x.shape, reps)], x.dtype, self.limit)
        # one pass: broadcast x viewed as (1, d0, 1, d1, ...) to (r0, d0, r1, d1, ...)
        inter = [v for d in x.shape for v in (1, d)]
        full = [v for r, d in zip(reps, x.shape) for v in (r, d)]
        out = np.empty(full, dtype=x.dtype)
        out[...] = x.reshape(inter)
        return out.reshape([r * d for r, d in zip(reps, x.shape)])
