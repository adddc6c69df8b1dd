"""Unique (4 outputs: values, first indices, inverse indices, counts)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import norm_axis


@kernel("Unique", since=11, fresh=True)
class Unique(OpKernel):
    """Unique values (or sub-tensors along ``axis``), sorted ascending or, with
    ``sorted=0``, in order of first occurrence."""

    def __init__(self, info):
        super().__init__(info)
        axis = info.attr("axis")
        self.axis = None if axis is None else int(axis)
        self.sorted = bool(info.attr("sorted", 1))

    def __call__(self, x):
        if self.axis is None:
            data, axis = x.reshape(-1), None
        else:
            axis = norm_axis(self.axis, x.ndim)
            data = x
        if data.dtype == np.dtype(object) and axis is not None:
            raise InvalidArgument("Unique with an axis is not supported for strings")
        y, first, inv, counts = np.unique(data, return_index=True, return_inverse=True,
                                          return_counts=True, axis=axis)
        inv = np.asarray(inv).reshape(-1)
        if not self.sorted:
            order = np.argsort(first, kind="stable")
            rank = np.empty_like(order)
            rank[order] = np.arange(order.size)
            y = np.take(y, order, axis=0 if axis is None else axis)
            first, counts, inv = first[order], counts[order], rank[inv]
        i64 = np.int64
        return (np.ascontiguousarray(y), first.astype(i64), inv.astype(i64),
                counts.astype(i64))
