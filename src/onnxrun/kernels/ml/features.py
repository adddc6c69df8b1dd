"""FeatureVectorizer and ArrayFeatureExtractor (ai.onnx.ml 1)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import ML


@kernel("FeatureVectorizer", since=1, domain=ML, fresh=True)
class FeatureVectorizer(OpKernel):
    """Concatenate inputs along columns as float; input i contributes inputdimensions[i]
    columns (zero-padded or truncated)."""

    def __init__(self, info):
        super().__init__(info)
        self.dims = [int(d) for d in info.attr("inputdimensions", [])]
        if any(d < 0 for d in self.dims):
            raise InvalidArgument("FeatureVectorizer: inputdimensions must be >= 0")

    def __call__(self, *inputs):
        if len(self.dims) != len(inputs):
            raise InvalidArgument(f"FeatureVectorizer: {len(inputs)} inputs but "
                                  f"inputdimensions has {len(self.dims)} entries")
        rows = None
        parts = []
        for x, d in zip(inputs, self.dims):
            x = np.asarray(x)
            if x.dtype.kind not in "fiu":
                raise InvalidArgument(f"FeatureVectorizer: inputs must be numeric, got {x.dtype}")
            x2 = x.reshape(1, -1) if x.ndim <= 1 else x.reshape(x.shape[0], -1)
            if rows is None:
                rows = x2.shape[0]
            elif x2.shape[0] != rows:
                raise InvalidArgument("FeatureVectorizer: inputs have different numbers of rows")
            part = np.zeros((x2.shape[0], d), dtype=np.float32)
            k = min(d, x2.shape[1])
            part[:, :k] = x2[:, :k]
            parts.append(part)
        if rows is None:
            return np.zeros((1, 0), dtype=np.float32)
        return np.concatenate(parts, axis=1) if parts else np.zeros((rows, 0), np.float32)


@kernel("ArrayFeatureExtractor", since=1, domain=ML, fresh=True)
def array_feature_extractor(X, Y):
    """Z[..., j] = X[..., Y[j]] (indices taken on the last axis)."""
    X = np.asarray(X)
    idx = np.asarray(Y)
    if idx.dtype != np.int64:
        raise InvalidArgument(f"ArrayFeatureExtractor: indices must be int64, got {idx.dtype}")
    idx = idx.ravel()
    D = X.shape[-1] if X.ndim else 1
    if idx.size == 0:
        raise InvalidArgument("ArrayFeatureExtractor: the index tensor is empty")
    if idx.min() < 0 or idx.max() >= D:
        bad = int(idx[(idx < 0) | (idx >= D)][0])
        raise InvalidArgument(f"ArrayFeatureExtractor: index {bad} is out of range; expected "
                              f"indices in [0, {D})")
    if X.ndim <= 1:
        return X.reshape(-1).take(idx).reshape(1, -1)
    return X.take(idx, axis=-1)
