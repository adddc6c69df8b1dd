"""QLinearConcat (com.microsoft): concatenation of 8-bit tensors, each requantized from its own
scale and zero point to the output's through a 256-entry lookup table (a plain copy when they
are equal), as onnxruntime does."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._quant import check_q8, lookup_table, scale_value, zero_point


@kernel("QLinearConcat", domain="com.microsoft", since=1, fresh=True)
class QLinearConcat(OpKernel):
    """Inputs: Y_scale, Y_zero_point, then one (tensor, scale, zero point) triple per input."""

    def __init__(self, info) -> None:
        super().__init__(info)
        if "axis" not in info.attrs:
            raise InvalidArgument("QLinearConcat: attribute 'axis' is required")
        self.axis = int(info.attrs["axis"])
        n = len(info.input_names)
        if n < 5 or (n - 2) % 3:
            raise InvalidArgument(f"QLinearConcat: inputs must be Y_scale, Y_zero_point and "
                                  f"(tensor, scale, zero_point) triples, got {n} inputs")
        # requantization tables of inputs whose parameters are all constants, built once
        c = info.const_inputs
        self._tables = {}
        if c[0] is not None and c[1] is not None:
            for i in range(2, n, 3):
                if c[i + 1] is not None and c[i + 2] is not None:
                    self._tables[(i - 2) // 3] = self._table(c[0], c[1], c[i + 1], c[i + 2],
                                                             f"QLinearConcat: input {i // 3}")

    @staticmethod
    def _table(ys, yz, xs, xz, what):
        """None (a plain copy) or the lookup table taking the input's codes to Y's."""
        dt = check_q8(yz, "QLinearConcat: Y_zero_point")
        sy = scale_value(ys, "QLinearConcat: Y_scale")
        zy = zero_point(yz, dt, "QLinearConcat: Y_zero_point")
        sx = scale_value(xs, f"{what} scale")
        zx = zero_point(xz, dt, f"{what} zero point")
        return None if (sx == sy and zx == zy) else lookup_table(dt, sx, zx, sy, zy)

    def __call__(self, Y_scale, Y_zero_point, *inputs):
        if Y_zero_point is None:
            raise InvalidArgument("QLinearConcat: Y_zero_point is required")
        dt = check_q8(Y_zero_point, "QLinearConcat: Y_zero_point")
        parts = []
        for i in range(0, len(inputs), 3):
            x, xs, xz = inputs[i:i + 3]
            what = f"QLinearConcat: input {i // 3}"
            if x is None or xs is None or xz is None:
                raise InvalidArgument(f"{what}: tensor, scale and zero point are required")
            if x.dtype != dt:
                raise InvalidArgument(f"{what} has type {x.dtype}, expected {dt} (the type of "
                                      "Y_zero_point)")
            if i // 3 in self._tables:
                table = self._tables[i // 3]
            else:
                table = self._table(Y_scale, Y_zero_point, xs, xz, what)
            parts.append(x if table is None else table[x.view(np.uint8)])
        rank = parts[0].ndim
        if not -rank <= self.axis < rank:
            raise InvalidArgument(f"QLinearConcat: axis {self.axis} is out of range for rank "
                                  f"{rank}")
        ax = self.axis % rank
        for p in parts:
            if p.ndim != rank or p.shape[:ax] + p.shape[ax + 1:] != \
                    parts[0].shape[:ax] + parts[0].shape[ax + 1:]:
                raise InvalidArgument(f"QLinearConcat: input shapes {[q.shape for q in parts]} "
                                      f"differ outside axis {self.axis}")
        return np.concatenate(parts, axis=ax)
