"""BiasSoftmax (com.microsoft): softmax(data + bias) with softmax over the dimensions from
``axis`` on, flattened (opset-11 Softmax semantics). The bias holds ``nb`` blocks of those
elements; they repeat over the input's leading blocks (is_inner_broadcast=0: block i uses bias
block i % nb) or each covers consecutive blocks (is_inner_broadcast=1: i // (batches / nb))."""

from __future__ import annotations

import math

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._transformer import DOMAIN, compute, require_inputs, softmax_last_


@kernel("BiasSoftmax", since=1, domain=DOMAIN, fresh=True)
class BiasSoftmax(OpKernel):
    """Y = softmax(data + bias) (attributes axis, default 1, and is_inner_broadcast)."""

    def __init__(self, info):
        super().__init__(info)
        require_inputs(info, "data", "bias")
        self.axis = int(info.attr("axis", 1))
        self.inner = bool(info.require_attr("is_inner_broadcast"))

    def __call__(self, data, bias):
        r = data.ndim
        if not -r <= self.axis < r:
            raise InvalidArgument(f"axis {self.axis} is out of range for rank {r}")
        axis = self.axis % r
        batches = math.prod(data.shape[:axis])
        n = math.prod(data.shape[axis:])
        nb = bias.size // n if n else 0
        if n == 0 or nb == 0 or nb * n != bias.size or batches % nb:
            raise InvalidArgument(f"bias of shape {bias.shape} does not fit data {data.shape} "
                                  f"with softmax over axes {axis}..{r - 1}")
        x = compute(data, "data")
        b = compute(bias, "bias").astype(x.dtype, copy=False)
        if self.inner:
            s = x.reshape(nb, batches // nb, n) + b.reshape(nb, 1, n)
        else:
            s = x.reshape(batches // nb, nb, n) + b.reshape(1, nb, n)
        return softmax_last_(s).reshape(data.shape).astype(data.dtype, copy=False)
