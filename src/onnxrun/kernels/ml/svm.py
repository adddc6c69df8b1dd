"""SVMClassifier and SVMRegressor (ai.onnx.ml 1), batched over rows.

Kernels (kernel_params = [gamma, coef0, degree]): LINEAR x.v, POLY (gamma x.v + coef0)^degree,
RBF exp(-gamma |x - v|^2), SIGMOID tanh(gamma x.v + coef0). Inputs are converted to float32
as onnxruntime does; sums are carried out in float64.
"""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import (ML, apply_post_transform, as_2d_features, check_features, class_labels,
                      logistic, parse_post_transform, probit)

_KERNELS = ("LINEAR", "POLY", "RBF", "SIGMOID")


class _SVMBase(OpKernel):
    def __init__(self, info):
        super().__init__(info)
        self.kernel_type = str(info.attr("kernel_type", "LINEAR"))
        if self.kernel_type not in _KERNELS:
            raise InvalidArgument(f"kernel_type '{self.kernel_type}' is not one of {_KERNELS}")
        params = info.attr("kernel_params") or []
        if params and len(params) < 3:
            raise InvalidArgument("kernel_params must hold [gamma, coef0, degree]")
        p = [float(np.float32(v)) for v in params] if params else [0.0, 0.0, 0.0]
        self.gamma, self.coef0, self.degree = p[0], p[1], p[2]
        self.post = parse_post_transform(info)

    @staticmethod
    def _floats(info, name, required=False):
        v = info.attr(name)
        if v is None or len(v) == 0:
            if required:
                raise InvalidArgument(f"required attribute '{name}' is missing or empty")
            return np.zeros(0)
        return np.asarray(v, dtype=np.float32).astype(np.float64)

    def _input(self, X, op):
        X = np.asarray(X)
        if X.dtype not in (np.float32, np.float64, np.int64, np.int32):
            raise InvalidArgument(f"{op}: input must be float, double, int64 or int32, "
                                  f"got {X.dtype}")
        return as_2d_features(X).astype(np.float32).astype(np.float64)

    def _kernel(self, X, V, kind=None):
        """[N, S] kernel values between the rows of X and the rows of V."""
        kind = kind or self.kernel_type
        if kind == "RBF":
            d = (X * X).sum(1)[:, None] - 2.0 * (X @ V.T) + (V * V).sum(1)[None, :]
            return np.exp(-self.gamma * np.maximum(d, 0.0))
        dot = X @ V.T
        if kind == "LINEAR":
            return dot
        z = self.gamma * dot + self.coef0
        if kind == "POLY":
            return z ** self.degree
        return np.tanh(z)


@kernel("SVMRegressor", since=1, domain=ML, fresh=True)
class SVMRegressor(_SVMBase):
    """sum_j coef_j K(x, sv_j) + rho (or x.coef + rho when n_supports is 0); one_class maps
    the score to +1/-1. As in onnxruntime, post_transform does not change the output."""

    def __init__(self, info):
        super().__init__(info)
        self.n_supports = int(info.attr("n_supports", 0))
        self.coef = self._floats(info, "coefficients", required=True)
        self.rho = self._floats(info, "rho", required=True)
        self.one_class = int(info.attr("one_class", 0)) != 0
        if self.n_supports > 0:
            sv = self._floats(info, "support_vectors", required=True)
            if len(sv) % self.n_supports:
                raise InvalidArgument(f"SVMRegressor: {len(sv)} support vector values do not "
                                      f"split into {self.n_supports} vectors")
            self.sv = sv.reshape(self.n_supports, -1)
            if len(self.coef) < self.n_supports:
                raise InvalidArgument("SVMRegressor: fewer coefficients than support vectors")
            self.coef = self.coef[: self.n_supports]
            self.n_features = self.sv.shape[1]
        else:
            self.sv = None
            self.n_features = len(self.coef)

    def __call__(self, X):
        X = self._input(X, "SVMRegressor")
        check_features(X, self.n_features, "SVMRegressor")
        if self.sv is not None:
            s = self._kernel(X, self.sv) @ self.coef + self.rho[0]
        else:
            s = X @ self.coef + self.rho[0]
        if self.one_class:
            s = np.where(s > 0, 1.0, -1.0)
        return s.reshape(-1, 1).astype(np.float32)


