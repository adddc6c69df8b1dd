"""ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceLogSum,
ReduceLogSumExp, ReduceSumSquare, for every opset (axes attribute before opset 13 for
ReduceSum / 18 for the others, an input afterwards with ``noop_with_empty_axes``)."""

from __future__ import annotations

import numpy as np
import ml_dtypes

from ..base import OpKernel
from ..registry import kernel
from ..tensor._common import const_ints, remember
from ._common import axes_from_input, norm_reduce_axes

_LOW_FLOATS = {np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)}


def _work(x):
    """The array to compute on: 16-bit floats accumulate in float32."""
    if x.dtype in _LOW_FLOATS:
        return x.astype(np.float32)
    if x.dtype.kind == "f" and x.dtype.itemsize < 2:  # float8 types
        return x.astype(np.float32)
    return x


def _acc_dtype(w):
    return w.dtype if w.dtype.kind in "iufc" else None


def _all(w, ax):
    """``None`` (numpy's fast path) when ``ax`` covers every axis."""
    return None if len(ax) == w.ndim else ax


def _sum(w, ax, kd):
    return np.sum(w, axis=_all(w, ax), keepdims=kd, dtype=_acc_dtype(w))


def _mean(w, ax, kd):
    count = 1
    for a in ax:
        count *= w.shape[a]
    acc = np.dtype(np.float64) if w.dtype.kind in "iub" else w.dtype
    total = np.sum(w, axis=_all(w, ax), keepdims=kd, dtype=acc)
    # an empty set gives 0/0 = nan (warnings are off under the executor's errstate)
    return np.true_divide(total, acc.type(count))


def _extreme(w, ax, kd, fn, big):
    if w.size == 0 or any(w.shape[a] == 0 for a in ax):
        shape = [1 if i in ax else d for i, d in enumerate(w.shape)] if kd else \
            [d for i, d in enumerate(w.shape) if i not in ax]
        if w.dtype.kind == "f":
            v = -np.inf if big else np.inf
        elif w.dtype.kind == "b":
            v = not big
        else:
            info = np.iinfo(w.dtype)
            v = info.min if big else info.max
        return np.full(shape, v, dtype=w.dtype)
    return fn(w, axis=ax, keepdims=kd)


def _logsumexp(w, ax, kd):
    if w.dtype.kind in "iu" and w.size and all(w.shape[a] for a in ax):
        # integers as onnxruntime does them: exp(x - max) truncated to the integer type,
        # summed exactly, then log(sum) + max truncated
        m = np.max(w, axis=ax, keepdims=True)
        e = np.exp((w - m).astype(np.float64)).astype(w.dtype)
        s = np.log(np.sum(e, axis=ax, keepdims=True, dtype=w.dtype).astype(np.float64)) + m
        return np.trunc(s if kd else np.squeeze(s, axis=ax))
    if w.dtype.kind != "f":
        w = w.astype(np.float64)
    if w.size == 0 or any(w.shape[a] == 0 for a in ax):
        return np.log(np.sum(np.exp(w), axis=ax, keepdims=kd))
    m = np.max(w, axis=ax, keepdims=True)
    m = np.where(np.isfinite(m), m, np.zeros_like(m))
    s = np.log(np.sum(np.exp(w - m), axis=ax, keepdims=True)) + m
    return s if kd else np.squeeze(s, axis=ax)


_FUNCS = {
    "ReduceSum": _sum,
    "ReduceMean": _mean,
    "ReduceMax": lambda w, ax, kd: _extreme(w, ax, kd, np.max, True),
    "ReduceMin": lambda w, ax, kd: _extreme(w, ax, kd, np.min, False),
    "ReduceProd": lambda w, ax, kd: np.prod(w, axis=_all(w, ax), keepdims=kd, dtype=_acc_dtype(w)),
    "ReduceL1": lambda w, ax, kd: _sum(np.abs(w), ax, kd),
    "ReduceL2": lambda w, ax, kd: np.sqrt(_sum(w * w, ax, kd)),
    "ReduceSumSquare": lambda w, ax, kd: _sum(w * w, ax, kd),
    "ReduceLogSum": lambda w, ax, kd: np.log(_sum(w, ax, kd)),
    "ReduceLogSumExp": _logsumexp,
}

#: reductions whose value over one element is that element, exactly (float inputs)
_ONE_ELEMENT_IDENTITY = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd"}
#: a per-shape plan: the output is a copy of the input (the empty-axes no-op, or a
#: one-element identity over kept axes of size 1)
_COPY = "copy"

# opset at which the axes attribute became an input
_AXES_INPUT_SINCE = {name: (13 if name == "ReduceSum" else 18) for name in _FUNCS}


class _Reduce(OpKernel):
    """Reduction over ``axes`` (all axes by default) with ``keepdims``."""

    OP = ""

    def __init__(self, info):
        super().__init__(info)
        self.fn = _FUNCS[self.OP]
        self.keepdims = bool(info.attr("keepdims", 1))
        self.noop = bool(info.attr("noop_with_empty_axes", 0))
        self.axes_input = info.since_version >= _AXES_INPUT_SINCE[self.OP]
        ax = info.attr("axes")
        self.axes_attr = None if ax is None else [int(a) for a in ax]
        # axes fixed at init (an attribute, a constant input or none): kept per input shape
        names = info.input_names
        self.const_axes = False
        if self.axes_input:
            if len(names) < 2 or names[1] == "":
                self.const_axes = True
            else:
                self.axes_attr = const_ints(info, 1, "axes")
                self.const_axes = self.axes_attr is not None
        self.plans = {}

    def __call__(self, data, axes=None):
        if self.axes_input and not self.const_axes:
            return self.reduce(data, axes_from_input(axes))
        ax = self.plans.get(data.shape)
        if ax is None:
            return self.reduce(data, self.axes_attr, self.plans)
        if ax is _COPY:
            return data.copy()
        w = _work(data)
        out = self.fn(w, ax, self.keepdims)
        return np.asarray(out).astype(data.dtype, copy=False)

    def reduce(self, data, axes, plans=None):
        """The reduction over ``axes`` (a list, or None); with ``plans`` (constant axes),
        also record the normalized axes for this input shape."""
        if not axes:
            if self.axes_input and self.noop:
                if plans is not None:
                    remember(plans, data.shape, _COPY)
                return data.copy()
            ax = tuple(range(data.ndim))
        else:
            ax = norm_reduce_axes(axes, data.ndim)
        if plans is not None:
            ones = (self.OP in _ONE_ELEMENT_IDENTITY and self.keepdims and ax
                    and data.dtype.kind == "f" and all(data.shape[a] == 1 for a in ax))
            remember(plans, data.shape, _COPY if ones else ax)
        w = _work(data)
        out = self.fn(w, ax, self.keepdims)
        return np.asarray(out).astype(data.dtype, copy=False)


for _name in _FUNCS:
    _cls = type(_name, (_Reduce,), {"OP": _name, "__doc__": f"{_name}: " + _Reduce.__doc__})
    kernel(_name, since=1, fresh=True)(_cls)
