"""DequantizeLinear: ``y = (x - x_zero_point) * x_scale``."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from . import _blocked
from ._common import F32, elem_dtype, expand_param, int_range, to_float

_OUT = (np.dtype(np.float32), np.dtype(np.float16), np.dtype("bfloat16"))


@kernel("DequantizeLinear", since=10, fresh=True)
class DequantizeLinear(OpKernel):
    """Every opset: per-tensor, per-axis (13+), blocked (21+), ``output_dtype`` (23+)."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.axis = int(info.attr("axis", 1))
        self.block_size = int(info.attr("block_size", 0))
        if self.block_size < 0:
            raise InvalidArgument(f"block_size must be >= 0, got {self.block_size}")
        od = int(info.attr("output_dtype", 0))
        self.out_dtype = elem_dtype(od, "output_dtype") if od else None
        if self.out_dtype is not None and self.out_dtype not in _OUT:
            raise InvalidArgument(f"output_dtype must be float, float16 or bfloat16, got "
                                  f"{self.out_dtype}")
        self.pool = info.intra_op

    def __call__(self, x, x_scale, x_zero_point=None):
        out = self.out_dtype or (x_scale.dtype if x_scale.dtype in _OUT else F32)
        if x_zero_point is not None:
            if x_zero_point.dtype != x.dtype:
                raise InvalidArgument(f"x_zero_point type {x_zero_point.dtype} must equal x's "
                                      f"type {x.dtype}")
            if x_zero_point.shape != x_scale.shape and not (
                    x_zero_point.size == 1 and x_scale.size == 1):
                raise InvalidArgument(f"x_zero_point shape {x_zero_point.shape} must equal "
                                      f"x_scale shape {x_scale.shape}")
        if out == F32 and self.block_size == 0:
            p = _blocked.per_tensor(x_scale, x_zero_point, x.dtype)
            if p is not None:
                return _blocked.dequantize(x, p, self.pool)
        scale = to_float(expand_param(x_scale, x.shape, self.axis, self.block_size, "x_scale"))
        if int_range(x.dtype) is not None and x.dtype.itemsize > 2:
            v = x.astype(np.int64)  # int32: the difference needs more than 24 bits
            if x_zero_point is not None:
                v = v - expand_param(x_zero_point, x.shape, self.axis, self.block_size,
                                     "x_zero_point").astype(np.int64)
            v = v.astype(F32)
        else:  # float8/float4 and integers of <= 16 bits are exact in float32
            v = to_float(x)
            if x_zero_point is not None:
                v = v - to_float(expand_param(x_zero_point, x.shape, self.axis,
                                              self.block_size, "x_zero_point"))
        y = v * scale
        return y if y.dtype == out else y.astype(out)
