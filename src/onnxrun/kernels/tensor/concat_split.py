"""Concat and Split."""

from __future__ import annotations

from typing import List, Optional

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import int_list, norm_axis


@kernel("Concat", since=1, fresh=True)
class Concat(OpKernel):
    """Concatenate tensors along ``axis`` (default 1 in opset 1, required later)."""

    def __init__(self, info):
        super().__init__(info)
        axis = info.attr("axis")
        if axis is None:
            if info.since_version >= 4:
                raise InvalidArgument("attribute 'axis' is required")
            axis = 1
        self.axis = int(axis)

    def __call__(self, *inputs):
        arrs = [x for x in inputs if x is not None]
        if arrs and type(arrs[0]) is np.ndarray and arrs[0].ndim:
            dt = arrs[0].dtype
            if all(x.dtype == dt for x in arrs):
                try:  # NumPy checks ranks, shapes and the axis; a failure is explained below
                    return np.concatenate(arrs, axis=self.axis)
                except ValueError:
                    pass
        if not arrs:
            raise InvalidArgument("Concat needs at least one input")
        first = arrs[0]
        rank = first.ndim
        if rank == 0:
            raise InvalidArgument("Concat inputs must have rank >= 1, got a scalar")
        axis = norm_axis(self.axis, rank)
        for x in arrs[1:]:
            if x.ndim != rank or any(x.shape[i] != first.shape[i]
                                     for i in range(rank) if i != axis):
                raise InvalidArgument(
                    f"Concat inputs must have the same shape except on axis {axis}: "
                    f"got {list(first.shape)} and {list(x.shape)}")
            if x.dtype != first.dtype:
                raise InvalidArgument(f"Concat inputs must share one dtype: got {first.dtype} "
                                      f"and {x.dtype}")
        if len(arrs) == 1:
            return arrs[0].copy()
        return np.concatenate(arrs, axis=axis)


def split_sizes(dim: int, split: Optional[List[int]], n_out: int,
                num_outputs: Optional[int]) -> List[int]:
    """Sizes of the parts of an axis of length ``dim``."""
    if split is not None and len(split) > 0:
        if any(s < 0 for s in split):
            raise InvalidArgument(f"split {split} has a negative size")
        if sum(split) != dim:
            raise InvalidArgument(f"split {split} sums to {sum(split)}, expected the axis "
                                  f"length {dim}")
        return list(split)
    if num_outputs is not None:
        n = int(num_outputs)
        if n < 1:
            raise InvalidArgument(f"num_outputs must be >= 1, got {n}")
        chunk = -(-dim // n)
        sizes = []
        left = dim
        for _ in range(n):
            s = min(chunk, left)
            sizes.append(s)
            left -= s
        return sizes
    if n_out < 1:
        raise InvalidArgument("Split has no outputs")
    if dim % n_out:
        raise InvalidArgument(f"cannot split an axis of length {dim} into {n_out} equal parts")
    return [dim // n_out] * n_out


@kernel("Split", since=1)
class Split(OpKernel):
    """Split along ``axis`` into parts given by ``split`` (attribute before opset 13, input
    from 13, or input 1 in opset 1), ``num_outputs`` (opset 18) or equal parts."""

    def __init__(self, info):
        super().__init__(info)
        self.axis = int(info.attr("axis", 0))
        split = info.attr("split")
        self.split = [int(s) for s in split] if split is not None else None
        self.num_outputs = info.attr("num_outputs")
        self.n_out = info.num_outputs
        self.legacy_input = info.since_version < 2

    def __call__(self, x, split=None):
        axis = norm_axis(self.axis, x.ndim)
        sp = self.split
        if split is not None:
            sp = int_list(split, "split", allow_float=self.legacy_input)
        sizes = split_sizes(x.shape[axis], sp, self.n_out, self.num_outputs)
        if self.num_outputs is not None and len(sizes) != self.n_out and sp is None:
            raise InvalidArgument(f"num_outputs={self.num_outputs} but the node has "
                                  f"{self.n_out} outputs")
        bounds = np.cumsum(sizes)[:-1]
        return tuple(np.split(x, bounds, axis=axis))
