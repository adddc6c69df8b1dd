"""Scatter, ScatterElements, ScatterND (with reductions none/add/mul/max/min)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import check_indices, norm_axis
from .gather import axis_grid

_UFUNCS = {"add": np.add, "mul": np.multiply, "max": np.maximum, "min": np.minimum}


def _reduction(info):
    red = info.attr("reduction", "none")
    if red != "none" and red not in _UFUNCS:
        raise InvalidArgument(f"reduction must be one of none, add, mul, max, min; got {red!r}")
    return red


def _apply(out, where, updates, red):
    if red == "none":
        out[where] = updates
    else:
        _UFUNCS[red].at(out, where, updates)
    return out


@kernel("ScatterElements", since=11, fresh=True)
class ScatterElements(OpKernel):
    """Copy ``data`` and write ``updates`` at positions given by ``indices`` along ``axis``."""

    def __init__(self, info):
        super().__init__(info)
        self.axis = int(info.attr("axis", 0))
        self.red = _reduction(info)

    def __call__(self, data, indices, updates):
        r = data.ndim
        if indices.ndim != r or updates.shape != indices.shape:
            raise InvalidArgument(
                f"indices {list(indices.shape)} and updates {list(updates.shape)} must have "
                f"the same shape and the rank of data ({r})")
        axis = norm_axis(self.axis, r)
        for i in range(r):
            if i != axis and indices.shape[i] > data.shape[i]:
                raise InvalidArgument(f"indices shape {list(indices.shape)} exceeds data shape "
                                      f"{list(data.shape)} on axis {i}")
        if updates.dtype != data.dtype:
            raise InvalidArgument(f"updates dtype {updates.dtype} must equal data dtype "
                                  f"{data.dtype}")
        idx = check_indices(indices, data.shape[axis], "ScatterElements index")
        out = data.copy()
        return _apply(out, axis_grid(idx.shape, axis, idx), updates, self.red)


kernel("Scatter", since=9, until=10, fresh=True)(type(
    "Scatter", (ScatterElements,), {"__doc__": "Scatter-9 (deprecated): ScatterElements."}))


@kernel("ScatterND", since=11, fresh=True)
class ScatterND(OpKernel):
    """Copy ``data`` and write ``updates`` at the slices addressed by ``indices``."""

    def __init__(self, info):
        super().__init__(info)
        self.red = _reduction(info)

    def __call__(self, data, indices, updates):
        if indices.ndim < 1:
            raise InvalidArgument("ScatterND indices must have rank >= 1")
        k = indices.shape[-1]
        if k > data.ndim:
            raise InvalidArgument(f"indices last dim {k} exceeds data rank {data.ndim}")
        want = indices.shape[:-1] + data.shape[k:]
        if updates.shape != want:
            raise InvalidArgument(f"updates shape {list(updates.shape)} must be "
                                  f"{list(want)} (indices.shape[:-1] + data.shape[k:])")
        if updates.dtype != data.dtype:
            raise InvalidArgument(f"updates dtype {updates.dtype} must equal data dtype "
                                  f"{data.dtype}")
        if indices.dtype.kind not in "iu":
            raise InvalidArgument(f"indices must be integers, got {indices.dtype}")
        where = tuple(check_indices(indices[..., j], data.shape[j], "ScatterND index")
                      for j in range(k))
        out = data.copy()
        return _apply(out, where, updates, self.red)
