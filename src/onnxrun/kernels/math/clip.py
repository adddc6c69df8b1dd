"""Clip: bounds as attributes (opset 1-6) or as optional scalar inputs (opset 11+)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import F32, is_narrow_float


def _clip(x, lo, hi):
    if is_narrow_float(x.dtype):  # NumPy's clip promotes ml_dtypes floats: go through float32
        f = (lambda v: None if v is None else v.astype(F32))
        return _clip(x.astype(F32), f(lo), f(hi)).astype(x.dtype)
    if lo is not None and hi is not None:
        return np.clip(x, lo, hi)
    if lo is not None:
        return np.maximum(x, lo)
    if hi is not None:
        return np.minimum(x, hi)
    return np.array(x, copy=True)


def _bound(v, x, which):
    if v is None:
        return None
    if v.size != 1:
        raise InvalidArgument(f"Clip '{which}' must be a scalar (one element), got shape {v.shape}")
    return v.reshape(()).astype(x.dtype, copy=False)


@kernel("Clip", since=11, fresh=True)
def clip(x, min=None, max=None):  # noqa: A002 - ONNX input names
    """Clamp x to [min, max]; missing bounds are unbounded (min > max gives max)."""
    return _clip(x, _bound(min, x, "min"), _bound(max, x, "max"))


@kernel("Clip", since=1, until=10, fresh=True)
class ClipAttr(OpKernel):
    """Clip (opset 1-6) with ``min``/``max`` attributes."""

    def __init__(self, info):
        super().__init__(info)
        self.lo = info.attr("min", None)
        self.hi = info.attr("max", None)

    def __call__(self, x):
        lo = None if self.lo is None else np.array(self.lo).astype(x.dtype)
        hi = None if self.hi is None else np.array(self.hi).astype(x.dtype)
        return _clip(x, lo, hi)
