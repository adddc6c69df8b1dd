"""MatMulInteger and QLinearMatMul: exact integer products with zero points (per tensor, per
row of A, per column of B), requantized for QLinearMatMul."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import F32, int_range, saturate_cast, to_float
from ._conv import exact_matmul, shifted, to_int32
from ._float_exact import ExactMatMul, input_bound, shift_to_float


def _row_param(p, a, what):
    """A-side parameter: scalar, 1-D per row (length M) or broadcastable N-D."""
    if p is None or p.ndim == 0 or p.size == 1:
        return None if p is None else p.reshape(())
    if p.ndim == 1:
        if a.ndim < 2 or p.shape[0] != a.shape[-2]:
            raise InvalidArgument(f"{what} of shape {p.shape} must be a scalar or have one "
                                  f"entry per row of an input of shape {a.shape}")
        return p.reshape(-1, 1)
    return p


def _col_param(p, b, what):
    """B-side parameter: scalar, 1-D per column (length N) or broadcastable N-D."""
    if p is None or p.ndim == 0 or p.size == 1:
        return None if p is None else p.reshape(())
    if p.ndim == 1:
        if b.ndim < 2 or p.shape[0] != b.shape[-1]:
            raise InvalidArgument(f"{what} of shape {p.shape} must be a scalar or have one "
                                  f"entry per column of an input of shape {b.shape}")
        return p
    return p


def _check_mm(a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise InvalidArgument("matmul inputs must have rank >= 1")
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim >= 2 else b.shape[0]
    if ka != kb:
        raise InvalidArgument(f"matmul inner dimensions differ: {a.shape} @ {b.shape}")
    return ka


def _product(a, azp, b, bzp):
    """Exact ``(a - azp) @ (b - bzp)`` as float64 (float8 inputs: float64 arithmetic)."""
    k = _check_mm(a, b)
    if int_range(a.dtype) is not None and int_range(b.dtype) is not None:
        av, ba = shifted(a, azp)
        bv, bb = shifted(b, bzp)
        return exact_matmul(av, bv, ba, bb, k)
    av = to_float(a, np.dtype(np.float64))
    if azp is not None:
        av = av - to_float(azp, np.dtype(np.float64))
    bv = to_float(b, np.dtype(np.float64))
    if bzp is not None:
        bv = bv - to_float(bzp, np.dtype(np.float64))
    return np.matmul(av, bv)


class _IntegerProduct(OpKernel):
    """Shared by MatMulInteger and QLinearMatMul: with a constant 8-bit B (and zero point), B is
    shifted and converted to float32 once and products run as exact float32 GEMMs
    (``_float_exact``); other cases take the general exact path (float64)."""

    B_INDEX = 1
    BZP_INDEX = 3

    def __init__(self, info) -> None:
        super().__init__(info)
        self.fast = self.B = None
        cin = info.const_inputs
        B = cin[self.B_INDEX] if len(cin) > self.B_INDEX else None
        has_zp = len(cin) > self.BZP_INDEX and info.input_names[self.BZP_INDEX]
        bzp = cin[self.BZP_INDEX] if has_zp else None
        if B is None or B.ndim != 2 or input_bound(B.dtype) is None or (has_zp and bzp is None):
            return
        if bzp is not None and bzp.dtype != B.dtype:
            return  # reported at run time, by the general path's checks
        col = _col_param(bzp, B, "b_zero_point")
        shifted_b = B.astype(F32)  # exact: 8-bit values and their differences
        if col is not None:
            shifted_b -= col.astype(F32)
        self.fast = ExactMatMul(shifted_b, np.uint8, info.intra_op)
        self.B = B

    def product(self, A, azp, B, bzp, rounded=False):
        """Exact ``(A - azp) @ (B - bzp)``: float32 (exact integers) or float64; with
        ``rounded``, float32(acc) always."""
        if B is self.B and A.ndim >= 2 and input_bound(A.dtype) is not None:
            _check_mm(A, B)
            return self.fast(shift_to_float(A, _row_param(azp, A, "a_zero_point")), rounded)
        acc = _product(A, _row_param(azp, A, "a_zero_point"), B,
                       _col_param(bzp, B, "b_zero_point"))
        return acc.astype(F32) if rounded else acc


@kernel("MatMulInteger", since=10, fresh=True)
class MatMulInteger(_IntegerProduct):
    """int32 ``(A - a_zero_point) @ (B - b_zero_point)``."""

    def __call__(self, A, B, a_zero_point=None, b_zero_point=None):
        return to_int32(self.product(A, a_zero_point, B, b_zero_point))


@kernel("MatMulIntegerFloat", since=1, domain="com.onnxrun", fresh=True)
class MatMulIntegerFloat(_IntegerProduct):
    """``Cast(MatMulInteger(...), to=FLOAT)`` in one kernel (optimizer/fuse_integer_cast.py):
    float32 of the int32 product, taken straight from the exact float32 GEMM (no int32 array
    in between). The int32 accumulator cannot wrap where the weights bound it below 2**31;
    elsewhere it is made as MatMulInteger makes it."""

    def __call__(self, A, B, a_zero_point=None, b_zero_point=None):
        if self.fast is not None and self.fast.max_acc < 2 ** 31:
            return self.product(A, a_zero_point, B, b_zero_point, rounded=True)
        return to_int32(self.product(A, a_zero_point, B, b_zero_point)).astype(F32)


@kernel("QLinearMatMul", since=10, fresh=True)
class QLinearMatMul(_IntegerProduct):
    """Quantized matmul: exact integer accumulation, then ``rint(acc * a_scale * b_scale /
    y_scale) + y_zero_point`` with saturation to the output type."""

    B_INDEX = 3
    BZP_INDEX = 5

    def __call__(self, a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale,
                 y_zero_point):
        for name, zp, v in (("a_zero_point", a_zero_point, a), ("b_zero_point", b_zero_point, b)):
            if zp is not None and zp.dtype != v.dtype:
                raise InvalidArgument(f"{name} type {zp.dtype} must equal its input's {v.dtype}")
        acc = self.product(a, a_zero_point, b, b_zero_point, rounded=True)
        sa = to_float(_row_param(a_scale, a, "a_scale"))
        sb = to_float(_col_param(b_scale, b, "b_scale"))
        mult = (sa * sb) / to_float(y_scale.reshape(()) if y_scale.size == 1 else y_scale)
        q = acc.astype(F32) * mult.astype(F32)
        dt = y_zero_point.dtype
        if int_range(dt) is not None:
            q = np.rint(q)
        q = q + to_float(y_zero_point.reshape(()) if y_zero_point.size == 1 else y_zero_point)
        return saturate_cast(q, dt)
