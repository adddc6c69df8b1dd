"""Integer products at float32 BLAS speed, exactly, for constant weights.

A product of zero-point-shifted 8-bit values is an integer of magnitude at most 255 * 255, and
a float32 sum of integers is exact while every partial sum stays below 2**24. Whatever order
BLAS (or a conv algorithm) adds the terms of one output in, each partial sum is at most the
sum of the terms' magnitudes, which is at most ``xb * sum_k |w_k|`` over that output's
weights (``xb``: the largest ``|x - x_zero_point|``, 255 for 8-bit inputs). So the weights are
shifted and converted to float32 once, at init, and the inner dimension is cut into as few
chunks as keep ``xb * sum |w|`` below 2**24 for every output (one chunk for most layers): each
chunk is one float32 GEMM (or float convolution) with an exact result.

With one chunk the float32 result *is* the integer accumulator. With several, results are
summed in float64 (exact to 2**53), or, where only ``float32(acc)`` is wanted (the value a Cast
or a requantization takes), two chunks are added in float32: two exact operands, one rounding.

The float32 weights take four times the memory of 8-bit ones; the originals are not kept.
"""

from __future__ import annotations

import copy
import math
from typing import Callable, List, Optional, Tuple

import numpy as np

from .. import _parallel
from ..nn.conv import Conv
from ._common import int_range

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)
#: partial sums below this are exact in float32
EXACT = 1 << 24


def input_bound(dtype) -> Optional[int]:
    """Largest ``|x - zero_point|`` for an input of integer type ``dtype`` (zero point of the
    same type), or None for types this path does not take (over 8 bits, floats)."""
    rng = int_range(np.dtype(dtype))
    if rng is None or rng[1] - rng[0] > 255:
        return None
    return rng[1] - rng[0]


