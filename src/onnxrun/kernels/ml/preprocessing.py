"""Scaler, Normalizer, Binarizer and Imputer (ai.onnx.ml 1)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import ML

_NUMERIC = (np.float32, np.float64, np.int64, np.int32)


def _check_numeric(X, op: str) -> np.ndarray:
    X = np.asarray(X)
    if X.dtype not in _NUMERIC:
        raise InvalidArgument(f"{op}: input must be float, double, int64 or int32, got {X.dtype}")
    return X


def _per_feature(values: np.ndarray, X: np.ndarray, name: str, op: str) -> np.ndarray:
    """A length-1 or length-C attribute broadcast over the last axis of X."""
    C = X.shape[-1] if X.ndim else 1
    if len(values) == 1:
        return values.reshape(())
    if len(values) != C:
        raise InvalidArgument(f"{op}: '{name}' has {len(values)} values, expected 1 or {C} "
                              f"(the input's last dimension)")
    return values


@kernel("Scaler", since=1, domain=ML, fresh=True)
class Scaler(OpKernel):
    """Y = (X - offset) * scale, per feature, as float."""

    def __init__(self, info):
        super().__init__(info)
        self.offset = np.asarray(info.attr("offset", []), dtype=np.float32)
        self.scale = np.asarray(info.attr("scale", []), dtype=np.float32)
        if len(self.offset) == 0 and len(self.scale) == 0:
            raise InvalidArgument("Scaler needs 'offset' and 'scale'")
        if len(self.offset) == 0:
            self.offset = np.zeros(1, dtype=np.float32)
        if len(self.scale) == 0:
            self.scale = np.ones(1, dtype=np.float32)

    def __call__(self, X):
        X = _check_numeric(X, "Scaler")
        off = _per_feature(self.offset, X, "offset", "Scaler")
        sc = _per_feature(self.scale, X, "scale", "Scaler")
        if X.dtype == np.float64:
            return ((X - off.astype(np.float64)) * sc.astype(np.float64)).astype(np.float32)
        return (X.astype(np.float32) - off) * sc


@kernel("Normalizer", since=1, domain=ML, fresh=True)
class Normalizer(OpKernel):
    """Row-wise MAX, L1 or L2 normalization; rows with a zero divisor are left as they are."""

    def __init__(self, info):
        super().__init__(info)
        self.norm = str(info.attr("norm", "MAX"))
        if self.norm not in ("MAX", "L1", "L2"):
            raise InvalidArgument(f"Normalizer: norm '{self.norm}' is not one of MAX, L1, L2")

    def __call__(self, X):
        X = _check_numeric(X, "Normalizer")
        if X.ndim > 2:
            raise InvalidArgument(f"Normalizer: input must be 1-D or 2-D, got shape {X.shape}")
        x = X.astype(np.float64) if X.dtype != np.float32 else X
        x2 = x.reshape(1, -1) if x.ndim == 1 else x
        if self.norm == "MAX":
            d = x2.max(axis=1, keepdims=True) if x2.shape[1] else np.zeros((x2.shape[0], 1))
        elif self.norm == "L1":
            d = np.abs(x2).sum(axis=1, keepdims=True)
        else:
            d = np.sqrt((x2 * x2).sum(axis=1, keepdims=True))
        d = d.astype(x2.dtype)
        y = np.where(d == 0, x2, x2 / np.where(d == 0, 1, d))
        return y.reshape(X.shape).astype(np.float32)


@kernel("Binarizer", since=1, domain=ML, fresh=True)
class Binarizer(OpKernel):
    """1 where X > threshold, else 0, in X's dtype."""

    def __init__(self, info):
        super().__init__(info)
        self.threshold = float(info.attr("threshold", 0.0))

    def __call__(self, X):
        X = _check_numeric(X, "Binarizer")
        thr = np.float32(self.threshold) if X.dtype == np.float32 else self.threshold
        if X.dtype.kind == "f" and np.isnan(X).any():
            bad = int(np.flatnonzero(np.isnan(X.ravel()))[0])
            raise InvalidArgument(f"Binarizer: input element {bad} is NaN; expected numbers")
        return (X > thr).astype(X.dtype)


@kernel("Imputer", since=1, domain=ML, fresh=True)
class Imputer(OpKernel):
    """Replace entries equal to the replaced value (NaN matches NaN) with imputed values."""

    def __init__(self, info):
        super().__init__(info)
        self.imp_f = info.attr("imputed_value_floats")
        self.imp_i = info.attr("imputed_value_int64s")
        self.rep_f = float(info.attr("replaced_value_float", 0.0))
        self.rep_i = int(info.attr("replaced_value_int64", 0))
        if not self.imp_f and not self.imp_i:
            raise InvalidArgument("Imputer needs imputed_value_floats or imputed_value_int64s")
        if self.imp_f and self.imp_i:
            raise InvalidArgument("Imputer: only one of imputed_value_floats and "
                                  "imputed_value_int64s may be set")

    def __call__(self, X):
        X = _check_numeric(X, "Imputer")
        if X.dtype.kind == "f":
            if not self.imp_f:
                raise InvalidArgument("Imputer: float input needs imputed_value_floats")
            vals = np.asarray(self.imp_f, dtype=np.float32).astype(X.dtype)
            rep = X.dtype.type(np.float32(self.rep_f))
            mask = np.isnan(X) if np.isnan(rep) else (X == rep)
        else:
            if not self.imp_i:
                raise InvalidArgument("Imputer: integer input needs imputed_value_int64s")
            vals = np.asarray(self.imp_i, dtype=np.int64).astype(X.dtype)
            mask = X == self.rep_i
        vals = _per_feature(vals, X, "imputed_value", "Imputer")
        return np.where(mask, vals, X).astype(X.dtype)
