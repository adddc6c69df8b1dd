"""Softmax, LogSoftmax, Hardmax.

Opset < 13: the input is coerced to 2-D at ``axis`` (default 1) and the op runs on each row.
Opset >= 13: the op runs along ``axis`` (default -1)."""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import as_compute, back


def softmax_along(c: np.ndarray, axis: int) -> np.ndarray:
    """Softmax of a float32/float64 array along ``axis`` (new array)."""
    e = np.subtract(c, np.max(c, axis=axis, keepdims=True))
    np.exp(e, out=e)
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def log_softmax_along(c: np.ndarray, axis: int) -> np.ndarray:
    """LogSoftmax of a float32/float64 array along ``axis`` (new array)."""
    e = np.subtract(c, np.max(c, axis=axis, keepdims=True))
    s = np.log(np.sum(np.exp(e), axis=axis, keepdims=True))
    e -= s
    return e


def hardmax_along(c: np.ndarray, axis: int) -> np.ndarray:
    """1 at the first maximum along ``axis``, 0 elsewhere."""
    out = np.zeros(c.shape, dtype=c.dtype)
    idx = np.expand_dims(np.argmax(c, axis=axis), axis)
    np.put_along_axis(out, idx, c.dtype.type(1), axis=axis)
    return out


class _SoftmaxBase(OpKernel):
    """Shared axis handling; subclasses set ``fn`` and ``compute_in_float``."""

    fn = staticmethod(softmax_along)
    widen = True

    def __init__(self, info):
        super().__init__(info)
        self.legacy = info.since_version < 13
        self.axis = int(info.attr("axis", 1 if self.legacy else -1))

    def __call__(self, x):
        r = x.ndim
        axis = self.axis
        if not -max(r, 1) <= axis <= (r if self.legacy else r - 1) or (r == 0 and not self.legacy):
            raise InvalidArgument(f"axis {self.axis} is out of range for a tensor of rank {r}")
        if axis < 0:
            axis += r
        c = as_compute(x, self.info.op_type) if self.widen else x
        if x.size == 0:
            return np.empty(x.shape, dtype=x.dtype)
        if self.legacy:
            rows = math.prod(x.shape[:axis])
            y = type(self).fn(c.reshape(rows, -1), 1).reshape(x.shape)
        else:
            y = type(self).fn(c, axis)
        return back(y, x.dtype)


@kernel("Softmax", since=1, fresh=True)
class Softmax(_SoftmaxBase):
    """exp(x) / sum(exp(x)) along the axis (rows of the 2-D coercion before opset 13)."""

    fn = staticmethod(softmax_along)


@kernel("LogSoftmax", since=1, fresh=True)
class LogSoftmax(_SoftmaxBase):
    """x - log(sum(exp(x))) along the axis (rows of the 2-D coercion before opset 13)."""

    fn = staticmethod(log_softmax_along)


@kernel("Hardmax", since=1, fresh=True)
class Hardmax(_SoftmaxBase):
    """One-hot of the first maximum along the axis (rows of the 2-D coercion before opset 13)."""

    fn = staticmethod(hardmax_along)