def sum_chunks(w: np.ndarray, xb: int) -> Optional[List[Tuple[int, int]]]:
    """Cut the rows of ``w`` (K, N): weights, or non-negative per-row sums of them, K the
    summed axis) into as few chunks of about equal size as keep every column's sum of
    magnitudes times ``xb`` below ``EXACT``; None when one row alone goes past it."""
    K = w.shape[0]
    limit = (EXACT - 1) / max(1, xb)
    if K == 0:
        return [(0, 0)]
    top = max(-float(w.min()), float(w.max()))
    if top > limit:
        return None
    if K * top <= limit:
        return [(0, K)]
    absw = np.abs(w)
    acc = F32 if K * top < EXACT else F64  # integer sums, exact in float32 below 2**24
    n = max(1, math.ceil(float(absw.sum(axis=0, dtype=acc).max()) / limit))
    for n in range(n, n + 8):  # equal chunks (even GEMMs) while a few more of them do
        edges = [K * i // n for i in range(n + 1)]
        pieces = list(zip(edges[:-1], edges[1:]))
        if all(absw[lo:hi].sum(axis=0, dtype=acc).max() <= limit for lo, hi in pieces):
            return pieces
    return _greedy_chunks(absw, limit)


def _greedy_chunks(absw: np.ndarray, limit: float) -> List[Tuple[int, int]]:
    """The longest chunks in order (weights whose magnitudes crowd in a few rows)."""
    K = absw.shape[0]
    cum = np.cumsum(absw, axis=0, dtype=F64)
    edges, lo = [], 0
    while lo < K:
        base = cum[lo - 1] if lo else 0.0
        widest = (cum[lo:] - base).max(axis=1) if cum.ndim > 1 else cum[lo:] - base
        hi = lo + max(1, int(np.searchsorted(widest, limit, side="right")))
        edges.append((lo, min(hi, K)))
        lo = hi
    return edges


def shift_to_float(x: np.ndarray, zp) -> np.ndarray:
    """``x - zp`` as float32 (exact for 8-bit inputs; ``zp`` broadcasts)."""
    xf = x.astype(F32)
    if zp is not None:
        xf -= np.asarray(zp, dtype=F32)
    return xf


def combine(parts, rounded: bool) -> np.ndarray:
    """The accumulator from per-chunk exact float32 results: the single part itself, else
    float32(sum) when ``rounded`` (two parts: one float32 addition), else the float64 sum."""
    if len(parts) == 1:
        return parts[0]
    if rounded and len(parts) == 2:
        parts[0] += parts[1]
        return parts[0]
    acc = parts[0].astype(F64)
    for p in parts[1:]:
        acc += p
    return acc.astype(F32) if rounded else acc


class ExactMatMul:
    """``(A - azp) @ B'`` for a constant ``B' = B - bzp`` (K, N) and 8-bit A."""

    def __init__(self, b_shifted: np.ndarray, a_dtype, pool=None) -> None:
        self.K = b_shifted.shape[0]
        xb = input_bound(a_dtype)
        top = max(-float(b_shifted.min()), float(b_shifted.max())) if b_shifted.size else 0
        #: a bound on |accumulator|: results past 2**31 would wrap in int32
        self.max_acc = xb * self.K * int(top)
        if self.max_acc >= 2 ** 31:
            self.max_acc = xb * int(np.abs(b_shifted).sum(axis=0, dtype=F64).max())
        self.pieces = [(lo, hi, np.ascontiguousarray(b_shifted[lo:hi], dtype=F32))
                       for lo, hi in sum_chunks(b_shifted, xb)]
        self.pool = pool

    def __call__(self, af: np.ndarray, rounded: bool = False) -> np.ndarray:
        """``af``: the shifted A as float32, (..., M, K). One chunk: the exact float32
        accumulator; else see :func:`combine`."""
        lead = af.shape[:-1]
        a2 = af.reshape(-1, self.K)
        whole = len(self.pieces) == 1
        parts = [_parallel.matmul(a2 if whole else a2[:, lo:hi], b, self.pool)
                 for lo, hi, b in self.pieces]
        acc = combine(parts, rounded)
        return acc.reshape(lead + (acc.shape[-1],))


class _ExactConv(Conv):
    ALLOW_WINOGRAD = False  # its transforms round; every other algorithm only adds products


class ExactConv:
    """Convolution of ``x - xzp`` (8-bit x) with constant shifted weights, exactly: onnxrun's
    float Conv kernel (depthwise, 1x1, kn2row, im2col paths), or another float conv class
    given to ``build``, on float32 copies, over chunks of input channels when one pass could
    exceed float32's exact range. ``ExactConv.build`` returns None where that cannot be
    guaranteed (a grouped conv whose per-group sums are too long); the caller then takes the
    float64 path."""

    def __init__(self, convs, edges, max_acc: int) -> None:
        self.convs, self.edges = convs, edges
        #: the largest |accumulator|: results past 2**31 would wrap in int32
        self.max_acc = max_acc

    @staticmethod
    def chunks(w_shifted: np.ndarray, x_dtype) -> Optional[List[Tuple[int, int]]]:
        """Input-channel chunks for these weights (M, C/group, *k), or None."""
        xb = input_bound(x_dtype)
        if xb is None or w_shifted.ndim < 3:
            return None
        top = max(-float(w_shifted.min()), float(w_shifted.max())) if w_shifted.size else 0
        if xb * top * math.prod(w_shifted.shape[1:]) < EXACT:
            return [(0, w_shifted.shape[1])]  # (most convs: no sums needed)
        per_channel = np.abs(w_shifted).reshape(w_shifted.shape[:2] + (-1,)).sum(axis=2)
        return sum_chunks(per_channel.T, xb)  # (C/group, M): sums over taps

    @classmethod
    def build(cls, info, w_shifted: np.ndarray, x_dtype,
              conv_class: Callable = _ExactConv) -> Optional["ExactConv"]:
        pieces = cls.chunks(w_shifted, x_dtype)
        if pieces is None or (len(pieces) > 1 and int(info.attr("group", 1)) != 1):
            return None
        convs = []
        for lo, hi in pieces:
            inner = copy.copy(info)
            w = np.ascontiguousarray(w_shifted[:, lo:hi], dtype=F32)
            inner.const_inputs = [None, w, None]
            inner.input_names = list(info.input_names[:2])
            types = getattr(info, "input_types", None)
            inner.input_types = [_float_type(types[0]) if types else None, None]
            inner.attrs = {k: v for k, v in info.attrs.items()
                           if k in ("auto_pad", "dilations", "group", "kernel_shape", "pads",
                                    "strides")}
            convs.append((conv_class(inner), w))
        sums = np.abs(w_shifted).reshape(w_shifted.shape[0], -1).sum(axis=1)
        return cls(convs, pieces, input_bound(x_dtype) * int(sums.max(initial=0)))

    def __call__(self, xf: np.ndarray, rounded: bool = False) -> np.ndarray:
        """``xf``: the shifted input as float32, (N, C, ...). One chunk: the exact float32
        accumulator; else see :func:`combine`."""
        whole = len(self.convs) == 1
        parts = [conv(xf if whole else xf[:, lo:hi], w)
                 for (conv, w), (lo, hi) in zip(self.convs, self.edges)]
        return combine(parts, rounded)


def _float_type(t):
    """The input's type with float32 elements (the shape, which Conv plans with, is kept)."""
    from ...ir.types import TensorType
    from onnx import TensorProto
    if isinstance(t, TensorType):
        return TensorType(TensorProto.FLOAT, t.shape)
    return t

