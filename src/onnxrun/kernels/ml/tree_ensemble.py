"""TreeEnsembleRegressor, TreeEnsembleClassifier (ai.onnx.ml 1, 3, 5) and TreeEnsemble
(ai.onnx.ml 5), evaluated over all rows at once (see ``_tree``)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import (ML, apply_post_transform, as_2d_features, class_labels, floats_attr,
                      logistic, parse_post_transform, probit)
from ._tree import build_legacy, build_v5

_AGGREGATES = ("AVERAGE", "SUM", "MIN", "MAX")


def _aggregate_name(value) -> str:
    if isinstance(value, (int, np.integer)):
        if not 0 <= int(value) < 4:
            raise InvalidArgument(f"aggregate_function {value} is not one of 0..3")
        return _AGGREGATES[int(value)]
    value = str(value)
    if value not in _AGGREGATES:
        raise InvalidArgument(f"aggregate_function '{value}' is not one of {_AGGREGATES}")
    return value


def _input_rows(X) -> np.ndarray:
    X = np.asarray(X)
    if X.dtype.kind not in "fiu":
        raise InvalidArgument(f"tree ensemble input must be numeric, got {X.dtype}")
    X = as_2d_features(X)
    if X.dtype.kind in "iu":
        X = X.astype(np.float32)
    elif X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float32)
    return X


def _single_score_transform(s: np.ndarray, post: str) -> np.ndarray:
    """Post transform of a one-column score: only PROBIT changes it (as onnxruntime does)."""
    if post == "PROBIT":
        return probit(s)
    return s


@kernel("TreeEnsembleRegressor", since=1, domain=ML, fresh=True)
class TreeEnsembleRegressor(OpKernel):
    """Sum/average/min/max of leaf weights over trees, plus base_values, then post_transform."""

    def __init__(self, info):
        super().__init__(info)
        self.post = parse_post_transform(info)
        self.agg = _aggregate_name(info.attr("aggregate_function", "SUM"))
        values = floats_attr(info, "nodes_values", "nodes_values_as_tensor")
        weights = floats_attr(info, "target_weights", "target_weights_as_tensor")
        ids = info.attr("target_ids")
        n_targets = info.attr("n_targets")
        if n_targets is None:
            # the attribute may be a list or an array (a list's max is the faster)
            n_targets = int(max(ids) if isinstance(ids, list) else np.max(ids)) + 1 \
                if ids is not None and len(ids) else 1
        self.n_targets = int(n_targets)
        base = floats_attr(info, "base_values", "base_values_as_tensor")
        self.base = None if base is None or len(base) == 0 else base
        if self.base is not None and len(self.base) not in (self.n_targets,):
            if not (self.n_targets == 1 and len(self.base) >= 1):
                raise InvalidArgument(
                    f"base_values has {len(self.base)} values for {self.n_targets} targets")
        self.forest = build_legacy(info, "target", self.n_targets, values, weights,
                                   minmax=self.agg in ("MIN", "MAX"))

    def __call__(self, X):
        X = _input_rows(X)
        s, has = self.forest.aggregate(X, self.agg)
        if self.base is not None:
            s = s + (self.base[:1] if self.n_targets == 1 else self.base).astype(s.dtype)
        if self.n_targets == 1:
            s = _single_score_transform(s, self.post)
        else:
            # a target no tree voted for is 0 (base value not added), as in onnxruntime
            s = apply_post_transform(np.where(has, s, 0.0), self.post)
        return s.astype(np.float32)


@kernel("TreeEnsemble", since=5, domain=ML, fresh=True)
class TreeEnsemble(OpKernel):
    """Regression over trees with separate leaf tables; output has the input's dtype."""

    def __init__(self, info):
        super().__init__(info)
        # onnxruntime reads the integer with its own enum order (NONE, LOGISTIC, SOFTMAX,
        # SOFTMAX_ZERO, PROBIT), i.e. 1 and 2 swapped against the operator's documentation;
        # models are validated against onnxruntime, so that order is followed here.
        pt = int(info.attr("post_transform", 0))
        if not 0 <= pt <= 4:
            raise InvalidArgument(f"post_transform {pt} is not one of 0..4")
        self.post = ("NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT")[pt]
        self.agg = _aggregate_name(info.attr("aggregate_function", 1))
        self.forest = build_v5(info, minmax=self.agg in ("MIN", "MAX"))
        self.n_targets = self.forest.n_targets

    def __call__(self, X):
        X = np.asarray(X)
        if X.dtype not in (np.float32, np.float64, np.float16):
            raise InvalidArgument(f"TreeEnsemble input must be float, double or float16, "
                                  f"got {X.dtype}")
        out_dtype = X.dtype
        X2 = as_2d_features(X)
        if X2.dtype == np.float16:
            X2 = X2.astype(np.float32)
        s, has = self.forest.aggregate(X2, self.agg)
        if self.n_targets == 1:
            s = _single_score_transform(s, self.post)
        else:
            s = apply_post_transform(np.where(has, s, 0.0), self.post)
        return s.astype(out_dtype)


