"""TopK (k attribute in opset 1, input from 10; largest/sorted from 11). Ties keep the
lower index first."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import norm_axis, scalar_int


def topk(x: np.ndarray, k: int, axis: int, largest: bool):
    """Values and int64 indices of the k largest (or smallest) entries along ``axis``,
    sorted, ties broken by lower index."""
    n = x.shape[axis]
    if k < 0 or k > n:
        raise InvalidArgument(f"k={k} is out of range: expected a value in [0, {n}] for an "
                              f"axis of size {n}")
    w = x.astype(np.float32) if x.dtype.kind == "f" and x.dtype.itemsize < 4 else x
    if largest:
        order = np.argsort(np.flip(w, axis=axis), axis=axis, kind="stable")
        order = (n - 1) - np.flip(order, axis=axis)
    else:
        order = np.argsort(w, axis=axis, kind="stable")
    idx = np.take(order, np.arange(k), axis=axis).astype(np.int64, copy=False)
    vals = np.take_along_axis(x, idx, axis=axis)
    return vals, np.ascontiguousarray(idx)


@kernel("TopK", since=1, fresh=True)
class TopK(OpKernel):
    """TopK: the k largest (or smallest) elements and their indices along ``axis``."""

    def __init__(self, info):
        super().__init__(info)
        self.axis = int(info.attr("axis", -1))
        self.largest = bool(info.attr("largest", 1))
        self.k_attr = info.attr("k") if info.since_version < 10 else None
        if info.since_version < 10 and self.k_attr is None:
            raise InvalidArgument("attribute 'k' is required")

    def __call__(self, x, k=None):
        if x.ndim == 0:
            raise InvalidArgument("TopK input must have rank >= 1")
        axis = norm_axis(self.axis, x.ndim)
        kk = int(self.k_attr) if self.k_attr is not None else scalar_int(k, "K")
        return topk(x, kk, axis, self.largest)
