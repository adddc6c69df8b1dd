"""Bernoulli (opset 15, 22): 1 with probability ``input[i]``, else 0."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ...ir.types import dtype_of
from ..base import OpKernel
from ..registry import kernel
from ._common import check_shape, rng_for, seed_value


@kernel("Bernoulli", since=15, fresh=True)
class Bernoulli(OpKernel):
    """Draws ``U[0, 1) < p`` per element; output dtype from the ``dtype`` attribute or the
    input's. Draws cannot match onnxruntime's (a different generator)."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.seed = seed_value(info.attr("seed"))
        dt = info.attr("dtype")
        try:
            self.dtype = None if dt is None else dtype_of(int(dt))
        except ValueError:
            raise InvalidArgument(f"Bernoulli: unsupported dtype {dt}") from None
        if self.dtype is not None and self.dtype == object:
            raise InvalidArgument("Bernoulli: dtype cannot be string")
        self.limit = getattr(info, "max_tensor_bytes", None)

    def __call__(self, input):
        if not isinstance(input, np.ndarray) or input.dtype.kind != "f" and \
                input.dtype.name != "bfloat16":
            raise InvalidArgument("Bernoulli input must be a float tensor of probabilities")
        dtype = self.dtype if self.dtype is not None else input.dtype
        shape = check_shape(input.shape, dtype, self.limit, "Bernoulli")
        u = rng_for(self.seed).random(shape)
        return (u < input.astype(np.float64)).astype(dtype)
