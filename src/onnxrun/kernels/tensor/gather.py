"""Gather, GatherElements, GatherND. Out-of-range indices raise (never wrap or clip)."""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import check_indices, const_input, norm_axis


def axis_grid(shape, axis, idx):
    """Fancy-index tuple selecting ``idx`` along ``axis`` and the identity elsewhere, for an
    index array of ``shape`` (open grids that broadcast, no full materialization)."""
    r = len(shape)
    out = []
    for i in range(r):
        if i == axis:
            out.append(idx)
        else:
            view = [1] * r
            view[i] = shape[i]
            out.append(np.arange(shape[i], dtype=np.int64).reshape(view))
    return tuple(out)


@kernel("Gather", since=1, fresh=True)
class Gather(OpKernel):
    """Gather slices of ``data`` along ``axis`` picked by ``indices``."""

    def __init__(self, info):
        super().__init__(info)
        self.axis = int(info.attr("axis", 0))
        # a constant scalar index (e.g. a dim of a Shape, a state of a stacked LSTM state)
        c = const_input(info, 1)
        self.index = int(c) if (c is not None and c.ndim == 0 and c.dtype.kind in "iu"
                                and self.axis == 0) else None

    def __call__(self, data, indices):
        i = self.index
        if i is not None and data.ndim:
            d = data.shape[0]
            if -d <= i < d:
                return data[i].copy() if data.ndim > 1 else np.array(data[i], dtype=data.dtype)
        if data.ndim == 0:
            raise InvalidArgument("Gather data must have rank >= 1, got a scalar")
        axis = norm_axis(self.axis, data.ndim)
        idx = check_indices(indices, data.shape[axis], "Gather index")
        if idx.ndim == 0 and axis == 0:
            return data[int(idx)].copy() if data.ndim > 1 else np.array(data[int(idx)],
                                                                        dtype=data.dtype)
        return np.take(data, idx, axis=axis)


@kernel("GatherElements", since=11, fresh=True)
class GatherElements(OpKernel):
    """out[i][j][k] = data[index[i][j][k]][j][k] (for axis 0), shape of ``indices``."""

    def __init__(self, info):
        super().__init__(info)
        self.axis = int(info.attr("axis", 0))

    def __call__(self, data, indices):
        r = data.ndim
        if indices.ndim != r:
            raise InvalidArgument(f"indices rank {indices.ndim} must equal data rank {r}")
        if r == 0:
            raise InvalidArgument("GatherElements data must have rank >= 1")
        axis = norm_axis(self.axis, r)
        for i in range(r):
            if i != axis and indices.shape[i] > data.shape[i]:
                raise InvalidArgument(
                    f"indices shape {list(indices.shape)} exceeds data shape "
                    f"{list(data.shape)} on axis {i}")
        idx = check_indices(indices, data.shape[axis], "GatherElements index")
        return data[axis_grid(idx.shape, axis, idx)]


@kernel("GatherND", since=11, fresh=True)
class GatherND(OpKernel):
    """Gather slices of ``data`` addressed by the last axis of ``indices``, with leading
    ``batch_dims`` shared (opset 12+)."""

    def __init__(self, info):
        super().__init__(info)
        self.b = int(info.attr("batch_dims", 0))

    def __call__(self, data, indices):
        b = self.b
        if indices.ndim < 1:
            raise InvalidArgument("GatherND indices must have rank >= 1")
        if b < 0 or b >= min(data.ndim, indices.ndim):
            raise InvalidArgument(f"batch_dims {b} must be smaller than the ranks of data "
                                  f"({data.ndim}) and indices ({indices.ndim})")
        if data.shape[:b] != indices.shape[:b]:
            raise InvalidArgument(f"the first {b} dims of data {list(data.shape)} and indices "
                                  f"{list(indices.shape)} must match")
        k = indices.shape[-1]
        if k > data.ndim - b:
            raise InvalidArgument(f"indices last dim {k} exceeds data rank {data.ndim} minus "
                                  f"batch_dims {b}")
        if indices.dtype.kind not in "iu":
            raise InvalidArgument(f"indices must be integers, got {indices.dtype}")
        bshape = data.shape[:b]
        nb = math.prod(bshape)
        mid = indices.shape[b:-1]
        m = math.prod(mid)
        rest = data.shape[b + k:]
        d = data.reshape((nb,) + data.shape[b:])
        ind = indices.reshape(nb, m, k).astype(np.int64, copy=False)
        parts = [np.arange(nb, dtype=np.int64).reshape(nb, 1)]
        for j in range(k):
            parts.append(check_indices(ind[..., j], data.shape[b + j], "GatherND index"))
        out = d[tuple(parts)]
        return out.reshape(bshape + mid + rest)
