"""Reshape, Flatten, Squeeze, Unsqueeze, Identity: shape-only ops returning views where
possible (so they are not registered ``fresh``)."""

from __future__ import annotations

import math
from typing import List

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import const_ints, int_list, norm_axes, remember


def reshape_target(in_shape, shape: List[int], allowzero: bool) -> List[int]:
    """The output shape of Reshape: 0 copies the input dim (unless allowzero), -1 is inferred."""
    out = list(shape)
    if out.count(-1) > 1:
        raise InvalidArgument(f"shape {shape} has more than one -1")
    if allowzero and 0 in out and -1 in out:
        raise InvalidArgument(f"shape {shape} has both 0 and -1 while allowzero=1")
    for i, d in enumerate(out):
        if d < -1:
            raise InvalidArgument(f"shape {shape} has an invalid dimension {d}")
        if d == 0 and not allowzero:
            if i >= len(in_shape):
                raise InvalidArgument(
                    f"shape {shape} copies dimension {i} (0) but the input has rank "
                    f"{len(in_shape)}")
            out[i] = int(in_shape[i])
    total = math.prod(int(d) for d in in_shape)
    if -1 in out:
        k = out.index(-1)
        rest = math.prod(d for j, d in enumerate(out) if j != k)
        if rest == 0 or total % rest:
            raise InvalidArgument(f"cannot reshape input of shape {list(in_shape)} to {shape}")
        out[k] = total // rest
    if math.prod(out) != total:
        raise InvalidArgument(f"cannot reshape input of shape {list(in_shape)} "
                              f"({total} elements) to {out}")
    return out


@kernel("Reshape", since=1, until=4)
class Reshape1(OpKernel):
    """Reshape-1: target shape in the ``shape`` attribute."""

    def __init__(self, info):
        super().__init__(info)
        self.shape = [int(v) for v in info.attr("shape", [])]

    def __call__(self, data):
        return np.reshape(data, reshape_target(data.shape, self.shape, False))


@kernel("Reshape", since=5)
class Reshape(OpKernel):
    """Reshape-5+: target shape as an input; ``allowzero`` (opset 14+)."""

    def __init__(self, info):
        super().__init__(info)
        self.allowzero = bool(info.attr("allowzero", 0))
        # a constant shape is parsed once; 0 entries (copy the input's dim) are kept as indices
        self.const_shape = None
        self.zero_idx = ()
        self.targets = {}
        const = info.const_inputs[1] if len(info.const_inputs) > 1 else None
        if const is not None:
            try:
                shape = int_list(const, "shape")
            except InvalidArgument:
                shape = None
            if shape is not None and all(d >= -1 for d in shape) and shape.count(-1) <= 1:
                if not self.allowzero:
                    self.zero_idx = tuple(i for i, d in enumerate(shape) if d == 0)
                    self.const_shape = shape
                elif not (0 in shape and -1 in shape):
                    self.const_shape = shape

    def __call__(self, data, shape):
        fixed = self.const_shape
        if fixed is not None:
            # fast path; any mismatch falls through to the checked path for its message
            if self.zero_idx:
                dims = data.shape
                if self.zero_idx[-1] < len(dims):
                    fixed = list(fixed)
                    for i in self.zero_idx:
                        fixed[i] = dims[i]
                    try:
                        return data.reshape(fixed)
                    except ValueError:
                        pass
            else:
                try:
                    return data.reshape(fixed)
                except ValueError:
                    pass
        if type(shape) is np.ndarray:  # a computed shape: targets kept per (input, shape)
            key = (data.shape, shape.dtype.char, shape.tobytes())
            target = self.targets.get(key)
            if target is None:
                target = remember(self.targets, key, tuple(
                    reshape_target(data.shape, int_list(shape, "shape"), self.allowzero)))
            return data.reshape(target)
        target = reshape_target(data.shape, int_list(shape, "shape"), self.allowzero)
        return np.reshape(data, target)


@kernel("Flatten", since=1)
class Flatten(OpKernel):
    """Flatten into a 2-D matrix at ``axis`` (negative axes from opset 11)."""

    def __init__(self, info):
        super().__init__(info)
        self.axis = int(info.attr("axis", 1))

    def __call__(self, x):
        r = x.ndim
        a = self.axis
        if a < -r or a > r:
            raise InvalidArgument(f"axis {a} is out of range; expected a value in [{-r}, {r}]")
        if a < 0:
            a += r
        outer = math.prod(x.shape[:a])
        return np.reshape(x, (outer, math.prod(x.shape[a:])))


def _squeeze(x, axes):
    if axes is None or len(axes) == 0:
        return np.reshape(x, [d for d in x.shape if d != 1])
    ax = norm_axes(axes, x.ndim)
    for a in ax:
        if x.shape[a] != 1:
            raise InvalidArgument(f"cannot squeeze axis {a} of size {x.shape[a]} "
                                  f"(input shape {list(x.shape)}); expected size 1")
    return np.reshape(x, [d for i, d in enumerate(x.shape) if i not in ax])


def _unsqueeze(x, axes):
    r = x.ndim + len(axes)
    ax = norm_axes(axes, r)
    shape = []
    it = iter(x.shape)
    for i in range(r):
        shape.append(1 if i in ax else next(it))
    return np.reshape(x, shape)


@kernel("Squeeze", since=1, until=12)
def squeeze1(x, axes=None):
    """Squeeze-1/11: axes as an attribute."""
    return _squeeze(x, axes)


class _AxesInput(OpKernel):
    """Squeeze / Unsqueeze 13+: with constant (or absent) axes, the output shape is kept
    per input shape, so a run is one reshape."""

    def __init__(self, info):
        super().__init__(info)
        names = info.input_names
        self.absent = len(names) < 2 or names[1] == ""
        self.axes = None if self.absent else const_ints(info, 1, "axes")
        self.shapes = {}

    def __call__(self, x, axes=None):
        if self.absent or self.axes is not None:
            shape = self.shapes.get(x.shape)
            if shape is None:
                shape = remember(self.shapes, x.shape, self.shape_of(x, self.axes))
            return x.reshape(shape)
        return x.reshape(self.shape_of(x, None if axes is None else int_list(axes, "axes")))


@kernel("Squeeze", since=13)
class Squeeze13(_AxesInput):
    """Squeeze-13+: axes as an optional input."""

    @staticmethod
    def shape_of(x, axes):
        return _squeeze(x, axes).shape


@kernel("Unsqueeze", since=1, until=12)
def unsqueeze1(x, axes=None):
    """Unsqueeze-1/11: axes as an attribute."""
    if axes is None:
        raise InvalidArgument("attribute 'axes' is required")
    return _unsqueeze(x, list(axes))


@kernel("Unsqueeze", since=13)
class Unsqueeze13(_AxesInput):
    """Unsqueeze-13+: axes as an input."""

    @staticmethod
    def shape_of(x, axes):
        return _unsqueeze(x, axes or []).shape


@kernel("Identity", since=1)
def identity(x):
    """Identity: returns its input (tensor, sequence or optional) unchanged (a NumPy scalar
    becomes a 0-d array)."""
    if isinstance(x, np.generic):
        return np.asarray(x)
    return x
