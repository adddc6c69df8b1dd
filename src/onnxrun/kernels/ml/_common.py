"""Shared helpers of the ai.onnx.ml kernels: post transforms, attribute parsing, class labels."""

from __future__ import annotations

from typing import Optional

import numpy as np

from ...errors import InvalidArgument

ML = "ai.onnx.ml"

#: post_transform names in the order TreeEnsemble (ai.onnx.ml 5) numbers them.
POST_TRANSFORMS = ("NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO", "PROBIT")


def parse_post_transform(info, value=None) -> str:
    """The post_transform attribute as one of :data:`POST_TRANSFORMS` (string or enum value)."""
    if value is None:
        value = info.attr("post_transform", "NONE")
    if isinstance(value, (int, np.integer)):
        if not 0 <= int(value) < len(POST_TRANSFORMS):
            raise InvalidArgument(f"post_transform {value} is not one of 0..4")
        return POST_TRANSFORMS[int(value)]
    value = str(value)
    if value not in POST_TRANSFORMS:
        raise InvalidArgument(f"post_transform '{value}' is not one of {', '.join(POST_TRANSFORMS)}")
    return value


def floats_attr(info, name: str, tensor_name: Optional[str] = None) -> Optional[np.ndarray]:
    """A FLOATS attribute as float32 array, or its ``*_as_tensor`` twin (any float dtype).

    Returns None when neither is set."""
    if tensor_name is not None and info.attr(tensor_name) is not None:
        t = np.asarray(info.attr(tensor_name))
        if info.attr(name) is not None and len(info.attr(name)) > 0:
            raise InvalidArgument(f"only one of '{name}' and '{tensor_name}' may be set")
        return t.ravel()
    v = info.attr(name)
    if v is None:
        return None
    return np.asarray(v, dtype=np.float32).ravel()


def ints_attr(info, name: str) -> Optional[np.ndarray]:
    """An INTS attribute as int64 array, or None."""
    v = info.attr(name)
    if v is None:
        return None
    return np.asarray(v, dtype=np.int64).ravel()


def class_labels(info, ints_name: str = "classlabels_ints",
                 strings_name: str = "classlabels_strings"):
    """(labels array (int64 or object), using_strings) from the classlabels attributes."""
    strs = info.attr(strings_name)
    ints = info.attr(ints_name)
    if strs:
        if ints:
            raise InvalidArgument(f"only one of '{strings_name}' and '{ints_name}' may be set")
        return np.array(list(strs), dtype=object), True
    return np.asarray(ints if ints else [], dtype=np.int64), False


def as_2d_features(X: np.ndarray, what: str = "X") -> np.ndarray:
    """[N, F] view of an input: 1-D is one row, more than 2-D is flattened per row."""
    X = np.asarray(X)
    if X.dtype == object or X.dtype.kind not in "fiu":
        raise InvalidArgument(f"{what} must be a numeric tensor, got {X.dtype}")
    if X.ndim == 0:
        return X.reshape(1, 1)
    if X.ndim == 1:
        return X.reshape(1, -1)
    if X.ndim > 2:
        return X.reshape(X.shape[0], -1)
    return X


def check_features(X: np.ndarray, expected: int, op: str) -> None:
    """Raise InvalidArgument unless X has ``expected`` columns."""
    if X.shape[1] != expected:
        raise InvalidArgument(
            f"{op}: input has {X.shape[1]} features per row, the model expects {expected}")


# ---------------------------------------------------------------- post transforms (float64)

def logistic(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), computed without overflow."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(s: np.ndarray) -> np.ndarray:
    """Row-wise softmax of a 2-D array."""
    m = np.max(s, axis=1, keepdims=True)
    e = np.exp(s - m)
    return e / e.sum(axis=1, keepdims=True)


def softmax_zero(s: np.ndarray) -> np.ndarray:
    """Row-wise softmax in which zero scores (|s| <= 1e-7) stay zero."""
    m = np.max(s, axis=1, keepdims=True)
    nz = np.abs(s) > 1e-7
    e = np.where(nz, np.exp(s - m), s * np.exp(-m))
    total = np.where(nz, e, 0.0).sum(axis=1, keepdims=True)
    return e / total


def probit(x: np.ndarray) -> np.ndarray:
    """sqrt(2) * erfinv(2x - 1), with erfinv by Winitzki's closed form (a = 0.147, pi as float32) evaluated in
    float32 step by step, as onnxruntime does (the formula cancels badly, so the precision of
    each step shows in the result)."""
    f = np.float32
    x = np.asarray(x).astype(np.float32) * f(2) - f(1)
    sgn = np.where(x < 0, f(-1), f(1)).astype(np.float32)
    w = (f(1) - x) * (f(1) + x)
    ln = np.log(w)
    v = f(2) / (f(np.pi) * f(0.147)) + f(0.5) * ln
    v2 = (f(1) / f(0.147)) * ln
    v3 = -v + np.sqrt(v * v - v2)
    return (f(np.sqrt(2.0)) * (sgn * np.sqrt(v3))).astype(np.float64)


def apply_post_transform(scores: np.ndarray, post: str) -> np.ndarray:
    """Apply a multi-column post transform to a 2-D float64 score array (new array)."""
    if post == "NONE":
        return scores
    if post == "SOFTMAX":
        return softmax(scores)
    if post == "LOGISTIC":
        return logistic(scores)
    if post == "SOFTMAX_ZERO":
        return softmax_zero(scores)
    if post == "PROBIT":
        return probit(scores)
    raise InvalidArgument(f"unknown post_transform '{post}'")
