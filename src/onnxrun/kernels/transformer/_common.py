"""Helpers shared by the transformer-era kernels: compute dtypes and a masked softmax."""

from __future__ import annotations

import numpy as np

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)


def compute_dtype(dt: np.dtype) -> np.dtype:
    """float64 computes in float64; float32 and every narrower float type in float32."""
    return F64 if np.dtype(dt) == F64 else F32


def as_compute(x: np.ndarray, cd: np.dtype) -> np.ndarray:
    """``x`` converted to the compute dtype (no copy when it already is)."""
    return x if x.dtype == cd else x.astype(cd)


def safe_softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis; rows with no finite-or-+inf entry (all ``-inf``) give 0
    instead of NaN."""
    m = np.max(x, axis=-1, keepdims=True)
    dead = ~(m > -np.inf)  # all -inf (or NaN) rows
    m = np.where(dead, 0, m).astype(x.dtype, copy=False)
    e = np.exp(x - m)
    s = np.sum(e, axis=-1, keepdims=True)
    with np.errstate(all="ignore"):
        p = e / s
    if np.any(dead):
        p = np.where(dead, 0, p).astype(x.dtype, copy=False)
    return p
