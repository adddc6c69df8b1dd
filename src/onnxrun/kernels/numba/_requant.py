"""Compiled requantization of a QLinearConv's exact float32 accumulators: one pass where
NumPy makes seven (kernels/quant/_blocked.requantize_rows, whose arithmetic this repeats:
``saturate(rint((acc + bias) * mult) + zero)`` in float32, NaN to the type's minimum),
optionally writing ``table[code's byte]`` instead of the code (QLinearConvLookup).

No multiply-add is contracted here: the sum is rounded before the product, and the product
is rounded (``rint``) before the zero point is added, as in the NumPy code."""

from __future__ import annotations

import functools

import numpy as np

from . import _jit


def _make(lookup, tag):
    def requantize(acc, bias, mult, zero, lo, hi, table, out, r0, r1):
        """Rows r0..r1 of ``out`` (R, P) from ``acc`` (R, P) with per-row bias and mult."""
        tag  # noqa: B018 - in the closure, hence in the cache key (see _jit.DEPENDENCY_TAG)
        codes = np.empty(acc.shape[1] if lookup else 0, np.int32)
        for r in range(r0, r1):
            b = bias[r]
            m = mult[r]
            a = acc[r]
            o = out[r]
            for i in range(a.shape[0]):
                q = np.rint((a[i] + b) * m) + zero
                if not q >= lo:  # NaN too
                    q = lo
                if q > hi:
                    q = hi
                if lookup:  # a compile-time constant: one branch is compiled
                    codes[i] = np.int32(q) & 255  # (vectorized; the lookups apart)
                else:
                    o[i] = q
            if lookup:
                for i in range(a.shape[0]):
                    o[i] = table[codes[i]]
    return requantize


@functools.lru_cache(maxsize=None)
def kernel(out_dtype, lookup: bool = False):
    """``fn(acc, bias, mult, zero, lo, hi, table, out, r0, r1)`` for float32 accumulators:
    8-bit codes of ``out_dtype``, or with ``lookup`` entries of a 256-entry ``table`` of
    ``out_dtype`` (without, ``table`` is not read)."""
    nb = _jit.numba
    f32 = nb.float32
    sig = nb.void(_jit.array(np.float32, 2, readonly=True), _jit.array(np.float32, 1, True),
                  _jit.array(np.float32, 1, True), f32, f32, f32,
                  _jit.array(out_dtype, 1, True), _jit.array(out_dtype, 2),
                  nb.int64, nb.int64)
    return _jit.compiled(_make, (bool(lookup),), sig)
