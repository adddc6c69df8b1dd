"""QLinearSigmoid and QLinearLeakyRelu (com.microsoft): 8-bit elementwise activations through
a 256-entry lookup table ``quantize(f(dequantize(x)))``, built once at initialization when the
scales and zero points are constants (as onnxruntime does)."""

from __future__ import annotations

import numpy as np

from ..base import OpKernel
from ..registry import kernel
from ._quant import (F32, Q8, check_q8, const_input, lookup_table, require, scale_value,
                     zero_point)


class _QLinearLookup(OpKernel):
    """Inputs X, X_scale, X_zero_point, Y_scale, Y_zero_point; subclasses define ``f``."""

    op = ""

    def __init__(self, info) -> None:
        super().__init__(info)
        self._table = None
        known = [const_input(info, i) for i in (1, 2, 3, 4)]
        x_t = info.input_types[0] if info.input_types else None
        dt = np.dtype(x_t.dtype) if getattr(x_t, "elem", None) else None
        if all(k for k, _ in known) and known[0][1] is not None and known[2][1] is not None \
                and dt in Q8:
            self._table = self._build(dt, *(v for _, v in known))

    def _build(self, dt, x_scale, x_zp, y_scale, y_zp):
        sx = scale_value(x_scale, f"{self.op}: X_scale")
        sy = scale_value(y_scale, f"{self.op}: Y_scale")
        zx = zero_point(x_zp, dt, f"{self.op}: X_zero_point")
        zy = zero_point(y_zp, dt, f"{self.op}: Y_zero_point")
        return lookup_table(dt, sx, zx, sy, zy, self.f)

    def __call__(self, X, X_scale, X_zero_point=None, Y_scale=None, Y_zero_point=None):
        dt = check_q8(X, f"{self.op}: X")
        table = self._table
        if table is None or table.dtype != dt:
            require(Y_scale, f"{self.op}: Y_scale")
            table = self._build(dt, X_scale, X_zero_point, Y_scale, Y_zero_point)
        return table[X.view(np.uint8)]


@kernel("QLinearLeakyRelu", domain="com.microsoft", since=1, fresh=True)
class QLinearLeakyRelu(_QLinearLookup):
    """``quantize(x >= 0 ? x : alpha * x)`` of the dequantized input (float32; bit-exact)."""

    op = "QLinearLeakyRelu"

    def __init__(self, info) -> None:
        self.alpha = np.float32(info.attr("alpha", 0.01))
        super().__init__(info)

    def f(self, x):
        return np.where(x >= 0, x, self.alpha * x).astype(F32)


@kernel("QLinearSigmoid", domain="com.microsoft", since=1, fresh=True)
class QLinearSigmoid(_QLinearLookup):
    """``quantize(1 / (1 + exp(-x)))`` of the dequantized input. The sigmoid is computed
    exactly (float64, rounded to float32); onnxruntime uses a polynomial approximation, so a
    table entry whose value lies within ~1e-7 of a rounding boundary can differ by one."""

    op = "QLinearSigmoid"

    def f(self, x):
        with np.errstate(over="ignore"):  # exp overflow -> inf -> sigmoid 0, as it should
            return (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(F32)
