"""Add, Sub, Mul, Div (every opset; opset<7 with the legacy ``broadcast``/``axis`` attributes)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..registry import kernel
from ._common import register_legacy_binary


def add(a, b):
    """A + B with NumPy broadcasting."""
    return np.add(a, b)


def sub(a, b):
    """A - B with NumPy broadcasting."""
    return np.subtract(a, b)


def mul(a, b):
    """A * B with NumPy broadcasting."""
    return np.multiply(a, b)


def int_divide(a, b):
    """Integer division truncating toward zero (C semantics); division by zero is an error."""
    if np.any(b == 0):
        raise InvalidArgument("integer division by zero in Div: B must not contain 0")
    q = np.floor_divide(a, b)
    if a.dtype.kind == "i":
        # floor -> trunc: add one where the remainder is nonzero and the signs differ
        r = a - q * b
        fix = (r != 0) & ((a < 0) != (b < 0))
        if fix.any():
            q = q + fix.astype(q.dtype)
    return q


def div(a, b):
    """A / B with NumPy broadcasting; integers truncate toward zero."""
    if a.dtype.kind in "iu":
        return int_divide(a, b)
    return np.divide(a, b)


def _ufunc_kernel(name, ufunc):
    """A class kernel whose instances are the NumPy ufunc itself: opset >= 7 Add/Sub/Mul have
    no attributes, so the executor calls ``ufunc(a, b)`` directly (no wrapper frame per run)."""

    def __new__(cls, info):
        return ufunc

    return type(name, (), {"__new__": __new__, "__doc__": f"{name}: numpy.{ufunc.__name__}",
                           "__module__": __name__})


for _op, _fn in (("Add", add), ("Sub", sub), ("Mul", mul), ("Div", div)):
    register_legacy_binary(_op, _fn)
for _op, _uf in (("Add", np.add), ("Sub", np.subtract), ("Mul", np.multiply)):
    kernel(_op, since=7, fresh=True, float_out=_uf)(_ufunc_kernel(_op, _uf))
kernel("Div", since=7, fresh=True, float_out=np.divide)(div)
