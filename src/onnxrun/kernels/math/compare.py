"""Comparisons: Equal, Greater, GreaterOrEqual, Less, LessOrEqual (bool output)."""

from __future__ import annotations

import numpy as np

from ..registry import kernel
from ._common import F32, is_narrow_float, is_narrow_int, register_legacy_binary


def _operands(a, b):
    if a.dtype != b.dtype or not (is_narrow_float(a.dtype) or is_narrow_int(a.dtype)):
        return a, b
    cd = F32 if is_narrow_float(a.dtype) else np.dtype(np.int8)
    return a.astype(cd), b.astype(cd)


def _make(name, ufunc):
    def fn(a, b):
        a, b = _operands(a, b)
        return ufunc(a, b)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name} with NumPy broadcasting; bool result."
    return fn


equal = _make("equal", np.equal)
greater = _make("greater", np.greater)
greater_equal = _make("greater_equal", np.greater_equal)
less = _make("less", np.less)
less_equal = _make("less_equal", np.less_equal)

for _op, _fn in (("Equal", equal), ("Greater", greater), ("Less", less)):
    register_legacy_binary(_op, _fn)
    kernel(_op, since=7, fresh=True)(_fn)
kernel("GreaterOrEqual", since=12, fresh=True)(greater_equal)
kernel("LessOrEqual", since=12, fresh=True)(less_equal)
