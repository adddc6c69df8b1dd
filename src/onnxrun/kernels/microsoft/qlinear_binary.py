"""QLinearAdd and QLinearMul (com.microsoft): elementwise 8-bit arithmetic with NumPy
broadcasting and per-tensor scales and zero points, in onnxruntime's x86 float32 arithmetic
(bit-exact: same operations, same rounding order)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._quant import F32, check_q8, fma32, saturate, scale_value, zero_point


def _scalar_side(a_shape, b_shape) -> int:
    """Which input onnxruntime's broadcaster treats as a scalar within each output span:
    0 (A), 1 (B) or -1 (neither). A span runs along the innermost output dimensions, so an input
    is scalar there when it has one element or is broadcast along the innermost output
    dimension longer than 1."""
    a_size, b_size = int(np.prod(a_shape)), int(np.prod(b_shape))
    if a_size == 1:
        return 0
    if b_size == 1:
        return 1
    out = np.broadcast_shapes(tuple(a_shape), tuple(b_shape))
    r = len(out)
    a = (1,) * (r - len(a_shape)) + tuple(a_shape)
    b = (1,) * (r - len(b_shape)) + tuple(b_shape)
    for i in range(r - 1, -1, -1):
        if out[i] > 1:
            if a[i] == 1:
                return 0
            if b[i] == 1:
                return 1
            return -1
    return -1


class _QLinearBinary(OpKernel):
    """Input checks shared by QLinearAdd and QLinearMul; subclasses define ``compute``."""

    op = ""

    def __call__(self, A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale,
                 C_zero_point=None):
        dt = check_q8(A, f"{self.op}: A")
        if B.dtype != dt:
            raise InvalidArgument(f"{self.op}: A and B must have the same type, got {dt} and "
                                  f"{B.dtype}")
        sa = scale_value(A_scale, f"{self.op}: A_scale")
        sb = scale_value(B_scale, f"{self.op}: B_scale")
        sc = scale_value(C_scale, f"{self.op}: C_scale")
        za = zero_point(A_zero_point, dt, f"{self.op}: A_zero_point")
        zb = zero_point(B_zero_point, dt, f"{self.op}: B_zero_point")
        zc = zero_point(C_zero_point, dt, f"{self.op}: C_zero_point")
        try:
            np.broadcast_shapes(A.shape, B.shape)
        except ValueError:
            raise InvalidArgument(f"{self.op}: shapes {A.shape} and {B.shape} are not "
                                  "broadcastable") from None
        a = A.astype(F32)
        b = B.astype(F32)
        return saturate(np.rint(self.compute(a, sa, za, b, sb, zb, sc, zc, A.shape, B.shape)),
                        dt)


@kernel("QLinearAdd", domain="com.microsoft", since=1, fresh=True)
class QLinearAdd(_QLinearBinary):
    """``C = (A_scale (A - A_zp) + B_scale (B - B_zp)) / C_scale + C_zp``, computed like
    onnxruntime's AVX2 kernel: ``ra = A_scale / C_scale``, ``rb = B_scale / C_scale``,
    ``c0 = C_zp - fma(ra, A_zp, rb B_zp)``, then ``fma(A, ra, fma(B, rb, c0))`` (each fused
    multiply-add rounded once); where A is the scalar of a broadcast span, A and B swap roles
    as in onnxruntime. Checked bit-exact against onnxruntime on every input pair."""

    op = "QLinearAdd"

    def compute(self, a, sa, za, b, sb, zb, sc, zc, a_shape, b_shape):
        if _scalar_side(a_shape, b_shape) == 0:
            # onnxruntime passes the span input first: A and B swap roles
            a, sa, za, b, sb, zb = b, sb, zb, a, sa, za
        ra = np.float32(sa / sc)
        rb = np.float32(sb / sc)
        fixed = np.float32(zc) - fma32(ra, np.float32(za), np.float32(rb * np.float32(zb)))
        return fma32(a, ra, fma32(b, rb, fixed))


@kernel("QLinearMul", domain="com.microsoft", since=1, fresh=True)
class QLinearMul(_QLinearBinary):
    """``C = (A - A_zp)(B - B_zp) * (A_scale B_scale / C_scale) + C_zp``: the exact integer
    product times the float32 ratio, plus the zero point, rounded half to even (onnxruntime's
    SSE kernel)."""

    op = "QLinearMul"

    def compute(self, a, sa, za, b, sb, zb, sc, zc, a_shape, b_shape):
        ratio = np.float32(np.float32(sa * sb) / sc)
        prod = (a - np.float32(za)) * (b - np.float32(zb))  # exact: |product| < 2**17
        return prod * ratio + np.float32(zc)
