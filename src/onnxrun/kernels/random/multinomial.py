"""Multinomial (opset 7, 22): class indices sampled from per-row unnormalized log-probabilities."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ...ir.types import dtype_of
from ..base import OpKernel
from ..registry import kernel
from ._common import check_shape, rng_for, seed_value


@kernel("Multinomial", since=7, fresh=True)
class Multinomial(OpKernel):
    """Input [batch, classes] of logits; output [batch, sample_size] of int32/int64 indices.
    Draws cannot match onnxruntime's (a different generator)."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.seed = seed_value(info.attr("seed"))
        self.sample_size = int(info.attr("sample_size", 1))
        if self.sample_size < 1:
            raise InvalidArgument(f"Multinomial sample_size must be >= 1, got "
                                  f"{self.sample_size}")
        dt = dtype_of(int(info.attr("dtype", 6)))
        if dt not in (np.int32, np.int64):
            raise InvalidArgument(f"Multinomial dtype must be int32 or int64, got {dt}")
        self.dtype = dt
        self.limit = getattr(info, "max_tensor_bytes", None)

    def __call__(self, input):
        if not isinstance(input, np.ndarray) or input.ndim != 2:
            raise InvalidArgument("Multinomial input must be a 2-D tensor [batch_size, "
                                  "class_size]")
        batch, classes = input.shape
        shape = check_shape((batch, self.sample_size), self.dtype, self.limit, "Multinomial")
        if classes == 0:
            raise InvalidArgument("Multinomial needs at least one class")
        logits = input.astype(np.float64)
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        cdf = np.cumsum(p, axis=1)
        total = cdf[:, -1]
        if not np.all(np.isfinite(total) & (total > 0)):
            raise InvalidArgument("Multinomial input rows must hold finite log-probabilities "
                                  "(got NaN or all -inf)")
        u = rng_for(self.seed).random(shape) * total[:, None]
        out = np.empty(shape, dtype=self.dtype)
        for b in range(batch):
            out[b] = np.minimum(np.searchsorted(cdf[b], u[b], side="right"), classes - 1)
        return out
