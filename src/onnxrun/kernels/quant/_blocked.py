"""Per-tensor integer quantization arithmetic on float32 in cache-sized blocks.

QuantizeLinear, DequantizeLinear and the fused QuantizeDequantize run the same few NumPy passes
as the general kernels (the same float32 operations in the same order, so the same bits), but
over blocks of ``BLOCK`` elements written in place, so a block stays in the L2 cache between
passes and no temporary as large as the tensor is made. Tensors of ``PARALLEL_MIN`` elements or
more are split over the session's intra-op pool; every block is computed the same way whatever
the split, so results do not depend on the thread count.

The clamp to the integer range is ``np.clip`` (one pass, where ``fmax`` and ``minimum`` take
two slower ones) followed by a check for NaN on the block, which is in cache: NaN (from a NaN
input, or 0 / 0 with a zero scale) becomes the type's minimum, as in the general kernels.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple, Optional

import numpy as np

from ._common import F32, int_range

#: elements per block: 512 KB of float32, in L2 with the block's input
BLOCK = 1 << 17
#: tensors of at least this many elements are split over the intra-op pool (each thread gets
#: blocks worth well over the ~0.1 ms it costs to wake a worker)
PARALLEL_MIN = 1 << 19
#: partial sums below this are exact in float32
EXACT = 1 << 24
#: integer types the blocked paths take: their codes are exact in float32
CODE_TYPES = frozenset(np.dtype(t) for t in (np.int8, np.uint8, np.int16, np.uint16))


class Params(NamedTuple):
    """A per-tensor scale and zero point of an integer type, as the kernels use them."""

    scale: np.float32
    zero: np.float32  # the zero point as float32 (0 when absent)
    lo: int
    hi: int


def per_tensor(scale: Optional[np.ndarray], zp: Optional[np.ndarray], dtype) -> Optional[Params]:
    """``Params`` for a float32 scale and zero point of one element each (0-d or shape (1,),
    the shapes the general kernels treat as per tensor) and a code type of ``CODE_TYPES``;
    None for anything else."""
    dtype = np.dtype(dtype)
    if scale is None or scale.dtype != F32 or dtype not in CODE_TYPES:
        return None
    if not _one(scale) or (zp is not None and (not _one(zp) or zp.dtype != dtype)):
        return None
    lo, hi = int_range(dtype)
    z = F32.type(zp.reshape(())) if zp is not None else F32.type(0)
    return Params(F32.type(scale.reshape(())), z, lo, hi)


def _one(p: np.ndarray) -> bool:
    return p.ndim == 0 or (p.ndim == 1 and p.shape[0] == 1)


def for_blocks(n: int, fn: Callable[[int, int], None], pool, per: int = BLOCK,
               size: Optional[int] = None) -> None:
    """Call ``fn(begin, end)`` over ``range(n)`` in pieces of at most ``per``, split over
    ``pool``'s threads when the work (``size`` elements, default ``n``) is large."""
    nb = -(-n // per)

    def run(b0: int, b1: int) -> None:
        for b in range(b0, b1):
            fn(b * per, min(n, (b + 1) * per))

    if pool is None or pool.num_threads == 1 or (n if size is None else size) < PARALLEL_MIN:
        run(0, nb)
    else:
        pool.parallel_for(nb, run, min(nb, 2 * pool.num_threads))


def codes(x: np.ndarray, q: np.ndarray, p: Params, offset, lo, hi) -> None:
    """``q = clamp(rint(x / scale) + offset, lo, hi)`` in float32, NaN -> lo (``q`` may be
    ``x``)."""
    np.divide(x, p.scale, out=q)
    np.rint(q, out=q)
    if offset is not None:
        np.add(q, offset, out=q)
    clamp(q, lo, hi)


def clamp(q: np.ndarray, lo, hi) -> None:
    """``q`` clamped to [lo, hi] in place, NaN -> lo (``q`` non-empty)."""
    np.clip(q, lo, hi, out=q)
    if np.isnan(np.min(q)):
        q[np.isnan(q)] = lo


def flat(x: np.ndarray) -> np.ndarray:
    """``x`` as a contiguous 1-D array (a view when it already is contiguous)."""
    return np.ascontiguousarray(x).reshape(-1)


def quantize(x: np.ndarray, p: Params, dtype, pool) -> np.ndarray:
    """QuantizeLinear of float32 ``x``: ``saturate(rint(x / scale) + zero_point)``."""
    out = np.empty(x.shape, dtype)
    xf, of = flat(x), out.reshape(-1)
    offset = p.zero if p.zero else None  # adding 0 changes no code

    def block(a: int, b: int) -> None:
        q = np.empty(b - a, F32)
        codes(xf[a:b], q, p, offset, p.lo, p.hi)
        np.copyto(of[a:b], q, casting="unsafe")

    for_blocks(xf.size, block, pool)
    return out


def dequantize(x: np.ndarray, p: Params, pool) -> np.ndarray:
    """DequantizeLinear of integer ``x`` to float32: ``(x - zero_point) * scale``."""
    out = np.empty(x.shape, F32)
    xf, of = flat(x), out.reshape(-1)

    def block(a: int, b: int) -> None:
        y = of[a:b]
        np.copyto(y, xf[a:b], casting="unsafe")
        if p.zero:  # subtracting 0 changes no value (codes are never -0)
            np.subtract(y, p.zero, out=y)
        np.multiply(y, p.scale, out=y)

    for_blocks(xf.size, block, pool)
    return out


def quantize_dequantize(x: np.ndarray, q: Params, d: Params, out: np.ndarray, pool) -> None:
    """``DequantizeLinear(QuantizeLinear(x, q), d)`` written into float32 ``out`` (may be
    ``x``): ``(clamp(rint(x / q.scale) + q.zero) - d.zero) * d.scale`` computed as
    ``clamp(rint(x / q.scale) + (q.zero - d.zero), lo - d.zero, hi - d.zero) * d.scale``.

    The same bits: while ``|rint(x / scale)|`` is below 2**24 every sum here is an exact
    integer, so shifting the clamp by ``d.zero`` changes nothing; beyond, both forms saturate.
    Zero comes out as +0 (the offset is added even when 0, turning a rounded -0 into +0), as
    the integer code 0 dequantizes; NaN gives the minimum in both."""
    xf, of = flat(x), out.reshape(-1)
    offset = F32.type(q.zero - d.zero)  # both integers of at most 16 bits: exact
    lo, hi = F32.type(q.lo - d.zero), F32.type(q.hi - d.zero)

    def block(a: int, b: int) -> None:
        y = of[a:b]
        codes(xf[a:b], y, q, offset, lo, hi)
        np.multiply(y, d.scale, out=y)

    for_blocks(xf.size, block, pool)


def requantize_rows(acc: np.ndarray, bias: Optional[np.ndarray], mult, zero: np.float32,
                    dtype, pool) -> np.ndarray:
    """QLinearConv's requantization of exact accumulators ``acc`` (N, M, ...): float32 (exact
    integers) or float64 (exact, summed from chunks). Per output channel ``m``:
    ``saturate(rint(float32(acc + bias[m]) * mult[m]) + zero)`` with ``mult`` a float32 scalar
    or (M,) vector and ``bias`` (M,) integers or None; float32 ``acc`` is overwritten."""
    N, M = acc.shape[:2]
    P = math.prod(acc.shape[2:])
    out = np.empty(acc.shape, dtype)
    if out.size == 0:
        return out
    rows, orows = acc.reshape(N * M, P), out.reshape(N * M, P)
    mult = np.asarray(mult, F32)
    m_rows = np.tile(mult, N)[:, None] if mult.ndim else mult
    if bias is not None and acc.dtype == F32 and \
            np.abs(bias.astype(np.int64)).max(initial=0) > EXACT:
        rows = rows.astype(np.float64)  # a bias float32 cannot hold exactly: add in float64
    b_rows = None if bias is None else np.tile(bias.astype(rows.dtype), N)[:, None]
    lo, hi = int_range(np.dtype(dtype))

    def block(r0: int, r1: int) -> None:
        y = rows[r0:r1]
        if b_rows is not None:
            y = np.add(y, b_rows[r0:r1], out=y if y.dtype == F32 else None)
        if y.dtype != F32:
            y = y.astype(F32)
        np.multiply(y, m_rows if m_rows.ndim == 0 else m_rows[r0:r1], out=y)
        np.rint(y, out=y)
        if zero:
            np.add(y, zero, out=y)
        clamp(y, lo, hi)
        np.copyto(orows[r0:r1], y, casting="unsafe")

    for_blocks(N * M, block, pool, max(1, BLOCK // max(P, 1)), acc.size)
    return out
