"""QLinearAveragePool and QLinearGlobalAveragePool (com.microsoft), NCHW or channels-last,
with onnxruntime's arithmetic: an exact integer sum requantized in float32 for the global
average (and for an AveragePool whose unpadded window is the whole map), a float32 windowed
mean of the dequantized input otherwise."""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..nn._common import (auto_pad_attr, ints_attr, out_shape_and_pads, pad_spatial,
                          spatial_params, windows)
from ..registry import kernel
from ._quant import F32, check_q8, requantize, saturate, scale_value, zero_point


def _params(X, x_scale, x_zero_point, y_scale, y_zero_point, op):
    dt = check_q8(X, f"{op}: X")
    if X.ndim < 3:
        raise InvalidArgument(f"{op}: X must have rank >= 3, got shape {X.shape}")
    return (dt, scale_value(x_scale, f"{op}: x_scale"),
            zero_point(x_zero_point, dt, f"{op}: x_zero_point"),
            scale_value(y_scale, f"{op}: y_scale"),
            zero_point(y_zero_point, dt, f"{op}: y_zero_point"))


def global_average(x, sx, zx, sy, zy, dt, op):
    """Requantized mean over the trailing axes of NCHW-ordered ``x`` [N, C, *S], shape [N, C]:
    the exact integer sum minus ``zx * size``, times ``sx / (sy * size)`` (float32)."""
    size = math.prod(x.shape[2:])
    if size >= 1 << 24:
        raise InvalidArgument(f"{op}: image size {size} is too large (must be < 2**24)")
    scale = np.float32(sx / np.float32(sy * np.float32(size)))
    if not (2.0 ** -32 <= scale < 256.0):
        raise InvalidArgument(f"{op}: x_scale / (y_scale * image size) = {scale} is outside "
                              "the computable range [2**-32, 256)")
    acc = x.reshape(x.shape[0], x.shape[1], -1).sum(axis=-1, dtype=np.int64) - zx * size
    return requantize(acc.astype(np.int32), scale, zy, dt)


def _to_nchw(X, channels_last):
    return np.moveaxis(X, -1, 1) if channels_last else X


def _from_nchw(Y, channels_last):
    return np.ascontiguousarray(np.moveaxis(Y, 1, -1) if channels_last else Y)