@kernel("SVMClassifier", since=1, domain=ML, fresh=True)
class SVMClassifier(_SVMBase):
    """One-vs-one SVM (support vectors given) or linear SVM (no support vectors).

    One-vs-one: pair (i, j) scores sum(coef K) + rho and votes for i when positive; the label is
    the most voted class. Scores are the pair scores, or with prob_a/prob_b the class
    probabilities from Platt scaling and pairwise coupling. Binary classification follows
    onnxruntime: two columns ``[-s, s]`` (post_transform NONE), ``[1 - q, q]`` with
    q = logistic(s) (LOGISTIC), ``[probit(s), 0]`` (PROBIT) or ``[1 - s, s]``."""

    def __init__(self, info):
        super().__init__(info)
        self.labels, self.strings = class_labels(info, "classlabels_ints", "classlabels_strings")
        k = len(self.labels)
        if k == 0:
            raise InvalidArgument("SVMClassifier needs classlabels_ints or classlabels_strings")
        self.k = k
        self.coef = self._floats(info, "coefficients", required=True)
        self.rho = self._floats(info, "rho", required=True)
        self.prob_a = self._floats(info, "prob_a")
        self.prob_b = self._floats(info, "prob_b")
        if len(self.prob_a) != len(self.prob_b):
            raise InvalidArgument("SVMClassifier: prob_a and prob_b must have the same length")
        vpc = [int(v) for v in (info.attr("vectors_per_class") or [])]
        n_sv = sum(vpc)
        self.all_positive = bool((self.coef >= 0).all())
        self.n_pairs = k * (k - 1) // 2
        if n_sv > 0:
            self.mode = "SVC"
            if k < 2:
                raise InvalidArgument("SVMClassifier: one-vs-one classification needs at least "
                                      "2 class labels")
            if len(vpc) != k:
                raise InvalidArgument(f"SVMClassifier: vectors_per_class has {len(vpc)} entries "
                                      f"for {k} classes")
            sv = self._floats(info, "support_vectors", required=True)
            if len(sv) % n_sv:
                raise InvalidArgument("SVMClassifier: support_vectors do not split into "
                                      f"{n_sv} vectors")
            self.sv = sv.reshape(n_sv, -1)
            self.n_features = self.sv.shape[1]
            if len(self.coef) < (k - 1) * n_sv:
                raise InvalidArgument(f"SVMClassifier: expected {(k - 1) * n_sv} coefficients, "
                                      f"got {len(self.coef)}")
            if len(self.rho) < self.n_pairs:
                raise InvalidArgument(f"SVMClassifier: expected {self.n_pairs} rho values")
            self.have_proba = len(self.prob_a) > 0
            if self.have_proba and len(self.prob_a) < self.n_pairs:
                raise InvalidArgument(f"SVMClassifier: expected {self.n_pairs} prob_a values")
            self.pair_weights = self._pair_weights(vpc, n_sv)
        else:
            self.mode = "LINEAR"
            self.kernel_type = "LINEAR"
            self.have_proba = False
            if len(self.coef) % k:
                raise InvalidArgument(f"SVMClassifier: {len(self.coef)} coefficients do not "
                                      f"split into {k} classes")
            self.lin = self.coef.reshape(k, -1)
            self.n_features = self.lin.shape[1]
            if len(self.rho) < 1:
                raise InvalidArgument("SVMClassifier: rho must have at least one value")

    def _pair_weights(self, vpc, n_sv):
        """[S, n_pairs] matrix W with pair scores = K @ W + rho."""
        k = self.k
        coef = self.coef[: (k - 1) * n_sv].reshape(k - 1, n_sv)
        start = np.concatenate([[0], np.cumsum(vpc)])
        W = np.zeros((n_sv, self.n_pairs))
        p = 0
        for i in range(k):
            for j in range(i + 1, k):
                si, sj = slice(start[i], start[i + 1]), slice(start[j], start[j + 1])
                W[si, p] = coef[j - 1, si]
                W[sj, p] = coef[i, sj]
                p += 1
        return W

    def __call__(self, X):
        X = self._input(X, "SVMClassifier")
        check_features(X, self.n_features, "SVMClassifier")
        if self.mode == "LINEAR":
            return self._linear(X)
        N = X.shape[0]
        k = self.k
        scores = self._kernel(X, self.sv) @ self.pair_weights + self.rho[: self.n_pairs]
        scores = scores.astype(np.float32).astype(np.float64)
        votes = np.zeros((N, k), dtype=np.int64)
        ii, jj = np.triu_indices(k, 1)
        win = np.where(scores > 0, ii[None, :], jj[None, :])
        for c in range(k):
            votes[:, c] = (win == c).sum(axis=1)
        best = np.argmax(votes, axis=1)
        label = self.labels.take(best)
        if self.have_proba:
            z = self._probabilities(scores)
            z = apply_post_transform(z, self.post) if k > 1 else z
            return label, z.astype(np.float32)
        if k > 2:
            return label, apply_post_transform(scores, self.post).astype(np.float32)
        s = scores[:, 0]
        z = np.zeros((N, 2))
        if self.post == "PROBIT":
            z[:, 0] = probit(s)
        elif self.post == "NONE":
            z[:, 0], z[:, 1] = -s, s
        elif self.post == "LOGISTIC":
            q = logistic(s)
            z[:, 0], z[:, 1] = 1.0 - q, q
        else:
            z[:, 0], z[:, 1] = 1.0 - s, s
        return label, z.astype(np.float32)

    def _linear(self, X):
        s = X @ self.lin.T + self.rho[0]
        s = s.astype(np.float32).astype(np.float64)
        best = np.argmax(s, axis=1)
        mw = s.max(axis=1) if s.shape[1] else np.zeros(len(s))
        if self.k == 2:
            if self.all_positive:
                pos = mw >= 0.5
            else:
                pos = mw > 0
            label = self.labels.take(np.where(pos, 1, best))
        else:
            label = self.labels.take(best)
        if self.k > 1:
            z = apply_post_transform(s, self.post)
        else:
            z = probit(s) if self.post == "PROBIT" else s
        return label, z.astype(np.float32)

    def _probabilities(self, scores):
        """Platt-scaled pairwise probabilities coupled into class probabilities."""
        N = scores.shape[0]
        k = self.k
        a = self.prob_a[: self.n_pairs]
        b = self.prob_b[: self.n_pairs]
        pp = logistic(-(scores * a + b))
        pp = np.clip(pp, 1e-7, 1 - 1e-7)
        r = np.zeros((N, k, k))
        ii, jj = np.triu_indices(k, 1)
        r[:, ii, jj] = pp
        r[:, jj, ii] = 1.0 - pp
        return _couple(r)


