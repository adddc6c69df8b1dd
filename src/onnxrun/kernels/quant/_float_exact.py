"""Integer products at float32 BLAS speed, exactly, for constant weights.

A product of zero-point-shifted 8-bit values is an integer of magnitude at most 255 * 255; a
float32 sum of such integers is exact while every partial sum stays below 2**24. So the weights
are shifted and converted to float32 once, at init, and the inner dimension is cut into chunks
short enough to keep that bound (``255 * max|w| * chunk < 2**24``; about 500 for int8 weights):
each chunk is one float32 GEMM (or float convolution) with an exact result, and the chunks are
summed in float64. The result equals true integer arithmetic (32-bit accumulation wraps as in
onnxruntime when converted with ``to_int32``).

The float32 weights take four times the memory of 8-bit ones; the originals are not kept.
"""

from __future__ import annotations

import copy
import math
from typing import List, Optional, Tuple

import numpy as np

from .. import _parallel
from ..nn.conv import Conv
from ._common import int_range

F32 = np.dtype(np.float32)
#: partial sums below this are exact in float32
EXACT = 1 << 24


def input_bound(dtype) -> Optional[int]:
    """Largest ``|x - zero_point|`` for an input of integer type ``dtype`` (zero point of the
    same type), or None for types this path does not take (over 8 bits, floats)."""
    rng = int_range(np.dtype(dtype))
    if rng is None or rng[1] - rng[0] > 255:
        return None
    return rng[1] - rng[0]


def chunks(k: int, bound: int) -> List[Tuple[int, int]]:
    """Cut ``range(k)`` into pieces whose sums of ``bound``-sized terms stay exact."""
    step = max(1, (EXACT - 1) // max(1, bound))
    return [(lo, min(k, lo + step)) for lo in range(0, k, step)]


def shift_to_float(x: np.ndarray, zp) -> np.ndarray:
    """``x - zp`` as float32 (exact for 8-bit inputs)."""
    xf = x.astype(F32)
    if zp is not None:
        xf -= np.asarray(zp, dtype=F32)
    return xf


class ExactMatMul:
    """``(A - azp) @ B'`` for a constant ``B' = B - bzp`` (K, N) and 8-bit A, as float64."""

    def __init__(self, b_shifted: np.ndarray, a_dtype, pool=None) -> None:
        self.K = b_shifted.shape[0]
        bound_b = int(np.max(np.abs(b_shifted))) if b_shifted.size else 0
        self.pieces = [(lo, hi, np.ascontiguousarray(b_shifted[lo:hi], dtype=F32))
                       for lo, hi in chunks(self.K, input_bound(a_dtype) * max(1, bound_b))]
        self.pool = pool

    def __call__(self, af: np.ndarray) -> np.ndarray:
        """``af``: the shifted A as float32, (..., M, K)."""
        lead = af.shape[:-1]
        a2 = af.reshape(-1, self.K)
        acc = None
        for lo, hi, b in self.pieces:
            part = _parallel.matmul(a2[:, lo:hi] if len(self.pieces) > 1 else a2, b, self.pool)
            if acc is None:
                acc = part.astype(np.float64)
            else:
                acc += part
        return acc.reshape(lead + (acc.shape[-1],))


class _ExactConv(Conv):
    ALLOW_WINOGRAD = False  # its transforms round; every other algorithm only adds products


class ExactConv:
    """Convolution of ``x - xzp`` (8-bit x) with constant shifted weights, exactly, as
    float64: onnxrun's float Conv kernel (depthwise, 1x1, kn2row, im2col paths) on float32
    copies, over chunks of input channels when one pass could exceed float32's exact range.
    ``ExactConv.build`` returns None where that cannot be guaranteed (a grouped conv whose
    per-group sums are too long); the caller then takes the float64 path."""

    def __init__(self, convs, edges) -> None:
        self.convs, self.edges = convs, edges

    @classmethod
    def build(cls, info, w_shifted: np.ndarray, x_dtype) -> Optional["ExactConv"]:
        xb = input_bound(x_dtype)
        if xb is None or w_shifted.ndim < 3:
            return None
        group = int(info.attr("group", 1))
        taps = math.prod(w_shifted.shape[2:])
        bound = xb * max(1, int(np.max(np.abs(w_shifted))) if w_shifted.size else 1) * taps
        cg = w_shifted.shape[1]
        pieces = chunks(cg, bound)
        if len(pieces) > 1 and group != 1:
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
            convs.append((_ExactConv(inner), w))
        return cls(convs, pieces)

    def __call__(self, xf: np.ndarray) -> np.ndarray:
        """``xf``: the shifted input as float32, (N, C, ...)."""
        acc = None
        whole = len(self.convs) == 1
        for (conv, w), (lo, hi) in zip(self.convs, self.edges):
            part = conv(xf if whole else xf[:, lo:hi], w)
            if acc is None:
                acc = part.astype(np.float64)
            else:
                acc += part
        return acc


def _float_type(t):
    """The input's type with float32 elements (the shape, which Conv plans with, is kept)."""
    from ...ir.types import TensorType
    from onnx import TensorProto
    if isinstance(t, TensorType):
        return TensorType(TensorProto.FLOAT, t.shape)
    return t
