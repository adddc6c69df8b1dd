"""Shape and Size."""

from __future__ import annotations

import numpy as np

from ..base import OpKernel
from ..registry import kernel


@kernel("Shape", since=1, fresh=True)
class Shape(OpKernel):
    """The input's shape as int64, optionally sliced by ``start``/``end`` (opset 15+),
    clamped to [0, rank]."""

    def __init__(self, info):
        super().__init__(info)
        self.start = int(info.attr("start", 0))
        end = info.attr("end")
        self.end = None if end is None else int(end)

    def __call__(self, x):
        shape = np.shape(x)
        r = len(shape)
        s = self.start + r if self.start < 0 else self.start
        e = r if self.end is None else (self.end + r if self.end < 0 else self.end)
        s = min(max(s, 0), r)
        e = min(max(e, 0), r)
        return np.array(shape[s:e], dtype=np.int64)


@kernel("Size", since=1, fresh=True)
def size(x):
    """Number of elements, as an int64 scalar."""
    return np.array(np.size(x), dtype=np.int64)
