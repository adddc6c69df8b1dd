"""com.microsoft NhwcMaxPool: MaxPool of an int8 / uint8 tensor in channels-last layout
(N, spatial..., C), as onnxruntime's NHWC transformer writes quantized models saved at
ORT_ENABLE_ALL. Attributes as ONNX MaxPool's (kernel_shape, strides, pads, dilations, auto_pad,
ceil_mode); onnxrun's MaxPool runs on the channels-first view."""

from __future__ import annotations

import copy

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..nn.pool import MaxPool
from ..registry import kernel


@kernel("NhwcMaxPool", since=1, domain="com.microsoft", fresh=True)
class NhwcMaxPool(OpKernel):
    """Y (N, out spatial..., C) = MaxPool of X (N, spatial..., C)."""

    def __init__(self, info):
        super().__init__(info)
        inner = copy.copy(info)
        inner.since_version = 7  # one output (no Indices)
        self.pool = MaxPool(inner)

    def __call__(self, x):
        if not isinstance(x, np.ndarray) or x.dtype not in (np.int8, np.uint8):
            raise InvalidArgument(f"x must be an int8 or uint8 tensor, got "
                                  f"{getattr(x, 'dtype', type(x).__name__)}")
        if x.ndim < 3:
            raise InvalidArgument(f"x must have rank >= 3 (N, spatial..., C), got {x.shape}")
        last = x.ndim - 1
        y = self.pool(np.moveaxis(x, last, 1))
        return np.ascontiguousarray(np.moveaxis(y, 1, last))
