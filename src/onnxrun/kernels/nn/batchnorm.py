"""BatchNormalization for every opset version.

Inference folds scale, bias, mean and variance into one multiply-add (at init when all four are
constants). Training mode (opset >= 14 ``training_mode=1``, or old versions asked for their
statistics outputs) normalizes with batch statistics and returns the running updates."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import compute_dtype


def _param_shape(p, X):
    """Broadcast shape for a per-channel (or, with spatial=0, per-activation) parameter."""
    C = X.shape[1] if X.ndim > 1 else 1
    if p.ndim == 1 and p.shape[0] == C:
        return (C,) + (1,) * (X.ndim - 2)
    if p.ndim >= 1 and p.shape[0] == C and p.shape == X.shape[1:1 + p.ndim]:
        return p.shape + (1,) * (X.ndim - 1 - p.ndim)
    if p.ndim == X.ndim - 1 and p.shape[0] == C:
        return p.shape  # broadcastable per-activation parameters
    raise InvalidArgument(
        f"BatchNormalization parameter of shape {p.shape} does not fit input shape {X.shape}: "
        f"expected ({C},)")


def fold(scale, bias, mean, var, eps, cdt):
    """a, b with Y = X * a + b."""
    s = np.asarray(scale, dtype=cdt)
    a = s / np.sqrt(np.asarray(var, dtype=cdt) + cdt.type(eps))
    b = np.asarray(bias, dtype=cdt) - np.asarray(mean, dtype=cdt) * a
    return a, b


@kernel("BatchNormalization", since=1, fresh=True)
class BatchNormalization(OpKernel):
    """BatchNormalization (all versions; spatial/is_test/consumed_inputs of old versions)."""

    def __init__(self, info):
        super().__init__(info)
        self.eps = float(info.attr("epsilon", 1e-5))
        self.momentum = float(info.attr("momentum", 0.9))
        self.v = info.since_version
        if self.v >= 14:
            self.training = bool(info.attr("training_mode", 0))
        else:
            # old versions: statistics outputs are only produced in training
            self.training = any(info.output_wanted(i) for i in range(1, 5)) and \
                not bool(info.attr("is_test", 0))
        self.multi = True  # schema allows several outputs in every version
        c = info.const_inputs
        self.folded = None
        if not self.training and len(c) >= 5 and all(v is not None for v in c[1:5]):
            self.folded = {}
            for dt in (np.float32, np.float64):
                self.folded[np.dtype(dt)] = fold(c[1], c[2], c[3], c[4], self.eps, np.dtype(dt))

    def __call__(self, X, scale, B, input_mean, input_var):
        if X.ndim < 2:
            raise InvalidArgument(f"X must have rank >= 2 (N, C, ...), got shape {X.shape}")
        dt = X.dtype
        cdt = compute_dtype(dt)
        shp = _param_shape(scale, X)
        for name, p in (("B", B), ("mean", input_mean), ("var", input_var)):
            if p.shape != scale.shape:
                raise InvalidArgument(
                    f"{name} shape {p.shape} must equal scale shape {scale.shape}")
        x = X if dt == cdt else X.astype(cdt)
        if not self.training:
            if self.folded is not None:
                a, b = self.folded[cdt] if cdt in self.folded else fold(
                    scale, B, input_mean, input_var, self.eps, cdt)
            else:
                a, b = fold(scale, B, input_mean, input_var, self.eps, cdt)
            Y = x * a.reshape(shp)
            Y += b.reshape(shp)
            return (Y.astype(dt, copy=False),)
        # training: batch statistics over every axis but the channel one
        axes = (0,) + tuple(range(2, X.ndim)) if scale.ndim == 1 else (0,)
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)
        a, b = fold(scale, B, mean, var, self.eps, cdt)
        Y = x * a.reshape(shp)
        Y += b.reshape(shp)
        m = cdt.type(self.momentum)
        one = cdt.type(1)
        run_mean = np.asarray(input_mean, dtype=cdt) * m + mean * (one - m)
        run_var = np.asarray(input_var, dtype=cdt) * m + var * (one - m)
        pdt = input_mean.dtype
        outs = (Y.astype(dt, copy=False), run_mean.astype(pdt, copy=False),
                run_var.astype(pdt, copy=False))
        if self.v < 14:
            inv_std = one / np.sqrt(var + cdt.type(self.eps))
            outs = outs + (mean.astype(pdt, copy=False), inv_std.astype(pdt, copy=False))
        return outs
