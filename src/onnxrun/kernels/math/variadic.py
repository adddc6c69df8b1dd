"""Variadic elementwise ops with broadcasting: Max, Min, Sum, Mean."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..registry import kernel


def _fold(ufunc, name, inputs):
    if not inputs:
        raise InvalidArgument(f"{name} needs at least one input")
    if len(inputs) == 1:
        return np.array(inputs[0], copy=True)
    acc = ufunc(inputs[0], inputs[1])
    for t in inputs[2:]:
        if np.broadcast_shapes(acc.shape, t.shape) == acc.shape and acc.dtype == t.dtype:
            ufunc(acc, t, out=acc)
        else:
            acc = ufunc(acc, t)
    return acc


@kernel("Max", since=1, fresh=True)
def max_(*inputs):
    """Elementwise maximum of all inputs (NaN propagates)."""
    return _fold(np.maximum, "Max", inputs)


@kernel("Min", since=1, fresh=True)
def min_(*inputs):
    """Elementwise minimum of all inputs (NaN propagates)."""
    return _fold(np.minimum, "Min", inputs)


@kernel("Sum", since=1, fresh=True)
def sum_(*inputs):
    """Elementwise sum of all inputs."""
    return _fold(np.add, "Sum", inputs)


@kernel("Mean", since=1, fresh=True)
def mean(*inputs):
    """Elementwise mean of all inputs."""
    acc = _fold(np.add, "Mean", inputs)
    if len(inputs) > 1:
        n = np.array(len(inputs), dtype=acc.dtype)
        acc = np.divide(acc, n, out=acc) if acc.dtype.kind == "f" else (acc / n).astype(acc.dtype)
    return acc