@kernel("TreeEnsembleClassifier", since=1, domain=ML, fresh=True)
class TreeEnsembleClassifier(OpKernel):
    """Class votes summed over trees; top class label and (post-transformed) class scores."""

    def __init__(self, info):
        super().__init__(info)
        self.post = parse_post_transform(info)
        values = floats_attr(info, "nodes_values", "nodes_values_as_tensor")
        weights = floats_attr(info, "class_weights", "class_weights_as_tensor")
        self.labels, self.strings = class_labels(info, "classlabels_int64s", "classlabels_strings")
        n = len(self.labels)
        if n == 0:
            raise InvalidArgument("one of classlabels_int64s or classlabels_strings is required")
        self.n_classes = n
        base = floats_attr(info, "base_values", "base_values_as_tensor")
        self.base = None if base is None or len(base) == 0 else base
        if self.base is not None and len(self.base) != n and not (n == 2 and len(base) == 1):
            raise InvalidArgument(f"base_values has {len(self.base)} values for {n} classes")
        ids = np.asarray(info.attr("class_ids", []), dtype=np.int64)
        self.forest = build_legacy(info, "class", n, values, weights)
        self.binary_case = n == 2 and len(np.unique(ids)) == 1
        w = np.zeros(0) if weights is None else np.asarray(weights)
        self.all_positive = bool((w >= 0).all())

    def __call__(self, X):
        X = _input_rows(X)
        s, has = self.forest.aggregate(X, "SUM")
        if self.n_classes > 2:
            return self._multiclass(s, has)
        return self._binary(s, has)

    def _label_out(self, index):
        return self.labels.take(index)

    def _multiclass(self, s, has):
        if self.base is not None:
            s = s + self.base.astype(s.dtype)
            has = np.ones_like(has)
        masked = np.where(has, s, -np.inf)
        best = np.argmax(masked, axis=1)
        z = apply_post_transform(np.where(has, s, 0.0), self.post)
        return self._label_out(best), z.astype(np.float32)

    def _binary(self, s, has):
        """Two classes, following onnxruntime's conventions.

        With base_values, a row with a class-1 score gets ``s1 = b1 + s0, s0 = -s1``, other rows
        add both base values. Without base_values, a row without any class-1 score keeps a single
        score, expanded to two columns: ``[1 - s, s]`` when only one class id carries all-positive
        weights, ``[-s, s]`` otherwise, ``[logistic(-s), logistic(s)]`` under LOGISTIC and
        ``[probit(s), 0]`` under PROBIT. Scores of classes no leaf voted for count as 0.
        The label compares the positive score with 0.5 (one class id, positive weights) or 0;
        with both class ids present the label is the class index (0 or 1) itself for integer
        labels, as onnxruntime returns it."""
        N = s.shape[0]
        s0, s1 = s[:, 0].copy(), s[:, 1].copy()
        h0, h1 = has[:, 0], has[:, 1]
        base = None if self.base is None else self.base.astype(s.dtype)
        if base is not None and len(base) == 2:
            t1 = base[1] + s0
            s0 = np.where(h1, -t1, s0 + base[0])
            s1 = np.where(h1, t1, s1 + base[1])
            two = np.ones(N, dtype=bool)
        elif base is not None:
            s0 = s0 + base[0]
            two = h1.copy()
        else:
            two = h1.copy()
        pos = np.where(h1, s1, np.where(h0, s0, 0.0))
        s0 = np.where(h0, s0, 0.0)
        s1 = np.where(h1, s1, 0.0)
        if self.binary_case:
            positive = pos > (0.5 if self.all_positive else 0.0)
            label = self.labels.take(positive.astype(np.intp))
        elif self.strings:
            label = self.labels.take((pos > 0).astype(np.intp))
        else:
            label = (pos > 0).astype(np.int64)
        z = np.empty((N, 2), dtype=np.float64)
        post = self.post
        if two.any():
            z[two] = self._transform2(np.stack([s0[two], s1[two]], axis=1))
        one = ~two
        if one.any():
            v = s0[one]
            if post == "PROBIT":
                z[one, 0] = probit(v)
                z[one, 1] = 0.0
            elif post == "LOGISTIC":
                z[one, 0] = logistic(-v)
                z[one, 1] = logistic(v)
            elif self.binary_case and self.all_positive:
                z[one, 0] = 1.0 - v
                z[one, 1] = v
            else:
                z[one, 0] = -v
                z[one, 1] = v
        return label, z.astype(np.float32)

    def _transform2(self, s):
        return apply_post_transform(s, self.post)
