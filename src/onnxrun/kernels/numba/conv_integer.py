"""ConvInteger and QLinearConv (ONNX and com.microsoft) on the Numba provider.

The CPU kernels (kernels/quant/conv_integer.py) run a constant-weight integer conv as a float
conv of the zero-point-shifted values in float32, exact while every partial sum stays below
2**24 (``_float_exact``). These subclasses keep all of that and compile two parts:

* the float conv of the convs conv.py's direct kernel takes (2-D depthwise, and grouped with
  few input channels per group), where NumPy's depthwise path makes a pass per tap;
* QLinearConv's requantization (``_requant``), one pass where NumPy makes seven (dense
  QLinearConvs are claimed for it, their conv staying onnxrun's BLAS one); QLinearConvLookup
  looks its table up in the same pass.

Claimed when the weights and their zero point are constant 8-bit values and one float32 pass
is exact (and, for ConvInteger, the conv is a direct one); the rest stays on the CPU provider.
"""

from __future__ import annotations

import weakref

import numpy as np

from ..microsoft.qlinear_conv import QLinearConv as MsQLinearConv
from ..quant._blocked import EXACT, PARALLEL_MIN
from ..quant._common import int_range
from ..quant._float_exact import ExactConv, input_bound, shift_to_float
from ..quant.conv_integer import ConvInteger, ConvIntegerFloat, QLinearConv, _w_zero_point
from ..quant.qlinear_conv_lookup import QLinearConvLookup
from ..registry import kernel
from . import PROVIDER
from .conv import BLOCKS_PER_THREAD, _direct

#: output elements per thread block of the requantization pass (about 100 us)
REQUANT_GRAIN = 1 << 19
_REQUANT_TYPES = (np.dtype(np.uint8), np.dtype(np.int8))
_TABLE_TYPES = _REQUANT_TYPES + (np.dtype(np.float32),)


def _one_pass(info, w_index: int, zp_index: int, direct_only: bool) -> bool:
    cin = info.const_inputs
    w = cin[w_index] if len(cin) > w_index else None
    has_zp = len(info.input_names) > zp_index and info.input_names[zp_index]
    zp = cin[zp_index] if has_zp else None
    if w is None or w.ndim < 3 or input_bound(w.dtype) is None or (has_zp and zp is None):
        return False
    if direct_only and not _direct(info, w):
        return False
    return _exact_in_one_pass(w, zp)


#: id(w) -> (weakref to w, weakref to its zero point or None, answer): the optimizer and the
#: partitioner ask several times per node
_answers = {}


def _exact_in_one_pass(w: np.ndarray, zp) -> bool:
    """Whether one float32 conv pass with these weights is exact (remembered per weight)."""
    got = _answers.get(id(w))
    if got is not None and got[0]() is w and (got[1]() if got[1] else None) is zp:
        return got[2]
    try:
        ws = shift_to_float(w, _w_zero_point(zp, w))
    except Exception:  # noqa: BLE001 - a bad zero point: the CPU kernel reports it
        return False
    pieces = ExactConv.chunks(ws, np.uint8)
    answer = pieces is not None and len(pieces) == 1
    key = id(w)
    _answers[key] = (weakref.ref(w, lambda _, k=key: _answers.pop(k, None)),
                     None if zp is None else weakref.ref(zp), answer)
    return answer


def _conv_integer_supports(info) -> bool:
    return _one_pass(info, 1, 3, direct_only=True)


def _qlinear_supports(info) -> bool:
    return _one_pass(info, 3, 5, direct_only=False)


class DirectFloatConv:
    """The compiled direct conv (conv.py) as ``ExactConv``'s float conv: ``conv(X, W)``."""

    def __init__(self, info) -> None:
        from .conv import DirectConv  # numba is imported here, at session initialization
        self.impl = DirectConv(info)

    def __call__(self, X, W):
        return self.impl(X, W)


class _Compiled:
    """The compiled parts, mixed into the CPU kernels."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self._requant = None  # (code type, compiled pass, table or a stand-in of that type)
        zp = info.const_inputs[7] if len(info.const_inputs) > 7 else None
        table = getattr(self, "table", None)  # QLinearConvLookup's
        if info.op_type.startswith("QLinearConv") and zp is not None and \
                zp.dtype in _REQUANT_TYPES and (table is None or table.dtype in _TABLE_TYPES):
            from . import _requant  # numba is imported here, at session initialization
            if table is None:
                self._requant = (zp.dtype, _requant.kernel(zp.dtype), np.zeros(1, zp.dtype))
            else:
                self._requant = (zp.dtype, _requant.kernel(table.dtype, True), table)

    def float_conv(self, info, w):
        return DirectFloatConv if _direct(info, w) else super().float_conv(info, w)

    def requantize(self, acc, bias, mult, zero, dt):
        if self._requant is None or self._requant[0] != dt or acc.dtype != np.float32 or \
                acc.size == 0 or (bias is not None and
                                  np.abs(bias.astype(np.int64)).max() > EXACT):
            return super().requantize(acc, bias, mult, zero, dt)
        _, fn, table = self._requant
        N, M = acc.shape[:2]
        rows = np.ascontiguousarray(acc).reshape(N * M, -1)
        out = np.empty(acc.shape, table.dtype)
        orows = out.reshape(N * M, -1)
        b = np.zeros(M, np.float32) if bias is None else bias.astype(np.float32)
        b = np.tile(b, N)
        m = np.tile(np.broadcast_to(mult, (M,)).astype(np.float32), N)
        lo, hi = int_range(dt)
        z, lo, hi = np.float32(zero), np.float32(lo), np.float32(hi)
        pool = self.pool
        blocks = 1 if acc.size < PARALLEL_MIN else \
            max(1, min(BLOCKS_PER_THREAD * pool.num_threads, acc.size // REQUANT_GRAIN))
        pool.parallel_for(N * M,
                          lambda r0, r1: fn(rows, b, m, z, lo, hi, table, orows, r0, r1),
                          blocks)
        return out


@kernel("ConvInteger", since=10, provider=PROVIDER, supports=_conv_integer_supports,
        fresh=True)
class NumbaConvInteger(_Compiled, ConvInteger):
    """ConvInteger with the compiled direct conv."""


@kernel("ConvIntegerFloat", since=1, domain="com.onnxrun", provider=PROVIDER,
        supports=_conv_integer_supports, fresh=True)
class NumbaConvIntegerFloat(_Compiled, ConvIntegerFloat):
    """ConvIntegerFloat (ConvInteger + Cast) with the compiled direct conv."""


@kernel("QLinearConv", since=10, provider=PROVIDER, supports=_qlinear_supports, fresh=True)
class NumbaQLinearConv(_Compiled, QLinearConv):
    """QLinearConv with the compiled direct conv (where it applies) and requantization."""


@kernel("QLinearConv", domain="com.microsoft", since=1, provider=PROVIDER,
        supports=_qlinear_supports, fresh=True)
class NumbaMsQLinearConv(_Compiled, MsQLinearConv):
    """com.microsoft QLinearConv (channels_last too), compiled likewise."""


@kernel("QLinearConvLookup", domain="com.onnxrun", since=1, provider=PROVIDER,
        supports=_qlinear_supports, fresh=True)
class NumbaQLinearConvLookup(_Compiled, QLinearConvLookup):
    """QLinearConvLookup with the table applied in the compiled requantization."""
