"""QGemm (com.microsoft): quantized Gemm with an optional int32 C, requantized to 8 bits, or
float32 output when y_scale is absent (onnxruntime's QOperator Gemm)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._quant import (F32, check_q8, const_input, exact_matmul, int_matrix, requantize, require,
                     scalar, scale_value, zero_point)


def column_param(p: np.ndarray, n: int, what: str) -> np.ndarray:
    """A per-tensor (scalar or 1 element) or per-column ([n]) parameter, as a 1-D array."""
    if p.size == 1 and p.ndim <= 1:
        return p.reshape(1)
    if p.ndim != 1 or p.shape[0] != n:
        raise InvalidArgument(f"{what} must be a scalar or a 1-D tensor of {n} entries (one "
                              f"per column), got shape {p.shape}")
    return p


@kernel("QGemm", domain="com.microsoft", since=1, fresh=True)
class QGemm(OpKernel):
    """``acc = C + (A' - a_zp) @ (B' - b_zp)`` (int32, A' and B' transposed as asked), then
    ``Y = requantize(acc, alpha * a_scale * b_scale / y_scale, y_zp)`` or, without y_scale,
    ``Y = float32(acc) * (alpha * a_scale * b_scale)``; b_scale and b_zero_point may be per
    column. The product is exact (integer values through float32 BLAS in exact chunks)."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.trans_a = bool(info.attr("transA", 0))
        self.trans_b = bool(info.attr("transB", 0))
        self.alpha = np.float32(info.attr("alpha", 1.0))
        self._b = None
        kb, b = const_input(info, 3)
        kz, bz = const_input(info, 5)
        if kb and kz and b is not None:
            self._b = self._shift_b(b, bz)

    def _shift_b(self, B, b_zero_point):
        """(B - b_zp) [K, N] as an exact integer matrix."""
        check_q8(B, "QGemm: B")
        if B.ndim != 2:
            raise InvalidArgument(f"QGemm: B must be 2-D, got shape {B.shape}")
        b = B.T if self.trans_b else B
        zp = column_param(require(b_zero_point, "QGemm: b_zero_point"), b.shape[1],
                          "QGemm: b_zero_point")
        if zp.dtype != B.dtype:
            raise InvalidArgument(f"QGemm: b_zero_point type {zp.dtype} must equal B's type "
                                  f"{B.dtype}")
        return int_matrix(b.astype(F32) - zp.astype(F32))

    def __call__(self, A, a_scale, a_zero_point, B, b_scale, b_zero_point, C=None,
                 y_scale=None, y_zero_point=None):
        dt = check_q8(A, "QGemm: A")
        if A.ndim != 2:
            raise InvalidArgument(f"QGemm: A must be 2-D, got shape {A.shape}")
        bw = self._b if self._b is not None else self._shift_b(B, b_zero_point)
        a = A.T if self.trans_a else A
        M, K = a.shape
        if bw.w.shape[0] != K:
            raise InvalidArgument(f"QGemm: inner dimensions differ: A {A.shape} (transA="
                                  f"{int(self.trans_a)}), B {B.shape} (transB="
                                  f"{int(self.trans_b)})")
        N = bw.w.shape[1]
        sa = scale_value(a_scale, "QGemm: a_scale")
        za = zero_point(require(a_zero_point, "QGemm: a_zero_point"), dt, "QGemm: a_zero_point")
        if b_scale.dtype != F32:
            raise InvalidArgument(f"QGemm: b_scale must be float32, got {b_scale.dtype}")
        sb = column_param(b_scale, N, "QGemm: b_scale")
        acc = exact_matmul(a.astype(F32) - np.float32(za), bw)
        if C is not None:
            if C.dtype != np.int32:
                raise InvalidArgument(f"QGemm: C must be int32, got {C.dtype}")
            try:
                acc = acc + np.broadcast_to(C, (M, N))
            except ValueError:
                raise InvalidArgument(f"QGemm: C of shape {C.shape} is not broadcastable to "
                                      f"{(M, N)}") from None
        acc = acc.astype(np.int64).astype(np.int32)  # int32 accumulation wraps
        scale = (self.alpha * sa) * sb
        if y_scale is None:
            if y_zero_point is not None:
                raise InvalidArgument("QGemm: y_zero_point given without y_scale")
            return acc.astype(F32) * scale
        scale = scale / scale_value(y_scale, "QGemm: y_scale")
        ydt = check_q8(require(y_zero_point, "QGemm: y_zero_point"), "QGemm: y_zero_point")
        return requantize(acc, scale, int(scalar(y_zero_point, "QGemm: y_zero_point")), ydt)
