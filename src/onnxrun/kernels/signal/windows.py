"""HannWindow, HammingWindow, BlackmanWindow (opset 17): generalized cosine windows."""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import output_dtype, scalar_int

from .._alloc import max_bytes


class _CosineWindow(OpKernel):
    """w[n] = sum_k (-1)^k a_k cos(2 pi k n / N), N = size (periodic) or size - 1."""

    coeffs = ()

    def __init__(self, info) -> None:
        super().__init__(info)
        self.periodic = bool(info.attr("periodic", 1))
        self.dtype = output_dtype(info.attr("output_datatype", 1))
        self.limit = max_bytes(info)

    def __call__(self, size):
        n = scalar_int(size, "size")
        if n < 0:
            raise InvalidArgument(f"size must be non-negative; got {n}")
        if n * self.dtype.itemsize > self.limit:
            raise InvalidArgument(f"a window of {n} elements exceeds the allowed {self.limit} "
                                  "bytes")
        denom = n if self.periodic else n - 1
        k = np.arange(n, dtype=np.float64)
        if denom <= 0:
            w = np.ones(n, np.float64)
        else:
            w = np.zeros(n, np.float64)
            for j, a in enumerate(self.coeffs):
                w += (-1) ** j * a * np.cos(2.0 * math.pi * j * k / denom)
        if self.dtype != np.float64:
            # through float32 first, as onnxruntime does (integer outputs truncate that value)
            w = w.astype(np.float32)
        return w.astype(self.dtype)


@kernel("HannWindow", since=17, fresh=True)
class HannWindow(_CosineWindow):
    """0.5 - 0.5 cos(2 pi n / N)."""

    coeffs = (0.5, 0.5)


@kernel("HammingWindow", since=17, fresh=True)
class HammingWindow(_CosineWindow):
    """25/46 - 21/46 cos(2 pi n / N)."""

    coeffs = (25.0 / 46.0, 21.0 / 46.0)


@kernel("BlackmanWindow", since=17, fresh=True)
class BlackmanWindow(_CosineWindow):
    """0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N)."""

    coeffs = (0.42, 0.5, 0.08)