@kernel("QLinearGlobalAveragePool", domain="com.microsoft", since=1, fresh=True)
class QLinearGlobalAveragePool(OpKernel):
    """Mean over the spatial axes (``channels_last``: [N, *S, C]); spatial dims become 1."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.channels_last = bool(info.attr("channels_last", 0))

    def __call__(self, X, x_scale, x_zero_point, y_scale, y_zero_point):
        op = "QLinearGlobalAveragePool"
        if x_zero_point is None or y_zero_point is None:
            raise InvalidArgument(f"{op}: x_zero_point and y_zero_point are required")
        dt, sx, zx, sy, zy = _params(X, x_scale, x_zero_point, y_scale, y_zero_point, op)
        y = global_average(_to_nchw(X, self.channels_last), sx, zx, sy, zy, dt, op)
        y = y.reshape(y.shape + (1,) * (X.ndim - 2))
        return _from_nchw(y, self.channels_last)


@kernel("QLinearAveragePool", domain="com.microsoft", since=1, fresh=True)
class QLinearAveragePool(OpKernel):
    """Average pooling of the dequantized input (float32 sums in window order, divided by the
    count of input elements in the window, or by the kernel size with ``count_include_pad``),
    quantized as ``rint(mean / y_scale + y_zp)``; ``channels_last`` for NHWC."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.kernel_shape = ints_attr(info, "kernel_shape")
        if not self.kernel_shape:
            raise InvalidArgument("QLinearAveragePool: attribute 'kernel_shape' is required")
        self.nsp = len(self.kernel_shape)
        if self.nsp > 3:
            raise InvalidArgument(f"QLinearAveragePool: 1-D, 2-D or 3-D pooling only, got "
                                  f"kernel_shape {self.kernel_shape}")
        self.auto_pad = auto_pad_attr(info)
        self.ceil_mode = bool(info.attr("ceil_mode", 0))
        self.count_include_pad = bool(info.attr("count_include_pad", 0))
        self.channels_last = bool(info.attr("channels_last", 0))
        self.strides, _, self.pads = spatial_params(
            self.nsp, self.kernel_shape, ints_attr(info, "strides"), None,
            ints_attr(info, "pads"))

    def __call__(self, X, x_scale, x_zero_point=None, y_scale=None, y_zero_point=None):
        op = "QLinearAveragePool"
        if y_scale is None:
            raise InvalidArgument(f"{op}: y_scale is required")
        dt, sx, zx, sy, zy = _params(X, x_scale, x_zero_point, y_scale, y_zero_point, op)
        x = _to_nchw(X, self.channels_last)
        if x.ndim != self.nsp + 2:
            raise InvalidArgument(f"{op}: X must have rank {self.nsp + 2} for kernel_shape "
                                  f"{self.kernel_shape}, got shape {X.shape}")
        in_sp = x.shape[2:]
        k, s = self.kernel_shape, self.strides
        out_sp, pb, pe_user = self._pads(in_sp)
        if list(in_sp) == k and not any(pb) and not any(pe_user):
            y = global_average(x, sx, zx, sy, zy, dt, op)
            return _from_nchw(y.reshape(y.shape + (1,) * self.nsp), self.channels_last)
        N, C = x.shape[:2]
        if any(o <= 0 for o in out_sp):
            return _from_nchw(np.empty((N, C) + tuple(out_sp), dtype=dt), self.channels_last)
        xf = sx * (x.astype(np.int32) - zx).astype(F32)
        need = [(out_sp[i] - 1) * s[i] + k[i] - in_sp[i] - pb[i] for i in range(self.nsp)]
        xp = pad_spatial(xf, pb, [max(0, n) for n in need], 0)
        win = windows(xp, k, s, [1] * self.nsp, out_sp)
        total = None
        for idx in np.ndindex(*k):  # window order: the sum rounds like onnxruntime's loop
            tap = win[(slice(None), slice(None)) + idx]
            total = tap.copy() if total is None else np.add(total, tap, out=total)
        y = total / self._counts(in_sp, out_sp, pb)
        q = np.rint((y / sy).astype(F32) + np.float32(zy))
        return _from_nchw(saturate(q, dt), self.channels_last)

    def _pads(self, in_sp):
        """(output spatial shape, begin pads, end pads as given/derived before ceil_mode)."""
        out_sp, pb, _ = out_shape_and_pads(in_sp, self.kernel_shape, self.strides,
                                           [1] * self.nsp, self.pads, self.auto_pad,
                                           self.ceil_mode)
        if self.auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            pe = [max(0, (out_sp[i] - 1) * self.strides[i] + self.kernel_shape[i] - in_sp[i])
                  - pb[i] for i in range(self.nsp)]
        elif self.auto_pad == "VALID":
            pe = [0] * self.nsp
        else:
            pe = self.pads[self.nsp:]
        return out_sp, pb, pe

    def _counts(self, in_sp, out_sp, pb):
        """float32 divisor per output position: the kernel size, or the number of input
        (non-pad) elements in the window."""
        if self.count_include_pad:
            return np.float32(math.prod(self.kernel_shape))
        cnt = None
        for i in range(self.nsp):
            start = np.arange(out_sp[i]) * self.strides[i] - pb[i]
            c = np.minimum(start + self.kernel_shape[i], in_sp[i]) - np.maximum(start, 0)
            c = c.reshape((-1,) + (1,) * (self.nsp - 1 - i))
            cnt = c if cnt is None else cnt * c
        return cnt.astype(F32)
