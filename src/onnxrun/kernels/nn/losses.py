"""NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (reductions none/sum/mean, class
weights, ignore_index)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import compute_dtype

_REDUCTIONS = ("none", "sum", "mean")


def nll(logp, target, weight, ignore_index, reduction, cdt):
    """Loss from log-probabilities ``logp`` (N, C, d...) and integer ``target`` (N, d...)."""
    if logp.ndim < 2:
        raise InvalidArgument(f"input must have rank >= 2 (N, C, ...), got {logp.shape}")
    N, C = logp.shape[:2]
    if target.shape != (N,) + logp.shape[2:]:
        raise InvalidArgument(
            f"target shape {target.shape} must be {(N,) + logp.shape[2:]} for input {logp.shape}")
    if target.dtype.kind not in "iu":
        raise InvalidArgument(f"target must be an integer tensor, got {target.dtype}")
    if weight is not None and weight.shape != (C,):
        raise InvalidArgument(f"weight must have shape ({C},), got {weight.shape}")
    t = target.astype(np.int64, copy=False)
    ignored = (t == ignore_index) if ignore_index is not None else np.zeros(t.shape, bool)
    bad = ~ignored & ((t < 0) | (t >= C))
    if bad.any():
        raise InvalidArgument(
            f"target values must be in [0, {C}) (or ignore_index), got {int(t[bad][0])}")
    tt = np.where(ignored, 0, t)
    picked = np.take_along_axis(logp, tt[:, None], axis=1)[:, 0]
    if weight is not None:
        w = weight.astype(cdt, copy=False)[tt]
    else:
        w = np.ones(tt.shape, dtype=cdt)
    w = np.where(ignored, cdt.type(0), w)
    loss = -picked * w
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.asarray(loss.sum(), dtype=cdt)
    return np.asarray(loss.sum() / w.sum(), dtype=cdt)


class _Loss(OpKernel):
    def __init__(self, info):
        super().__init__(info)
        r = info.attr("reduction", "mean")
        if isinstance(r, bytes):
            r = r.decode()
        if r not in _REDUCTIONS:
            raise InvalidArgument(f"reduction must be one of {_REDUCTIONS}, got {r!r}")
        self.reduction = r
        ii = info.attr("ignore_index")
        self.ignore_index = None if ii is None else int(ii)


@kernel("NegativeLogLikelihoodLoss", since=12, fresh=True)
class NegativeLogLikelihoodLoss(_Loss):
    """loss = -input[n, target[n, d...], d...] * weight[target], then reduced."""

    def __call__(self, input, target, weight=None):
        dt = input.dtype
        cdt = compute_dtype(dt)
        out = nll(input.astype(cdt, copy=False), target, weight, self.ignore_index,
                  self.reduction, cdt)
        return out.astype(dt, copy=False)


@kernel("SoftmaxCrossEntropyLoss", since=12, fresh=True)
class SoftmaxCrossEntropyLoss(_Loss):
    """NLL of log_softmax(scores, axis=1); optional second output: the log-probabilities."""

    def __init__(self, info):
        super().__init__(info)
        self.want_logp = info.output_wanted(1)

    def __call__(self, scores, labels, weights=None):
        if scores.ndim < 2:
            raise InvalidArgument(f"scores must have rank >= 2 (N, C, ...), got {scores.shape}")
        dt = scores.dtype
        cdt = compute_dtype(dt)
        s = scores.astype(cdt, copy=False)
        m = s.max(axis=1, keepdims=True)
        z = s - m
        logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
        out = nll(logp, labels, weights, self.ignore_index, self.reduction, cdt)
        out = out.astype(dt, copy=False)
        if self.want_logp:
            return out, logp.astype(dt, copy=False)
        return (out,)
