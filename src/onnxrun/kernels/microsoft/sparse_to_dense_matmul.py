"""SparseToDenseMatMul (com.microsoft): ``alpha * op(A) @ op(B)`` for a sparse A and a dense B.

onnxrun hands kernels sparse tensors densified (sparse initializers and Constant values at load,
``SparseTensor`` feeds on conversion), so A reaches the kernel dense; the product is then a dense
matmul."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..registry import kernel

_TYPES = tuple(np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64, np.uint32,
                                     np.uint64))


@kernel("SparseToDenseMatMul", domain="com.microsoft", since=1, fresh=True)
def sparse_to_dense_matmul(A, B, alpha=1.0, transA=0, transB=0):
    """2-D ``Y = alpha * op(A) @ op(B)`` in B's type (alpha cast to an integer type for integer
    tensors, as onnxruntime's kernel does)."""
    if A.dtype not in _TYPES or B.dtype != A.dtype:
        raise InvalidArgument(f"SparseToDenseMatMul: A and B must have the same type among "
                              f"float, double, int32, int64, uint32, uint64; got {A.dtype} and "
                              f"{B.dtype}")
    if A.ndim != 2 or B.ndim != 2:
        raise InvalidArgument(f"SparseToDenseMatMul: A and B must be 2-D, got {A.shape} and "
                              f"{B.shape}")
    a = A.T if transA else A
    b = B.T if transB else B
    if a.shape[1] != b.shape[0]:
        raise InvalidArgument(f"SparseToDenseMatMul: inner dimensions differ: op(A) "
                              f"{a.shape} @ op(B) {b.shape}")
    y = np.matmul(a, b)
    return y * B.dtype.type(alpha) if alpha != 1 else y
