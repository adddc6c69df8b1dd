"""ArgMax and ArgMin (int64 indices; ``select_last_index`` from opset 12)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel


class _Arg(OpKernel):
    """Index of the max/min along ``axis`` (first occurrence unless select_last_index)."""

    FN = staticmethod(np.argmax)

    def __init__(self, info):
        super().__init__(info)
        self.axis = int(info.attr("axis", 0))
        self.keepdims = bool(info.attr("keepdims", 1))
        self.last = bool(info.attr("select_last_index", 0))

    def __call__(self, data):
        r = data.ndim
        a = self.axis
        if r == 0:
            raise InvalidArgument(f"{type(self).__name__} needs an input of rank >= 1")
        if a < -r or a >= r:
            raise InvalidArgument(f"axis {a} is out of range; expected a value in [{-r}, {r - 1}]")
        a = a + r if a < 0 else a
        n = data.shape[a]
        if n == 0:
            if data.size == 0 and any(d == 0 for i, d in enumerate(data.shape) if i != a):
                shape = [1 if i == a else d for i, d in enumerate(data.shape)
                         if self.keepdims or i != a]
                return np.zeros(shape, dtype=np.int64)
            raise InvalidArgument(f"cannot take {type(self).__name__} over empty axis {a}")
        if data.dtype.kind == "f" and data.dtype.itemsize < 4:
            data = data.astype(np.float32)
        if self.last:
            idx = (n - 1) - self.FN(np.flip(data, axis=a), axis=a, keepdims=self.keepdims)
        else:
            idx = self.FN(data, axis=a, keepdims=self.keepdims)
        return np.asarray(idx, dtype=np.int64)


@kernel("ArgMax", since=1, fresh=True)
class ArgMax(_Arg):
    """ArgMax: index of the largest value along ``axis``."""

    FN = staticmethod(np.argmax)


@kernel("ArgMin", since=1, fresh=True)
class ArgMin(_Arg):
    """ArgMin: index of the smallest value along ``axis``."""

    FN = staticmethod(np.argmin)
