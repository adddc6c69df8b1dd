"""FusedMatMul (com.onnxrun): MatMul + bias (+ activation), the bias added in place on the
product. Created by the optimizer from MatMul followed by Add of a constant vector."""

from __future__ import annotations

import numpy as np

from .. import _parallel
from ..base import OpKernel
from ..registry import kernel
from . import _activation

DOMAIN = "com.onnxrun"


@kernel("FusedMatMul", since=1, domain=DOMAIN, fresh=True)
class FusedMatMul(OpKernel):
    def __init__(self, info):
        super().__init__(info)
        name = info.attrs.get("activation", "")
        self.act = _activation.make(name, info.attrs.get("activation_params", [])) if name else None
        self.pool = info.intra_op
        B = info.const_inputs[1] if len(info.const_inputs) > 1 else None
        # a constant 2-D right operand stored contiguous once, so BLAS gets it without copies
        self.B = np.ascontiguousarray(B) if B is not None and B.ndim == 2 else None

    def __call__(self, A, B, bias=None):
        if self.B is not None:
            B = self.B
        if A.ndim > 2 and B.ndim == 2:
            y = _parallel.matmul(A.reshape(-1, A.shape[-1]), B, self.pool).reshape(
                A.shape[:-1] + (B.shape[1],))
        else:
            y = _parallel.matmul(A, B, self.pool)
        if bias is not None:
            if y.dtype == np.result_type(y, bias):
                y += bias
            else:
                y = y + bias
        if self.act is not None:
            self.act(y)
        return y
