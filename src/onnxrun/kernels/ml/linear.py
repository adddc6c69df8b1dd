"""LinearClassifier and LinearRegressor (ai.onnx.ml 1)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import (ML, apply_post_transform, as_2d_features, check_features, class_labels,
                      logistic, parse_post_transform, probit)


def _features(X, op):
    X = np.asarray(X)
    if X.dtype not in (np.float32, np.float64, np.int64, np.int32):
        raise InvalidArgument(f"{op}: input must be float, double, int64 or int32, got {X.dtype}")
    return as_2d_features(X).astype(np.float64)


@kernel("LinearRegressor", since=1, domain=ML, fresh=True)
class LinearRegressor(OpKernel):
    """Y = X . coefficients^T + intercepts for ``targets`` outputs, then post_transform."""

    def __init__(self, info):
        super().__init__(info)
        self.targets = int(info.attr("targets", 1))
        coef = np.asarray(info.attr("coefficients", []), dtype=np.float32).astype(np.float64)
        if self.targets < 1 or len(coef) % self.targets:
            raise InvalidArgument(f"LinearRegressor: {len(coef)} coefficients do not split into "
                                  f"{self.targets} targets")
        self.coef = coef.reshape(self.targets, -1)
        icp = info.attr("intercepts")
        if icp:
            icp = np.asarray(icp, dtype=np.float32).astype(np.float64)
            if len(icp) != self.targets:
                raise InvalidArgument(f"LinearRegressor: {len(icp)} intercepts for "
                                      f"{self.targets} targets")
            self.intercepts = icp
        else:
            self.intercepts = np.zeros(self.targets)
        self.post = parse_post_transform(info)

    def __call__(self, X):
        X = _features(X, "LinearRegressor")
        check_features(X, self.coef.shape[1], "LinearRegressor")
        s = X @ self.coef.T + self.intercepts
        if self.targets == 1:
            if self.post == "PROBIT":
                s = probit(s)
        else:
            s = apply_post_transform(s, self.post)
        return s.astype(np.float32)


@kernel("LinearClassifier", since=1, domain=ML, fresh=True)
class LinearClassifier(OpKernel):
    """Scores X . coefficients^T + intercepts per class; label of the best score.

    With a single score (two class labels required), the label is labels[1] when the score is
    positive and the scores output gets two columns ``[1 - s, s]`` (onnxruntime's convention;
    s is logistic(score) under LOGISTIC, other transforms are not applied). Under PROBIT
    onnxruntime writes the N probits packed at the start of the [N, 2] output; so does this
    kernel (the rest is 0)."""

    def __init__(self, info):
        super().__init__(info)
        coef = np.asarray(info.require_attr("coefficients"), dtype=np.float32).astype(np.float64)
        icp = info.attr("intercepts")
        self.intercepts = (np.asarray(icp, dtype=np.float32).astype(np.float64)
                           if icp else None)
        self.labels, self.strings = class_labels(info, "classlabels_ints", "classlabels_strings")
        n_scores = len(self.intercepts) if self.intercepts is not None else len(self.labels)
        if n_scores == 0 or len(coef) % n_scores:
            raise InvalidArgument(f"LinearClassifier: {len(coef)} coefficients do not split into "
                                  f"{n_scores} classes")
        if self.intercepts is None:
            self.intercepts = np.zeros(n_scores)
        self.coef = coef.reshape(n_scores, -1)
        self.n_scores = n_scores
        self.post = parse_post_transform(info)
        self.add_second = n_scores == 1 and len(self.labels) == 2
        if n_scores == 1 and len(self.labels) != 2:
            raise InvalidArgument(f"LinearClassifier: a single score (binary classification) "
                                  f"needs exactly 2 class labels, got {len(self.labels)}")
        if n_scores > 1 and len(self.labels) < n_scores:
            raise InvalidArgument(f"LinearClassifier: {n_scores} classes but "
                                  f"{len(self.labels)} class labels")

    def __call__(self, X):
        X = _features(X, "LinearClassifier")
        check_features(X, self.coef.shape[1], "LinearClassifier")
        s = X @ self.coef.T + self.intercepts
        if self.n_scores == 1:
            positive = s[:, 0] > 0
            label = self.labels.take(positive.astype(np.intp))
            if self.post == "PROBIT":
                # onnxruntime leaves the N probits packed at the start of the [N, 2] buffer
                z = np.zeros((s.shape[0], 2))
                z.reshape(-1)[: s.shape[0]] = probit(s[:, 0])
            elif self.add_second:
                v = s[:, 0]
                if self.post == "LOGISTIC":
                    v = logistic(v)
                    z = np.stack([1.0 - v, v], axis=1)
                else:
                    z = np.stack([1.0 - v, v], axis=1)
            else:
                z = s
        else:
            best = np.argmax(s, axis=1)
            label = self.labels.take(best)
            z = apply_post_transform(s, self.post)
        return label, z.astype(np.float32)
