"""com.microsoft SparseToDenseMatMul: ``Y = alpha * op(A) @ op(B)``, A a sparse tensor.

onnxrun hands kernels sparse tensors densified (feeds are densified on conversion, sparse
initializers at load), so this is a dense product with the op's attributes."""

from __future__ import annotations

import numpy as np

from ..base import OpKernel
from ..registry import kernel
from ...errors import InvalidArgument


@kernel("SparseToDenseMatMul", since=1, domain="com.microsoft", fresh=True)
class SparseToDenseMatMul(OpKernel):
    def __init__(self, info):
        super().__init__(info)
        self.alpha = float(info.attr("alpha", 1.0))
        self.trans_a = bool(info.attr("transA", 0))
        self.trans_b = bool(info.attr("transB", 0))

    def __call__(self, A, B):
        if A.ndim != 2 or B.ndim != 2:
            raise InvalidArgument(f"A and B must be 2-D, got shapes {list(A.shape)} and "
                                  f"{list(B.shape)}")
        a = A.T if self.trans_a else A
        b = B.T if self.trans_b else B
        if a.shape[1] != b.shape[0]:
            raise InvalidArgument(f"inner dimensions differ: op(A) is {list(a.shape)}, op(B) is "
                                  f"{list(b.shape)}")
        y = np.matmul(a, b)
        if self.alpha != 1.0:
            y = (y * y.dtype.type(self.alpha)).astype(y.dtype, copy=False)
        return y
