"""com.microsoft QLinearWhere: Where on quantized tensors.

Inputs: condition, X, x_scale, x_zero_point, Y, y_scale, y_zero_point, z_scale, z_zero_point
(scales float scalars, zero points int8 / uint8 scalars of one type). Z = where(condition, X', Y')
broadcast, X' and Y' requantized to Z's scale and zero point as onnxruntime does:
saturate(round_half_even(scale * (q - zero_point) / z_scale) + z_zero_point), in float32.
With constant parameters the requantization is a 256-entry table built at init."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel

_TYPES = (np.dtype(np.int8), np.dtype(np.uint8))


def requantize_table(scale, zero_point, z_scale, z_zero_point) -> np.ndarray:
    """The 256 values of an int8 / uint8 type (indexed by the value as uint8) in Z's
    quantization."""
    dt = np.dtype(zero_point.dtype)
    info = np.iinfo(dt)
    q = np.arange(256, dtype=np.uint8).view(dt).astype(np.float32)
    real = np.float32(scale) * (q - np.float32(zero_point))
    z = np.rint(real / np.float32(z_scale)) + np.float32(z_zero_point)
    z = np.minimum(np.fmax(z, info.min), info.max)  # NaN (a zero z_scale) -> the minimum
    return z.astype(np.dtype(z_zero_point.dtype))


def _scalar(v, what):
    if v is None or np.asarray(v).size != 1:
        raise InvalidArgument(f"{what} must be a scalar, got "
                              f"{None if v is None else np.asarray(v).shape}")
    return np.asarray(v).reshape(())


@kernel("QLinearWhere", since=1, domain="com.microsoft", fresh=True)
class QLinearWhere(OpKernel):
    """Z = where(condition, requant(X), requant(Y))."""

    def __init__(self, info):
        super().__init__(info)
        if len(info.input_names) != 9:
            raise InvalidArgument(
                "There must be 9 inputs! (condition, x, x_scale, x_zero_point, y, y_scale, "
                f"y_zero_point, z_scale, z_zero_point), got {len(info.input_names)}")
        c = info.const_inputs
        self.tables = [None, None]
        if all(v is not None for v in (c[2], c[3], c[5], c[6], c[7], c[8])):
            self.tables = [self._table(c[2], c[3], c[7], c[8], "x"),
                           self._table(c[5], c[6], c[7], c[8], "y")]

    @staticmethod
    def _table(scale, zp, z_scale, z_zp, which):
        scale, zp = _scalar(scale, f"{which}_scale"), _scalar(zp, f"{which}_zero_point")
        z_scale, z_zp = _scalar(z_scale, "z_scale"), _scalar(z_zp, "z_zero_point")
        if zp.dtype not in _TYPES or zp.dtype != z_zp.dtype:
            raise InvalidArgument(f"{which}_zero_point and z_zero_point must both be int8 or "
                                  f"both uint8, got {zp.dtype} and {z_zp.dtype}")
        if scale.dtype != np.float32 or z_scale.dtype != np.float32:
            raise InvalidArgument(f"{which}_scale and z_scale must be float32")
        return requantize_table(scale, zp, z_scale, z_zp)

    def __call__(self, condition, X, x_scale, x_zero_point, Y, y_scale, y_zero_point, z_scale,
                 z_zero_point):
        if condition.dtype != np.bool_:
            raise InvalidArgument(f"condition must be bool, got {condition.dtype}")
        tx, ty = self.tables
        if tx is None:
            tx = self._table(x_scale, x_zero_point, z_scale, z_zero_point, "x")
            ty = self._table(y_scale, y_zero_point, z_scale, z_zero_point, "y")
        for name, v in (("X", X), ("Y", Y)):
            if v.dtype != tx.dtype:
                raise InvalidArgument(f"{name} must be {tx.dtype} like the zero points, got "
                                      f"{v.dtype}")
        xq = tx[X.view(np.uint8)]
        yq = ty[Y.view(np.uint8)]
        return np.where(condition, xq, yq)
