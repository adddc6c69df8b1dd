"""DynamicQuantizeMatMul (com.microsoft): float A quantized to uint8 on the fly (onnxruntime's
dynamic quantization), times a constant 8-bit B, scaled back to float32 (``quantize_dynamic``
of MatMul after onnxruntime's fusion)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..registry import kernel
from ._quant import F32, dynamic_uint8_params, quantize
from .matmul_integer_to_float import IntegerMatMulToFloat


@kernel("DynamicQuantizeMatMul", domain="com.microsoft", since=1, fresh=True)
class DynamicQuantizeMatMul(IntegerMatMulToFloat):
    """``Y = (qA - a_zp) @ (B - b_zp) * (a_scale * b_scale) + bias`` where ``qA``, ``a_scale``
    and ``a_zp`` quantize A to uint8 over its range [min(0, min A), max(0, max A)] (round half to
    even); b_scale and b_zero_point per tensor or per column."""

    b_zp_index = 3
    op = "DynamicQuantizeMatMul"

    def __call__(self, A, B, b_scale, b_zero_point=None, bias=None):
        if A.dtype != F32:
            raise InvalidArgument(f"{self.op}: A must be float32, got {A.dtype}")
        if b_scale.dtype != F32:
            raise InvalidArgument(f"{self.op}: b_scale must be float32, got {b_scale.dtype}")
        scale, zp = dynamic_uint8_params(A)
        qa = quantize(A, scale, zp, np.dtype(np.uint8))
        a = qa.astype(F32) - np.float32(zp)
        return self.compute(a, B, b_zero_point, scale, b_scale, bias, np.dtype(F32))
