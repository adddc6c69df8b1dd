"""QuantizeDequantize (com.onnxrun): ``DequantizeLinear(QuantizeLinear(x))`` in one kernel,
created by the optimizer's QDQ fusion (optimizer/fuse_qdq.py) for the quantize/dequantize pairs
a QDQ model puts on every activation.

Inputs: ``x`` (float32), ``y_scale``, ``y_zero_point`` (the QuantizeLinear's), ``x_scale``,
``x_zero_point`` (the DequantizeLinear's); all four constant, per tensor, float32 scales, zero
points of one 8- or 16-bit integer type (attribute ``to``: its ONNX element type, for a
missing QuantizeLinear zero point, which means uint8). The result has the bits of the two
nodes: the code never leaves float32 (``_blocked.quantize_dequantize``), in cache-sized blocks,
written into ``x`` itself when the planner lets the kernel reuse it.
"""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from . import _blocked
from ._common import F32, elem_dtype

DOMAIN = "com.onnxrun"


@kernel("QuantizeDequantize", since=1, domain=DOMAIN, fresh=True)
class QuantizeDequantize(OpKernel):
    """``(saturate(rint(x / y_scale) + y_zero_point) - x_zero_point) * x_scale``."""

    def __init__(self, info) -> None:
        super().__init__(info)
        cin = list(info.const_inputs) + [None] * (5 - len(info.const_inputs))
        dt = elem_dtype(info.attr("to", 2), "to")
        self.q = _blocked.per_tensor(cin[1], cin[2], dt)
        self.d = _blocked.per_tensor(cin[3], cin[4], dt)
        if self.q is None or self.d is None:
            raise InvalidArgument("QuantizeDequantize needs constant per-tensor float32 scales "
                                  "and zero points of one 8- or 16-bit integer type")
        self.pool = info.intra_op

    def __call__(self, x, *params):
        if x.dtype != F32:
            raise InvalidArgument(f"x must be float32, got {x.dtype}")
        out = np.empty(x.shape, F32)
        _blocked.quantize_dequantize(x, self.q, self.d, out, self.pool)
        return out

    def inplace_variant(self, donatable):
        """The planner's offer to overwrite input 0 (a fresh buffer read by no one after this
        node): the result is computed into ``x`` itself."""
        if 0 not in donatable:
            return None

        def run(x, *params):
            if x.dtype != F32 or not x.flags.c_contiguous or not x.flags.writeable:
                return self(x)
            _blocked.quantize_dequantize(x, self.q, self.d, x, self.pool)
            return x

        return run
