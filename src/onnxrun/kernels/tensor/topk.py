"""TopK (k attribute in opset 1, input from 10; largest/sorted from 11). Ties keep the
lower index first."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import norm_axis, scalar_int


def _full_sort(rows: np.ndarray, k: int, largest: bool) -> np.ndarray:
    """Indices of the top k of each row by a stable full sort (ties: lower index first)."""
    n = rows.shape[1]
    if largest:
        order = np.argsort(rows[:, ::-1], axis=1, kind="stable")[:, ::-1]
        return (n - 1) - order[:, :k]
    return np.argsort(rows, axis=1, kind="stable")[:, :k]


def _partial(rows: np.ndarray, k: int, largest: bool) -> np.ndarray:
    """Top k indices per row via argpartition; rows whose boundary value is tied (or NaN)
    are redone with a stable full sort so the lower index always wins."""
    m, n = rows.shape
    ar = np.arange(m)[:, None]
    kth = n - k if largest else k - 1
    part = np.argpartition(rows, kth, axis=1)
    cand = part[:, n - k:] if largest else part[:, :k]
    bound = rows[ar[:, 0], part[:, kth]][:, None]
    vals = rows[ar, cand]
    bad = (rows == bound).sum(axis=1) != (vals == bound).sum(axis=1)
    if rows.dtype.kind == "f":
        bad |= np.isnan(bound[:, 0])
    if largest:
        order = np.lexsort((-cand, vals), axis=1)[:, ::-1]
    else:
        order = np.lexsort((cand, vals), axis=1)
    out = cand[ar, order]
    if bad.any():
        out[bad] = _full_sort(rows[bad], k, largest)
    return out


def topk(x: np.ndarray, k: int, axis: int, largest: bool):
    """Values and int64 indices of the k largest (or smallest) entries along ``axis``,
    sorted, ties broken by lower index."""
    n = x.shape[axis]
    if k < 0 or k > n:
        raise InvalidArgument(f"k={k} is out of range: expected a value in [0, {n}] for an "
                              f"axis of size {n}")
    w = x.astype(np.float32) if x.dtype.kind == "f" and x.dtype.itemsize < 4 else x
    w = np.moveaxis(w, axis, -1)
    lead = w.shape[:-1]
    rows = w.reshape(-1, n)
    if k == 0 or rows.shape[0] == 0:
        idx = np.zeros((rows.shape[0], k), dtype=np.int64)
    elif n <= 128 or 4 * k >= n:
        idx = _full_sort(rows, k, largest)
    else:
        idx = _partial(rows, k, largest)
    idx = np.moveaxis(idx.astype(np.int64, copy=False).reshape(lead + (k,)), -1, axis)
    idx = np.ascontiguousarray(idx)
    vals = np.take_along_axis(x, idx, axis=axis)
    return vals, idx


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
