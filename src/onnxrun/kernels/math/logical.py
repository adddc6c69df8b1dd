"""Logical ops on bool tensors: And, Or, Xor, Not."""

from __future__ import annotations

import numpy as np

from ..registry import kernel
from ._common import register_legacy_binary


def and_(a, b):
    """Elementwise logical and."""
    return np.logical_and(a, b)


def or_(a, b):
    """Elementwise logical or."""
    return np.logical_or(a, b)


def xor(a, b):
    """Elementwise logical xor."""
    return np.logical_xor(a, b)


for _op, _fn in (("And", and_), ("Or", or_), ("Xor", xor)):
    register_legacy_binary(_op, _fn)
    kernel(_op, since=7, fresh=True)(_fn)


@kernel("Not", since=1, fresh=True)
def not_(x):
    """Elementwise logical not."""
    return np.logical_not(x)
