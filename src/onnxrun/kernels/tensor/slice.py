"""Slice (attributes in opset 1, inputs with steps from opset 10). Returns a view."""

from __future__ import annotations

from typing import List, Optional

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import const_ints, int_list, norm_axes, remember


def build_slices(shape, starts: List[int], ends: List[int], axes: Optional[List[int]],
                 steps: Optional[List[int]]):
    """The tuple of Python slices Slice selects, clamped per the ONNX spec."""
    r = len(shape)
    n = len(starts)
    if len(ends) != n:
        raise InvalidArgument(f"starts ({n} values) and ends ({len(ends)}) must have the same "
                              "length")
    if axes is None or len(axes) == 0:
        axes = list(range(n))
    if len(axes) != n:
        raise InvalidArgument(f"axes ({len(axes)} values) must match starts ({n})")
    axes = norm_axes(axes, r)
    if steps is None or len(steps) == 0:
        steps = [1] * n
    if len(steps) != n:
        raise InvalidArgument(f"steps ({len(steps)} values) must match starts ({n})")
    sl = [slice(None)] * r
    for a, s, e, st in zip(axes, starts, ends, steps):
        d = int(shape[a])
        if st == 0:
            raise InvalidArgument(f"steps must not be 0 (axis {a})")
        if s < 0:
            s += d
        if e < 0:
            e += d
        if st > 0:
            s = min(max(s, 0), d)
            e = min(max(e, 0), d)
            sl[a] = slice(s, e, st)
        else:
            s = min(max(s, 0), d - 1)
            e = min(max(e, -1), d - 1)
            sl[a] = slice(s, e if e >= 0 else None, st)
    return tuple(sl)


@kernel("Slice", since=1, until=9)
class Slice1(OpKernel):
    """Slice-1: starts/ends/axes attributes."""

    def __init__(self, info):
        super().__init__(info)
        self.starts = [int(v) for v in info.require_attr("starts")]
        self.ends = [int(v) for v in info.require_attr("ends")]
        axes = info.attr("axes")
        self.axes = None if axes is None else [int(v) for v in axes]

    def __call__(self, data):
        return data[build_slices(data.shape, self.starts, self.ends, self.axes, None)]


@kernel("Slice", since=10)
class Slice(OpKernel):
    """Slice-10+: starts, ends, axes and steps as inputs. When all given ones are constant,
    the slices are kept per input shape."""

    def __init__(self, info):
        super().__init__(info)
        names = info.input_names
        params = [const_ints(info, i, what) for i, what in
                  enumerate(("", "starts", "ends", "axes", "steps")) if i and i < len(names)
                  and names[i]]
        self.fixed = all(p is not None for p in params)
        self.slices = {}

    def __call__(self, data, starts, ends, axes=None, steps=None):
        if self.fixed:
            sl = self.slices.get(data.shape)
            if sl is None:
                sl = remember(self.slices, data.shape,
                              _slices(data.shape, starts, ends, axes, steps))
            return data[sl]
        return data[_slices(data.shape, starts, ends, axes, steps)]


def _slices(shape, starts, ends, axes, steps):
    return build_slices(shape, int_list(starts, "starts"), int_list(ends, "ends"),
                        None if axes is None else int_list(axes, "axes"),
                        None if steps is None else int_list(steps, "steps"))
