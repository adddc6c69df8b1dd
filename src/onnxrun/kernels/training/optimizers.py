"""ai.onnx.preview.training optimizers (opset 1): Adagrad, Adam, Momentum.

Each updates n tensors at once: inputs are R (learning rate), T (update count), then n-tensor
groups (X..., G..., state...); outputs are the new X... then the new states. Arithmetic runs in
the dtype of each X.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel

DOMAIN = "ai.onnx.preview.training"


def _scalar(value, what: str) -> float:
    arr = np.asarray(value)
    if arr.size != 1:
        raise InvalidArgument(f"{what} must be a scalar, got shape {arr.shape}")
    return arr.reshape(-1)[0].item()


def _groups(op: str, tensors, k: int):
    """Split the variadic inputs into k groups of n tensors (X, G, and states)."""
    if len(tensors) == 0 or len(tensors) % k:
        raise InvalidArgument(f"{op} takes R, T and {k} groups of equally many tensors, got "
                              f"{len(tensors)} tensors after R and T")
    n = len(tensors) // k
    groups = [tensors[i * n:(i + 1) * n] for i in range(k)]
    for j in range(n):
        x = groups[0][j]
        for g in range(1, k):
            t = groups[g][j]
            if not isinstance(t, np.ndarray) or t.shape != x.shape or t.dtype != x.dtype:
                raise InvalidArgument(f"{op}: tensor {j} of input group {g} must have X's shape "
                                      f"{x.shape} and type {x.dtype}")
    return groups


class _Optimizer(OpKernel):
    def _float(self, name: str, default=None) -> float:
        if default is None:
            return float(self.info.require_attr(name))
        return float(self.info.attr(name, default))


@kernel("Adagrad", since=1, domain=DOMAIN, fresh=True)
class Adagrad(_Optimizer):
    """``Adagrad(R, T, X..., G..., H...)`` -> (X_new..., H_new...)."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.decay = self._float("decay_factor", 0.0)
        self.eps = self._float("epsilon", 1e-6)
        self.norm = self._float("norm_coefficient", 0.0)

    def __call__(self, R, T, *tensors):
        xs, gs, hs = _groups("Adagrad", tensors, 3)
        r = _scalar(R, "Adagrad R") / (1.0 + _scalar(T, "Adagrad T") * self.decay)
        new_x, new_h = [], []
        for x, g, h in zip(xs, gs, hs):
            c = x.dtype.type
            g_reg = c(self.norm) * x + g
            h_new = h + g_reg * g_reg
            new_x.append(x - c(r) * g_reg / (np.sqrt(h_new) + c(self.eps)))
            new_h.append(h_new)
        return tuple(new_x + new_h)


@kernel("Adam", since=1, domain=DOMAIN, fresh=True)
class Adam(_Optimizer):
    """``Adam(R, T, X..., G..., V..., H...)`` -> (X_new..., V_new..., H_new...)."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.alpha = self._float("alpha", 0.9)
        self.beta = self._float("beta", 0.999)
        self.eps = self._float("epsilon", 1e-6)
        self.norm = self._float("norm_coefficient", 0.0)
        self.norm_post = self._float("norm_coefficient_post", 0.0)

    def __call__(self, R, T, *tensors):
        xs, gs, vs, hs = _groups("Adam", tensors, 4)
        r = _scalar(R, "Adam R")
        t = _scalar(T, "Adam T")
        if t > 0:
            r = r * math.sqrt(1.0 - self.beta ** t) / (1.0 - self.alpha ** t)
        new_x, new_v, new_h = [], [], []
        for x, g, v, h in zip(xs, gs, vs, hs):
            c = x.dtype.type
            g_reg = c(self.norm) * x + g
            v_new = c(self.alpha) * v + c(1.0 - self.alpha) * g_reg
            h_new = c(self.beta) * h + c(1.0 - self.beta) * g_reg * g_reg
            x_new = x - c(r) * v_new / (np.sqrt(h_new) + c(self.eps))
            new_x.append(c(1.0 - self.norm_post) * x_new)
            new_v.append(v_new)
            new_h.append(h_new)
        return tuple(new_x + new_v + new_h)


@kernel("Momentum", since=1, domain=DOMAIN, fresh=True)
class Momentum(_Optimizer):
    """``Momentum(R, T, X..., G..., V...)`` -> (X_new..., V_new...), standard or Nesterov."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.alpha = self._float("alpha")
        self.beta = self._float("beta")
        self.norm = self._float("norm_coefficient")
        mode = info.require_attr("mode")
        if mode not in ("standard", "nesterov"):
            raise InvalidArgument(f"Momentum mode must be 'standard' or 'nesterov', got "
                                  f"'{mode}'")
        self.nesterov = mode == "nesterov"

    def __call__(self, R, T, *tensors):
        xs, gs, vs = _groups("Momentum", tensors, 3)
        r = _scalar(R, "Momentum R")
        beta = self.beta if _scalar(T, "Momentum T") > 0 else 1.0
        new_x, new_v = [], []
        for x, g, v in zip(xs, gs, vs):
            c = x.dtype.type
            g_reg = c(self.norm) * x + g
            v_new = c(self.alpha) * v + c(beta) * g_reg
            if self.nesterov:
                x_new = x - c(r) * (g_reg + c(self.alpha) * v_new)
            else:
                x_new = x - c(r) * v_new
            new_x.append(x_new)
            new_v.append(v_new)
        return tuple(new_x + new_v)
