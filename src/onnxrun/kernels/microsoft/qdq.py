"""QuantizeLinear and DequantizeLinear in the com.microsoft domain (onnxruntime's quantizer
emits them there for types the ONNX opset in use lacks: int16/uint16, int4/uint4): the ONNX
kernels' semantics, per tensor or per ``axis`` (default 1)."""

from __future__ import annotations

import numpy as np

from ..quant.dequantize_linear import DequantizeLinear as _OnnxDequantizeLinear
from ..quant.quantize_linear import QuantizeLinear as _OnnxQuantizeLinear
from ..registry import kernel


@kernel("QuantizeLinear", domain="com.microsoft", since=1, fresh=True)
class QuantizeLinear(_OnnxQuantizeLinear):
    """``y = saturate(round_half_even(x / y_scale) + y_zero_point)``; the output type is the
    zero point's (uint8 without one). float16 inputs are divided in float32 (onnxruntime's
    contrib kernel; the ONNX kernel rounds the quotient to float16 first)."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.precision = np.dtype(np.float32)


@kernel("DequantizeLinear", domain="com.microsoft", since=1, fresh=True)
class DequantizeLinear(_OnnxDequantizeLinear):
    """``y = (x - x_zero_point) * x_scale`` in the scale's type (float or float16)."""
