"""ConvInteger and QLinearConv: exact integer convolution (im2col + BLAS product) with zero
points, requantized for QLinearConv."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._blocked import requantize_rows
from ._common import F32, int_range, to_float
from ._conv import ConvGeometry, conv_exact, shifted, to_int32
from ._float_exact import ExactConv, _ExactConv, input_bound, shift_to_float


def _w_zero_point(zp, w, what="w_zero_point"):
    """Scalar or one entry per output channel, shaped to broadcast against W."""
    if zp is None or zp.size == 1:
        return None if zp is None else zp.reshape(())
    if zp.ndim != 1 or zp.shape[0] != w.shape[0]:
        raise InvalidArgument(f"{what} must be a scalar or have {w.shape[0]} entries (one per "
                              f"output channel), got shape {zp.shape}")
    return zp.reshape((-1,) + (1,) * (w.ndim - 1))


def _x_zero_point(zp, what="x_zero_point"):
    if zp is None:
        return None
    if zp.size != 1:
        raise InvalidArgument(f"{what} must be a scalar (per-tensor), got shape {zp.shape}")
    return zp.reshape(())


class _ConvBase(OpKernel):
    """Constant 8-bit weights are shifted once and convolved by a float conv in float32,
    exactly (``_float_exact.ExactConv``; ``float_conv`` picks onnxrun's float Conv kernel here,
    the Numba provider's subclasses their direct conv); other cases take the float64 im2col
    path."""

    #: input indices of W and of its zero point
    W_INDEX, WZP_INDEX = 1, 3

    def __init__(self, info) -> None:
        super().__init__(info)
        self.geo = ConvGeometry(info)
        self.pool = info.intra_op
        self._w = None  # (shifted W, bound) for the float64 path, when W and its zp are constant
        self._fast = None  # ExactConv for those weights, where exactness is guaranteed
        self._wconst = None
        cin = info.const_inputs
        w = cin[self.W_INDEX] if len(cin) > self.W_INDEX else None
        has_zp = len(cin) > self.WZP_INDEX and info.input_names[self.WZP_INDEX]
        zp = cin[self.WZP_INDEX] if has_zp else None
        if w is None or (has_zp and zp is None):
            return
        wzp = _w_zero_point(zp, w)
        if input_bound(w.dtype) is not None and w.ndim >= 3:
            self._fast = ExactConv.build(info, shift_to_float(w, wzp), np.uint8,
                                         self.float_conv(info, w))
            self._wconst = w
        if self._fast is None:
            self._w = shifted(w, wzp)

    def float_conv(self, info, w):
        """The float conv class run on the shifted float32 values."""
        return _ExactConv

    def _weights(self, w, wzp):
        if self._w is not None:
            return self._w
        return shifted(w, _w_zero_point(wzp, w))

    def _accumulate(self, x, xzp, w, wzp, rounded=False):
        """Exact ``conv(x - xzp, w - wzp)``: float32 (exact integers) from the fast path's
        single chunk, float64 otherwise; with ``rounded``, float32(acc) always."""
        if self._fast is not None and w is self._wconst and input_bound(x.dtype) is not None:
            self.geo.resolve(x.shape, w.shape)  # the same checks and errors as the slow path
            return self._fast(shift_to_float(x, _x_zero_point(xzp)), rounded)
        xv, bx = shifted(x, _x_zero_point(xzp))
        wv, bw = self._weights(w, wzp)
        acc = conv_exact(xv, bx, wv, bw, self.geo)
        return acc.astype(F32) if rounded else acc


@kernel("ConvInteger", since=10, fresh=True)
class ConvInteger(_ConvBase):
    """int32 convolution of ``x - x_zero_point`` and ``w - w_zero_point``."""

    def __call__(self, x, w, x_zero_point=None, w_zero_point=None):
        return to_int32(self._accumulate(x, x_zero_point, w, w_zero_point))


@kernel("ConvIntegerFloat", since=1, domain="com.onnxrun", fresh=True)
class ConvIntegerFloat(ConvInteger):
    """``Cast(ConvInteger(...), to=FLOAT)`` in one kernel (optimizer/fuse_integer_cast.py):
    float32 of the int32 accumulator, taken straight from the exact float32 conv."""

    def __call__(self, x, w, x_zero_point=None, w_zero_point=None):
        if self._fast is not None and w is self._wconst and self._fast.max_acc < 2 ** 31:
            return self._accumulate(x, x_zero_point, w, w_zero_point, rounded=True)
        return super().__call__(x, w, x_zero_point, w_zero_point).astype(F32)


@kernel("QLinearConv", since=10, fresh=True)
class QLinearConv(_ConvBase):
    """Quantized convolution with optional int32 bias, per-tensor or per-output-channel
    weight scale/zero point, requantized with round half to even and saturation."""

    W_INDEX, WZP_INDEX = 3, 5

    def __call__(self, x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
                 y_zero_point, B=None):
        acc = self._accumulate(x, x_zero_point, w, w_zero_point)
        M = acc.shape[1]
        if B is not None and B.size != M:
            raise InvalidArgument(f"B must have {M} entries (one per output channel), "
                                  f"got shape {B.shape}")
        if w_scale.size == 1:
            ws = to_float(w_scale).reshape(())
        elif w_scale.ndim == 1 and w_scale.shape[0] == M:
            ws = to_float(w_scale)
        else:
            raise InvalidArgument(f"w_scale must be a scalar or have {M} entries, got shape "
                                  f"{w_scale.shape}")
        if x_scale.size != 1 or y_scale.size != 1 or y_zero_point.size != 1:
            raise InvalidArgument("x_scale, y_scale and y_zero_point must be scalars")
        mult = (to_float(x_scale).reshape(()) * ws) / to_float(y_scale).reshape(())
        dt = y_zero_point.dtype
        if int_range(dt) is None:
            raise InvalidArgument(f"unsupported output type {dt}")
        zero = to_float(y_zero_point).reshape(())
        return self.requantize(acc, None if B is None else B.reshape(M), mult.astype(F32),
                               F32.type(zero), dt)

    def requantize(self, acc, bias, mult, zero, dt):
        """``_blocked.requantize_rows`` (the Numba provider's subclass compiles it)."""
        return requantize_rows(acc, bias, mult, zero, dt, self.pool)
