"""ByteLookup (com.onnxrun): ``y = table[x]`` for 8-bit ``x``, the table indexed by the code's
raw byte (so an int8 -1 reads entry 255). Created by the optimizer's lookup-table fusion
(optimizer/fuse_quant_lookup.py), which computes the 256 entries at initialization by running
the nodes it replaces on every code.

With inputs 2 and 3 (a QuantizeLinear's constant per-tensor ``y_scale`` and ``y_zero_point``;
attribute ``to``, the code type) ``x`` is float32 and is quantized first, block by block: the
codes never become a tensor. A float32 result of a float32 ``x`` is then written into ``x``
itself when the planner lets the kernel reuse it.
"""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from . import _blocked
from ._common import F32, elem_dtype

DOMAIN = "com.onnxrun"
_BYTES = (np.dtype(np.uint8), np.dtype(np.int8))


@kernel("ByteLookup", since=1, domain=DOMAIN, fresh=True)
class ByteLookup(OpKernel):
    """Input 1 is the constant table of 256 entries."""

    def __init__(self, info) -> None:
        super().__init__(info)
        cin = list(info.const_inputs) + [None] * (4 - len(info.const_inputs))
        table = cin[1]
        if table is None or table.shape != (256,):
            raise InvalidArgument("ByteLookup needs a constant table of 256 entries")
        self.table = np.ascontiguousarray(table)
        self.quant = None
        if len(info.input_names) > 2:
            self.quant = _blocked.per_tensor(cin[2], cin[3], elem_dtype(info.attr("to", 2), "to"))
            if self.quant is None:
                raise InvalidArgument("ByteLookup: y_scale and y_zero_point must be constant, "
                                      "per tensor, of an 8-bit type")
        self.pool = info.intra_op

    def __call__(self, x, *params):
        self._check(x)
        out = np.empty(x.shape, self.table.dtype)
        self._run(x, out)
        return out

    def _check(self, x) -> None:
        if self.quant is not None and x.dtype != F32:
            raise InvalidArgument(f"x must be float32 (it is quantized first), got {x.dtype}")
        if self.quant is None and x.dtype not in _BYTES:
            raise InvalidArgument(f"x must be uint8 or int8, got {x.dtype}")

    def _run(self, x, out) -> None:
        xf, of, table, p = _blocked.flat(x), out.reshape(-1), self.table, self.quant

        def block(a: int, b: int) -> None:
            if p is None:
                np.take(table, xf[a:b].view(np.uint8), out=of[a:b], mode="clip")
                return
            q = np.empty(b - a, F32)
            # codes as offsets into the byte-ordered table: int8 -1 is entry 255
            _blocked.codes(xf[a:b], q, p, p.zero if p.zero else None, p.lo, p.hi)
            idx = q.astype(np.intp)
            if p.lo < 0:
                idx &= 255
            np.take(table, idx, out=of[a:b], mode="clip")

        _blocked.for_blocks(xf.size, block, self.pool)

    def inplace_variant(self, donatable):
        """With a float32 input and table, the planner's offer to overwrite ``x`` (a fresh
        buffer read by no one after this node): the result is written into it, block by block
        (each block's codes are taken before its values are overwritten)."""
        if 0 not in donatable or self.quant is None or self.table.dtype != F32:
            return None

        def run(x, *params):
            self._check(x)
            if not x.flags.c_contiguous or not x.flags.writeable:
                return self(x)
            self._run(x, x)
            return x

        return run
