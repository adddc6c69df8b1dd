"""MatMulIntegerToFloat (com.microsoft): an exact 8-bit integer matmul scaled to float
(``(A - a_zp) @ (B - b_zp) * a_scale * b_scale + bias``), the fusion onnxruntime makes of
MatMulInteger + Cast + Mul; also the shared core of DynamicQuantizeMatMul."""

from __future__ import annotations

from typing import Optional

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._quant import F32, check_q8, const_input, exact_matmul, int_matrix, require, zero_point


def b_param_per_column(p: np.ndarray, b_shape) -> bool:
    """Whether a B-side scale/zero point is one onnxruntime applies inside the product: a
    scalar, [N] for a 2-D B, or B's shape with 1 at the K axis (per column of each matrix)."""
    if p.ndim == 0 or (p.ndim == 1 and p.size == 1):
        return True
    if p.ndim == 1 and len(b_shape) == 2 and p.shape[0] == b_shape[1]:
        return True
    if p.ndim != len(b_shape) or p.ndim <= 1 or p.shape[-2] != 1:
        return False
    return all(p.shape[i] == b_shape[i] for i in range(p.ndim) if i != p.ndim - 2)


def _as_col(p: np.ndarray) -> np.ndarray:
    """A supported B parameter shaped to broadcast against [..., M, N]."""
    return p.reshape(()) if p.size == 1 and p.ndim <= 1 else p


class IntegerMatMulToFloat(OpKernel):
    """Shared core: B (input 1) shifted by its zero point once at init when constant;
    ``compute`` runs the exact product and the float scaling."""

    b_zp_index = 0  # input index of b_zero_point
    op = ""

    def __init__(self, info) -> None:
        super().__init__(info)
        self._b = None
        kb, b = const_input(info, 1)
        kz, bz = const_input(info, self.b_zp_index)
        if kb and kz and b is not None:
            self._b = self._shift_b(b, bz)

    def _shift_b(self, B, b_zero_point):
        """(B - b_zp) as an exact integer matrix."""
        check_q8(B, f"{self.op}: B")
        if B.ndim < 2:
            raise InvalidArgument(f"{self.op}: B must have rank >= 2, got shape {B.shape}")
        if b_zero_point is None:
            return int_matrix(B)
        if b_zero_point.dtype != B.dtype:
            raise InvalidArgument(f"{self.op}: b_zero_point type {b_zero_point.dtype} must "
                                  f"equal B's type {B.dtype}")
        if not b_param_per_column(b_zero_point, B.shape):
            raise InvalidArgument(f"{self.op}: b_zero_point of shape {b_zero_point.shape} "
                                  f"must be a scalar or per column of B {B.shape}")
        return int_matrix(B.astype(F32) - _as_col(b_zero_point).astype(F32))

    def compute(self, a: np.ndarray, B, b_zero_point, a_scale, b_scale: np.ndarray,
                bias: Optional[np.ndarray], out_dtype) -> np.ndarray:
        """``a`` holds the zero-point-shifted A (exact float32 integers); ``a_scale`` is a
        float32 scalar or None (then applied to the output, broadcast, after the bias)."""
        b = self._b if self._b is not None else self._shift_b(B, b_zero_point)
        shape = b.w.shape
        if a.ndim < 1 or a.shape[-1] != shape[-2]:
            raise InvalidArgument(f"{self.op}: inner dimensions differ: A {a.shape} @ B "
                                  f"{shape}")
        try:
            np.broadcast_shapes(a.shape[:-2], shape[:-2])
        except ValueError:
            raise InvalidArgument(f"{self.op}: batch dimensions of A {a.shape} and B "
                                  f"{shape} are not broadcastable") from None
        acc = exact_matmul(a, b).astype(F32, copy=False)  # exact to 2**24, rounded above
        inside = b_param_per_column(b_scale, shape)
        mult = _as_col(b_scale).astype(F32) if inside else np.float32(1)
        if a_scale is not None:
            mult = np.float32(a_scale) * mult
        y = acc * mult
        if bias is not None:
            if bias.ndim != 1 or bias.shape[0] != shape[-1]:
                raise InvalidArgument(f"{self.op}: bias must have shape ({shape[-1]},), got "
                                      f"{bias.shape}")
            y = y + bias.astype(F32)
        if not inside:
            y = self._scale_output(y, b_scale, "b_scale")
        return y if y.dtype == out_dtype else y.astype(out_dtype)

    def _scale_output(self, y, scale, what):
        try:
            return (y * scale.astype(F32)).astype(F32, copy=False)
        except ValueError:
            raise InvalidArgument(f"{self.op}: {what} of shape {scale.shape} does not "
                                  f"broadcast to the output shape {y.shape}") from None


@kernel("MatMulIntegerToFloat", domain="com.microsoft", since=1, fresh=True)
class MatMulIntegerToFloat(IntegerMatMulToFloat):
    """``Y = (A - a_zp) @ (B - b_zp) * (a_scale * b_scale) + bias`` (float32 or float16, the
    scales' type). A per-tensor a_scale and a per-column b_scale enter the product; other
    scale shapes multiply the output after the bias, like onnxruntime (which also swaps a_scale
    and b_scale when their shapes show they were exchanged by its fusion)."""

    b_zp_index = 5
    op = "MatMulIntegerToFloat"

    def __call__(self, A, B, a_scale, b_scale, a_zero_point=None, b_zero_point=None,
                 bias=None):
        dt = check_q8(A, f"{self.op}: A")
        out_dtype = require(a_scale, f"{self.op}: a_scale").dtype
        if out_dtype not in (np.dtype(np.float32), np.dtype(np.float16)) or \
                b_scale.dtype != out_dtype:
            raise InvalidArgument(f"{self.op}: a_scale and b_scale must both be float or "
                                  f"float16, got {a_scale.dtype} and {b_scale.dtype}")
        a_scale, b_scale = _fix_swapped(a_scale, b_scale)
        za = zero_point(a_zero_point, dt, f"{self.op}: a_zero_point")
        a = A.astype(F32) - np.float32(za)
        per_tensor = a_scale.size == 1 and a_scale.ndim <= 1
        y = self.compute(a, B, b_zero_point, np.float32(a_scale.reshape(-1)[0])
                         if per_tensor else None, b_scale, bias, np.dtype(F32))
        if not per_tensor:
            y = self._scale_output(y, a_scale, "a_scale")
        return y.astype(out_dtype, copy=False)


def _fix_swapped(a_scale, b_scale):
    """onnxruntime's repair of scales its fusion may have exchanged: a non-scalar a_scale that
    is 1-D or not [..., M, 1]-shaped, or a b_scale shaped [..., M, 1], trade places."""
    if not (a_scale.size == 1 and a_scale.ndim <= 1):
        if a_scale.ndim == 1 or a_scale.shape[-1] != 1:
            return b_scale, a_scale
    elif not (b_scale.size == 1 and b_scale.ndim <= 1):
        if b_scale.ndim > 1 and b_scale.shape[-2] != 1:
            return b_scale, a_scale
    return a_scale, b_scale
