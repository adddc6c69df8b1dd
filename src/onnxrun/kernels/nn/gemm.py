"""Gemm and MatMul: BLAS through NumPy. Constant B is pre-transposed (and pre-scaled by alpha)
at init; 16-bit floats compute in float32."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from .. import _parallel
from ..base import OpKernel
from ..registry import kernel
from ._common import compute_dtype


#: constant B up to this size is stored transposed and contiguous at init; larger ones (e.g.
#: the 400 MB fully connected layers of VGG) are used through a transposed view instead.
PRETRANSPOSE_MAX_BYTES = 16 << 20


def _gemm_dtype(dt):
    """Integers multiply natively (exact); 16-bit floats in float32."""
    return dt if dt.kind in "iu" else compute_dtype(dt)


@kernel("Gemm", since=1, fresh=True)
class Gemm(OpKernel):
    """Y = alpha * A' @ B' + beta * C (A', B' optionally transposed; C broadcast to (M, N))."""

    def __init__(self, info):
        super().__init__(info)
        self.alpha = float(info.attr("alpha", 1.0))
        self.beta = float(info.attr("beta", 1.0))
        self.transA = bool(info.attr("transA", 0))
        self.transB = bool(info.attr("transB", 0))
        self.pool = info.intra_op
        c = info.const_inputs
        self.Bprep = {}
        if len(c) > 1 and c[1] is not None:
            Bc = c[1]
            if Bc.ndim != 2:
                raise InvalidArgument(f"B must be 2-D, got shape {Bc.shape}")
            cdt = _gemm_dtype(Bc.dtype)
            b = Bc.T if self.transB else Bc
            if b.dtype != cdt or b.nbytes <= PRETRANSPOSE_MAX_BYTES:
                b = np.ascontiguousarray(b, dtype=cdt)
            # else: keep the transposed view (BLAS reads it as is) rather than hold two copies
            if self.alpha != 1.0 and cdt.kind == "f":
                b = b * cdt.type(self.alpha)
                self.Bprep[Bc.dtype] = (b, True)  # (K, N), alpha applied
            else:
                self.Bprep[Bc.dtype] = (b, False)

    def __call__(self, A, B, C=None):
        if A.ndim != 2 or B.ndim != 2:
            raise InvalidArgument(f"A and B must be 2-D, got shapes {A.shape} and {B.shape}")
        dt = A.dtype
        cdt = _gemm_dtype(dt)
        a = A.T if self.transA else A
        if a.dtype != cdt:
            a = a.astype(cdt)
        b, alpha_done = self.Bprep.get(B.dtype, (None, False))
        if b is None:
            b = B.T if self.transB else B
            if b.dtype != cdt:
                b = b.astype(cdt)
        if a.shape[1] != b.shape[0]:
            raise InvalidArgument(
                f"inner dimensions differ: A' is {a.shape}, B' is {b.shape}")
        Y = _parallel.matmul(a, b, self.pool)
        if not alpha_done and self.alpha != 1.0:
            if cdt.kind == "f":
                Y *= cdt.type(self.alpha)
            else:
                Y = (Y * self.alpha).astype(cdt)
        if C is not None and self.beta != 0.0:
            c = C if C.dtype == cdt else C.astype(cdt)
            try:
                np.broadcast_shapes(c.shape, Y.shape)
            except ValueError:
                raise InvalidArgument(
                    f"C of shape {C.shape} cannot be broadcast to {Y.shape}") from None
            if np.broadcast_shapes(c.shape, Y.shape) != Y.shape:
                raise InvalidArgument(f"C of shape {C.shape} cannot be broadcast to {Y.shape}")
            if self.beta == 1.0:
                Y += c
            elif cdt.kind == "f":
                Y += c * cdt.type(self.beta)
            else:
                Y += (c * self.beta).astype(cdt)
        return Y.astype(dt, copy=False)


@kernel("MatMul", since=1, fresh=True)
class MatMul(OpKernel):
    """NumPy-semantics matrix product (N-D broadcasting, 1-D promotion), large products split
    on the intra-op pool."""

    def __init__(self, info):
        super().__init__(info)
        self.pool = info.intra_op

    def __call__(self, A, B):
        return matmul(A, B, self.pool)


def matmul(A, B, pool=None):
    """``np.matmul`` with ONNX's checks and 16-bit floats computed in float32."""
    if A.ndim == 0 or B.ndim == 0:
        raise InvalidArgument(f"MatMul inputs must have rank >= 1, got {A.shape} and {B.shape}")
    ka = A.shape[-1]
    kb = B.shape[-2] if B.ndim >= 2 else B.shape[0]
    if ka != kb:
        raise InvalidArgument(f"MatMul inner dimensions differ: {A.shape} @ {B.shape}")
    try:
        np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    except ValueError:
        raise InvalidArgument(
            f"MatMul batch dimensions do not broadcast: {A.shape} @ {B.shape}") from None
    dt = A.dtype
    cdt = compute_dtype(dt)
    if dt.kind in "iu":
        cdt = dt
    if cdt != dt:
        return _parallel.matmul(A.astype(cdt), B.astype(cdt), pool).astype(dt)
    if A.ndim > 2 and B.ndim == 2 and A.flags.c_contiguous:
        # (..., M, K) @ (K, N) as one GEMM over the flattened leading dimensions
        return _parallel.matmul(A.reshape(-1, ka), B, pool).reshape(A.shape[:-1] + (B.shape[1],))
    Y = _parallel.matmul(A, B, pool)
    if isinstance(Y, np.ndarray):
        return Y
    return np.asarray(Y, dtype=dt)
