"""QLinearSoftmax (com.microsoft): 8-bit softmax through a 256-entry exponential table, with
onnxruntime's arithmetic (float32 table and sums, sequential accumulation)."""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._quant import F32, check_q8, const_input, saturate, scale_value, zero_point

_FLT_MAX = float(np.finfo(np.float32).max)


def exp_table(x_scale: np.float32, reduce_len: int) -> np.ndarray:
    """``T[d] = exp((d - 255 + shift) * x_scale)`` for the distance ``d`` (0..255) of a code above
    the row maximum minus 255; ``shift`` lifts the values as far as float32 sums of
    ``reduce_len`` terms allow (onnxruntime's table, computed in float64, stored as float32)."""
    shift = math.log(float(np.float32(_FLT_MAX / np.float32(reduce_len))))
    shift = max(0.0, shift - 5.0) / float(x_scale)
    d = np.arange(256, dtype=np.float64)
    return np.exp((d - 255.0 + shift) * float(x_scale)).astype(F32)


@kernel("QLinearSoftmax", domain="com.microsoft", since=1, fresh=True)
class QLinearSoftmax(OpKernel):
    """Softmax of 8-bit codes: ``e = T[x - max(x) + 255]``, ``y = rint(e * floor(1 / y_scale) /
    sum(e)) + y_zero_point`` (float32; the row sum accumulated in order), saturated. ``opset``
    < 13 coerces the input to 2-D at ``axis`` and normalizes over everything from it; ``opset``
    >= 13 normalizes along ``axis`` only. ``axis`` defaults to -1 for every opset, as in
    onnxruntime. The x zero point cancels out."""

    def __init__(self, info) -> None:
        super().__init__(info)
        if "opset" not in info.attrs:
            raise InvalidArgument("QLinearSoftmax: attribute 'opset' is required")
        self.opset = int(info.attrs["opset"])
        # the schema default -1 holds for every opset (onnxruntime fills it in, so the
        # opset-12 default of 1 never applies)
        self.axis = int(info.attr("axis", -1))
        self._table = None
        k, xs = const_input(info, 1)
        x_t = info.input_types[0] if info.input_types else None
        shape = getattr(x_t, "shape", None)
        if k and xs is not None and shape and all(isinstance(d, int) for d in shape):
            n = self._reduce_len(tuple(shape))
            if n > 0:
                self._table = (n, exp_table(scale_value(xs, "QLinearSoftmax: X_scale"), n))

    def _axis(self, rank):
        if not -rank <= self.axis < max(rank, 1):
            raise InvalidArgument(f"QLinearSoftmax: axis {self.axis} is out of range for rank "
                                  f"{rank}")
        return self.axis % rank if rank else 0

    def _reduce_len(self, shape):
        ax = self._axis(len(shape))
        return math.prod(shape[ax:]) if self.opset < 13 else shape[ax]

    def __call__(self, X, X_scale, x_zero_point=None, y_scale=None, y_zero_point=None):
        dt = check_q8(X, "QLinearSoftmax: X")
        if y_scale is None or y_zero_point is None:
            raise InvalidArgument("QLinearSoftmax: y_scale and y_zero_point are required")
        zero_point(x_zero_point, dt, "QLinearSoftmax: x_zero_point")
        zy = zero_point(y_zero_point, dt, "QLinearSoftmax: y_zero_point")
        sy = scale_value(y_scale, "QLinearSoftmax: y_scale")
        if X.size == 0:
            return np.empty(X.shape, dtype=dt)
        n = self._reduce_len(X.shape)
        if self._table is not None and self._table[0] == n:
            table = self._table[1]
        else:
            table = exp_table(scale_value(X_scale, "QLinearSoftmax: X_scale"), n)
        ax = self._axis(X.ndim)
        if self.opset < 13:
            x = X.reshape(-1, n)
        else:
            x = np.moveaxis(X, ax, -1)
        xi = x.astype(np.int32)
        e = table[xi - xi.max(axis=-1, keepdims=True) + 255]
        total = np.add.accumulate(e, axis=-1)[..., -1:]  # left-to-right, as onnxruntime sums
        inv = np.float32(math.floor(np.float32(1) / sy))
        q = np.rint((e * inv) / total).astype(np.int64) + zy
        y = saturate(q, dt)
        if self.opset < 13:
            return y.reshape(X.shape)
        return np.ascontiguousarray(np.moveaxis(y, -1, ax))