def _couple(r: np.ndarray, max_iter: int = 100) -> np.ndarray:
    """Pairwise coupling (Wu, Lin and Weng 2004, method 2) of r[n, i, j] = P(i | i or j),
    for all rows at once; each row stops when its own residual is below 0.005 / k."""
    N, k, _ = r.shape
    Q = -r.transpose(0, 2, 1) * r
    diag = (r.transpose(0, 2, 1) ** 2).sum(axis=2) - r[:, np.arange(k), np.arange(k)] ** 2
    Q[:, np.arange(k), np.arange(k)] = diag
    p = np.full((N, k), 1.0 / k)
    eps = 0.005 / k
    active = np.ones(N, dtype=bool)
    for _ in range(max_iter):
        Qp = np.einsum("nij,nj->ni", Q, p)
        pQp = (p * Qp).sum(axis=1)
        err = np.abs(Qp - pQp[:, None]).max(axis=1)
        active &= ~(err < eps)
        if not active.any():
            break
        for t in range(k):
            diff = np.where(active, (-Qp[:, t] + pQp) / Q[:, t, t], 0.0)
            p[:, t] += diff
            pQp = (pQp + diff * (diff * Q[:, t, t] + 2 * Qp[:, t])) / (1 + diff) / (1 + diff)
            Qp = (Qp + diff[:, None] * Q[:, t, :]) / (1 + diff)[:, None]
            p /= (1 + diff)[:, None]
    return p
