"""QuantizeLinear: ``y = saturate(round_half_even(x / y_scale) + y_zero_point)``."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from . import _blocked
from ._common import (F32, FLOAT_Q, elem_dtype, expand_param, int_range, saturate_cast,
                      to_float)

_LOW = (np.dtype(np.float16), np.dtype("bfloat16"))


@kernel("QuantizeLinear", since=10, fresh=True)
class QuantizeLinear(OpKernel):
    """Every opset: per-tensor, per-axis (13+), blocked (21+), ``output_dtype`` (21+),
    ``saturate`` for float8 (19+), ``precision`` (23+)."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.axis = int(info.attr("axis", 1))
        self.block_size = int(info.attr("block_size", 0))
        if self.block_size < 0:
            raise InvalidArgument(f"block_size must be >= 0, got {self.block_size}")
        self.saturate = bool(info.attr("saturate", 1))
        od = int(info.attr("output_dtype", 0))
        self.out_dtype = elem_dtype(od, "output_dtype") if od else None
        pr = int(info.attr("precision", 0))
        self.precision = elem_dtype(pr, "precision") if pr else None
        self.pool = info.intra_op

    def __call__(self, x, y_scale, y_zero_point=None):
        dt = self.out_dtype
        if y_zero_point is not None:
            if dt is not None and y_zero_point.dtype != dt:
                raise InvalidArgument(f"output_dtype {dt} differs from y_zero_point's type "
                                      f"{y_zero_point.dtype}")
            dt = y_zero_point.dtype
        if dt is None:
            dt = np.dtype(np.uint8)
        if int_range(dt) is None and dt not in FLOAT_Q:
            raise InvalidArgument(f"unsupported quantized output type {dt}")
        if y_zero_point is not None and y_zero_point.shape != y_scale.shape and not (
                y_zero_point.size == 1 and y_scale.size == 1):
            raise InvalidArgument(f"y_zero_point shape {y_zero_point.shape} must equal y_scale "
                                  f"shape {y_scale.shape}")
        prec = self.precision or y_scale.dtype
        if x.dtype == F32 and prec == F32 and self.block_size == 0:
            p = _blocked.per_tensor(y_scale, y_zero_point, dt)
            if p is not None:
                return _blocked.quantize(x, p, dt, self.pool)
        scale = expand_param(y_scale, x.shape, self.axis, self.block_size, "y_scale")
        if prec == np.float64:
            q = to_float(x, np.dtype(np.float64)) / to_float(scale, np.dtype(np.float64))
        else:
            q = to_float(x) / to_float(scale)
            if prec in _LOW:
                q = q.astype(prec).astype(F32)
        if int_range(dt) is not None:
            q = np.rint(q)
        if y_zero_point is not None:
            zp = expand_param(y_zero_point, x.shape, self.axis, self.block_size,
                              "y_zero_point")
            q = q + to_float(zp, q.dtype)
        return saturate_cast(q, dt, self.saturate)
