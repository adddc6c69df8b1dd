"""Helpers shared by the control-flow kernels (If, Loop, Scan)."""

from __future__ import annotations

from typing import List

import numpy as np

from ...errors import InvalidArgument
from ...framework import run_context
from ...ir.types import TensorType


def check_terminate() -> None:
    """Stop between iterations when the run's ``RunOptions.terminate`` flag is set."""
    run_context.current().check_terminate()


def arrays(values) -> tuple:
    """The kernel's outputs as a tuple, NumPy scalars (from kernels that returned one for a 0-d
    result) turned back into 0-d arrays."""
    return tuple(np.asarray(v) if isinstance(v, np.generic) else v for v in values)


def scalar_bool(value, what: str) -> bool:
    """The truth value of a one-element boolean tensor (``what`` names it in errors)."""
    if not isinstance(value, np.ndarray):
        value = np.asarray(value)
    if value.size != 1:
        raise InvalidArgument(f"{what} must hold exactly one element, got shape {value.shape}")
    return bool(value.reshape(-1)[0])


def scalar_int(value, what: str) -> int:
    """The value of a one-element integer tensor as a Python int."""
    if not isinstance(value, np.ndarray):
        value = np.asarray(value)
    if value.size != 1:
        raise InvalidArgument(f"{what} must hold exactly one element, got shape {value.shape}")
    if value.dtype.kind not in "iub":
        raise InvalidArgument(f"{what} must be an integer tensor, got {value.dtype}")
    return int(value.reshape(-1)[0])


def static_element(graph_value, what: str):
    """(dtype, static shape or None) of a subgraph output, used to shape empty scan outputs."""
    t = getattr(graph_value, "type", None)
    if not isinstance(t, TensorType):
        return np.dtype(np.float32), None
    try:
        dtype = t.dtype
    except ValueError:
        dtype = np.dtype(np.float32)
    shape = None
    if t.shape is not None and all(isinstance(d, int) for d in t.shape):
        shape = tuple(t.shape)
    return dtype, shape


def stack(items: List[np.ndarray], axis: int, what: str) -> np.ndarray:
    """Stack per-iteration values along a new ``axis``; every item must have the same shape
    and dtype."""
    if any(isinstance(it, np.generic) for it in items):  # a kernel returned a NumPy scalar
        items = [np.asarray(it) if isinstance(it, np.generic) else it for it in items]
    first = items[0]
    if not isinstance(first, np.ndarray):
        raise InvalidArgument(f"{what} must be a tensor, got {type(first).__name__}")
    shape, dtype = first.shape, first.dtype
    for k, it in enumerate(items):
        if not isinstance(it, np.ndarray) or it.shape != shape or it.dtype != dtype:
            got = (it.shape, it.dtype) if isinstance(it, np.ndarray) else type(it).__name__
            raise InvalidArgument(
                f"{what}: iteration {k} produced {got}, expected shape {shape} and dtype "
                f"{dtype} like iteration 0 (per-iteration outputs must all have the same shape)")
    return np.stack(items, axis=axis)


def empty_output(graph_value, axis: int, what: str) -> np.ndarray:
    """The value of a scan output after zero iterations: a tensor with a 0-sized scan axis."""
    dtype, shape = static_element(graph_value, what)
    if shape is None:
        return np.zeros((0,), dtype=dtype)
    shape = list(shape)
    shape.insert(axis if axis >= 0 else axis + len(shape) + 1, 0)
    return np.zeros(shape, dtype=dtype)


def normalize_axis(axis: int, rank: int, what: str) -> int:
    """``axis`` in [-rank, rank-1] turned non-negative."""
    if not -rank <= axis < rank:
        raise InvalidArgument(f"{what} {axis} is out of range for rank {rank} "
                              f"(expected [-{rank}, {rank - 1}])")
    return axis + rank if axis < 0 else axis

