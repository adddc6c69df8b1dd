"""SplitToSequence (opset 11, 24) and ConcatFromSequence (opset 11)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import as_sequence, as_tensor


def _axis(axis: int, rank: int, what: str) -> int:
    if not -rank <= axis < rank:
        raise InvalidArgument(f"{what} {axis} is out of range for rank {rank} "
                              f"(expected [{-rank}, {rank - 1}])")
    return axis + rank if axis < 0 else axis


@kernel("SplitToSequence", since=11)
class SplitToSequence(OpKernel):
    """Split a tensor along ``axis`` into a sequence: into size-1 chunks (squeezed unless
    ``keepdims``) without ``split``, equal chunks for a scalar ``split`` (the last may be
    smaller), or the given lengths for a 1-D ``split``."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.axis = int(info.attr("axis", 0))
        self.keepdims = bool(info.attr("keepdims", 1))

    def __call__(self, input, split=None):
        x = as_tensor(input, "SplitToSequence input")
        if x.ndim == 0:
            raise InvalidArgument("SplitToSequence input must have rank >= 1")
        ax = _axis(self.axis, x.ndim, "SplitToSequence axis")
        dim = x.shape[ax]
        if split is None:
            if self.keepdims:
                return [x[(slice(None),) * ax + (slice(i, i + 1),)].copy() for i in range(dim)]
            return [np.take(x, i, axis=ax) for i in range(dim)]
        s = np.asarray(split)
        if s.dtype.kind not in "iu":
            raise InvalidArgument(f"SplitToSequence split must be int32/int64, got {s.dtype}")
        if s.ndim == 0:
            size = int(s)
            if size <= 0:
                raise InvalidArgument(f"SplitToSequence split must be positive, got {size}")
            bounds = list(range(0, dim, size)) + [dim]
        elif s.ndim == 1:
            lengths = [int(v) for v in s]
            if any(v < 0 for v in lengths) or sum(lengths) != dim:
                raise InvalidArgument(f"SplitToSequence split {lengths} must be non-negative "
                                      f"and sum to the axis dimension {dim}")
            bounds = [0]
            for v in lengths:
                bounds.append(bounds[-1] + v)
        else:
            raise InvalidArgument(f"SplitToSequence split must be a scalar or 1-D, got shape "
                                  f"{s.shape}")
        lead = (slice(None),) * ax
        return [x[lead + (slice(a, b),)].copy() for a, b in zip(bounds[:-1], bounds[1:])]


@kernel("ConcatFromSequence", since=11, fresh=True)
class ConcatFromSequence(OpKernel):
    """Concatenate (``new_axis=0``) or stack (``new_axis=1``) a sequence's tensors."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.axis = int(info.require_attr("axis"))
        self.new_axis = bool(info.attr("new_axis", 0))

    def __call__(self, input_sequence):
        seq = as_sequence(input_sequence, "ConcatFromSequence input")
        if not seq:
            raise InvalidArgument("ConcatFromSequence needs a non-empty sequence")
        first = as_tensor(seq[0], "ConcatFromSequence element 0")
        rank = first.ndim + (1 if self.new_axis else 0)
        if rank == 0:
            raise InvalidArgument("ConcatFromSequence cannot concatenate scalars without "
                                  "new_axis=1")
        ax = _axis(self.axis, rank, "ConcatFromSequence axis")
        for i, t in enumerate(seq):
            as_tensor(t, f"ConcatFromSequence element {i}")
            if t.dtype != first.dtype:
                raise InvalidArgument(f"ConcatFromSequence element {i} has type {t.dtype}, "
                                      f"expected {first.dtype}")
            if t.ndim != first.ndim:
                raise InvalidArgument(f"ConcatFromSequence element {i} has rank {t.ndim}, "
                                      f"expected {first.ndim}")
        try:
            if self.new_axis:
                return np.stack(seq, axis=ax)
            return np.concatenate(seq, axis=ax)
        except ValueError as exc:
            raise InvalidArgument(f"ConcatFromSequence: element shapes do not match: "
                                  f"{[t.shape for t in seq]} ({exc})") from None
