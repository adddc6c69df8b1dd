"""GlobalAveragePool, GlobalMaxPool and GlobalLpPool: reductions over all spatial axes
(keeping them as size-1 axes)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..registry import kernel
from ._common import compute_dtype


def _axes(X):
    if X.ndim < 2:
        raise InvalidArgument(f"X must have rank >= 2 (N, C, spatial...), got shape {X.shape}")
    return tuple(range(2, X.ndim))


@kernel("GlobalAveragePool", since=1, fresh=True)
def global_average_pool(X):
    """Mean over the spatial axes."""
    cdt = compute_dtype(X.dtype)
    axes = _axes(X)
    if not axes:
        return X.copy()
    return np.mean(X, axis=axes, keepdims=True, dtype=cdt).astype(X.dtype, copy=False)


@kernel("GlobalMaxPool", since=1, fresh=True)
def global_max_pool(X):
    """Max over the spatial axes."""
    axes = _axes(X)
    if not axes:
        return X.copy()
    return np.max(X, axis=axes, keepdims=True)


@kernel("GlobalLpPool", since=1, fresh=True)
def global_lp_pool(X, p=2):
    """(sum over the spatial axes of |x|^p)^(1/p); ``p`` is a float in opset 1."""
    axes = _axes(X)
    cdt = compute_dtype(X.dtype)
    x = np.abs(X.astype(cdt, copy=False))
    if p == 2:
        y = np.sqrt(np.sum(x * x, axis=axes, keepdims=True))
    else:
        y = np.sum(x ** cdt.type(p), axis=axes, keepdims=True) ** cdt.type(1.0 / p)
    return y.astype(X.dtype, copy=False)
