"""FusedMatMul (com.microsoft): alpha * A' @ B' with NumPy matmul broadcasting, where A' / B'
optionally transpose their last two axes (transA / transB) and, with transBatchA /
transBatchB, move axis 0 to the row position first (onnxruntime's Transpose+MatMul fusion).
A constant B is prepared (transposed, scaled by alpha, contiguous) once at init."""

from __future__ import annotations

import numpy as np

from ..base import OpKernel
from ..math._common import F32, F64
from ..nn.gemm import matmul
from ..registry import kernel
from ._transformer import DOMAIN, compute, require_inputs


def _operand(x: np.ndarray, trans: bool, trans_batch: bool) -> np.ndarray:
    """The view of ``x`` FusedMatMul multiplies (rank-1 operands are used as they are)."""
    r = x.ndim
    if r < 2:
        return x
    perm = list(range(r))
    if trans_batch:
        perm = list(range(1, r - 1)) + [0, r - 1]
    if trans:
        perm[-1], perm[-2] = perm[-2], perm[-1]
    return x.transpose(perm) if perm != list(range(r)) else x


@kernel("FusedMatMul", since=1, domain=DOMAIN, fresh=True)
class FusedMatMul(OpKernel):
    """Y = alpha * A' @ B' (attributes alpha, transA, transB, transBatchA, transBatchB)."""

    def __init__(self, info):
        super().__init__(info)
        require_inputs(info, "A", "B")
        self.alpha = float(info.attr("alpha", 1.0))
        self.ta, self.tb = bool(info.attr("transA", 0)), bool(info.attr("transB", 0))
        self.tba, self.tbb = bool(info.attr("transBatchA", 0)), bool(info.attr("transBatchB", 0))
        B = info.const_inputs[1] if len(info.const_inputs) > 1 else None
        self.B = None
        if B is not None and B.dtype.kind == "f" and B.dtype.itemsize >= 4:
            b = _operand(B, self.tb, self.tbb)
            self.B = np.ascontiguousarray(b * B.dtype.type(self.alpha) if self.alpha != 1.0
                                          else b)

    def __call__(self, A, B):
        a = _operand(A, self.ta, self.tba)
        if self.B is not None:
            return matmul(a, self.B)
        y = matmul(a, _operand(B, self.tb, self.tbb))
        if self.alpha == 1.0:
            return y
        if y.dtype == F32 or y.dtype == F64:
            y *= y.dtype.type(self.alpha)
            return y
        return (compute(y, "Y") * F32.type(self.alpha)).astype(y.dtype)
