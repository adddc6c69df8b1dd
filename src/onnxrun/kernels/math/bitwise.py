"""Bitwise ops on integer tensors: BitwiseAnd/Or/Xor/Not and BitShift."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel


@kernel("BitwiseAnd", since=18, fresh=True)
def bitwise_and(a, b):
    """Elementwise a & b."""
    return np.bitwise_and(a, b)


@kernel("BitwiseOr", since=18, fresh=True)
def bitwise_or(a, b):
    """Elementwise a | b."""
    return np.bitwise_or(a, b)


@kernel("BitwiseXor", since=18, fresh=True)
def bitwise_xor(a, b):
    """Elementwise a ^ b."""
    return np.bitwise_xor(a, b)


@kernel("BitwiseNot", since=18, fresh=True)
def bitwise_not(x):
    """Elementwise ~x."""
    return np.invert(x)


@kernel("BitShift", since=11, fresh=True)
class BitShift(OpKernel):
    """X shifted LEFT or RIGHT by Y bits; shifts >= the bit width (or negative) give 0 (-1 for an
    arithmetic right shift of a negative value)."""

    def __init__(self, info):
        super().__init__(info)
        d = str(info.require_attr("direction")).upper()
        if d not in ("LEFT", "RIGHT"):
            raise InvalidArgument(f"direction must be 'LEFT' or 'RIGHT', got {d!r}")
        self.left = d == "LEFT"

    def __call__(self, x, y):
        if x.dtype.kind not in "iu":
            raise InvalidArgument(f"BitShift expects integer tensors, got {x.dtype}")
        bits = x.dtype.itemsize * 8
        y = y.astype(x.dtype, copy=False)
        out_of_range = (y >= bits) | (y < 0) if y.dtype.kind == "i" else (y >= bits)
        ys = np.where(out_of_range, 0, y).astype(x.dtype, copy=False)
        if self.left:
            r = np.left_shift(x, ys)
            fill = np.zeros((), x.dtype)
        else:
            r = np.right_shift(x, ys)
            fill = np.where(x < 0, -1, 0).astype(x.dtype) if x.dtype.kind == "i" \
                else np.zeros((), x.dtype)
        if np.any(out_of_range):
            r = np.where(out_of_range, fill, r).astype(x.dtype, copy=False)
        return r
