"""Trigonometric and hyperbolic functions: Sin Cos Tan Asin Acos Atan Sinh Cosh Tanh Asinh
Acosh Atanh (float types; half and narrow floats computed in float32)."""

from __future__ import annotations

import numpy as np

from ..registry import kernel
from ._common import float_unary

_TABLE = (
    ("Sin", 7, np.sin), ("Cos", 7, np.cos), ("Tan", 7, np.tan),
    ("Asin", 7, np.arcsin), ("Acos", 7, np.arccos), ("Atan", 7, np.arctan),
    ("Sinh", 9, np.sinh), ("Cosh", 9, np.cosh), ("Tanh", 1, np.tanh),
    ("Asinh", 9, np.arcsinh), ("Acosh", 9, np.arccosh), ("Atanh", 9, np.arctanh),
)


def _make(op, ufunc):
    run = float_unary(ufunc)

    def fn(x):
        return run(x)

    fn.__name__ = fn.__qualname__ = op.lower()
    fn.__doc__ = f"Elementwise {op}."
    return fn


for _op, _since, _uf in _TABLE:
    kernel(_op, since=_since, fresh=True, float_out=_uf)(_make(_op, _uf))
