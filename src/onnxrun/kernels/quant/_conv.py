"""Exact integer matrix products and an im2col N-D convolution on integer-valued arrays.

Values are zero-point-shifted integers held in float arrays; the product runs through BLAS in
float32 when every partial sum provably fits the 24-bit mantissa, else in float64 (exact up to
2**53), so results equal true integer arithmetic."""

from __future__ import annotations

import math
from typing import Optional, Tuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...errors import InvalidArgument


def shifted(x: np.ndarray, zp: Optional[np.ndarray]) -> Tuple[np.ndarray, int]:
    """``x - zp`` as float64 integers, and a bound on its absolute value."""
    v = x.astype(np.float64)
    if zp is not None:
        v = v - zp.astype(np.float64)
    bound = int(np.max(np.abs(v))) if v.size else 0
    return v, bound


def exact_matmul(a: np.ndarray, b: np.ndarray, bound_a: int, bound_b: int, k: int
                 ) -> np.ndarray:
    """``a @ b`` for integer-valued float arrays, exactly (float64 result)."""
    if bound_a * bound_b * max(k, 1) < 2 ** 24:
        return np.matmul(a.astype(np.float32), b.astype(np.float32)).astype(np.float64)
    return np.matmul(a, b)


def to_int32(acc: np.ndarray) -> np.ndarray:
    """Exact integers as int32: float64 ones wrap like 32-bit accumulation; float32 ones (an
    exact single-chunk accumulator, below 2**24) convert directly."""
    if acc.dtype == np.float32:
        return acc.astype(np.int32)
    return acc.astype(np.int64).astype(np.int32)


class ConvGeometry:
    """Conv attributes (kernel_shape, strides, dilations, pads, auto_pad, group) parsed once."""

    def __init__(self, info) -> None:
        self.auto_pad = info.attr("auto_pad", "NOTSET")
        if self.auto_pad not in ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"):
            raise InvalidArgument(f"auto_pad must be NOTSET, VALID, SAME_UPPER or SAME_LOWER, "
                                  f"got '{self.auto_pad}'")
        self.kernel_shape = info.attr("kernel_shape")
        self.strides = info.attr("strides")
        self.dilations = info.attr("dilations")
        self.pads = info.attr("pads")
        self.group = int(info.attr("group", 1))
        if self.group < 1:
            raise InvalidArgument(f"group must be >= 1, got {self.group}")

    def resolve(self, x_shape, w_shape):
        """(kernel, strides, dilations, pads_begin, pads_end, out_spatial) for these shapes."""
        nd = len(x_shape) - 2
        if nd < 1 or len(w_shape) != nd + 2:
            raise InvalidArgument(f"conv expects X of rank >= 3 and W of the same rank, got "
                                  f"{tuple(x_shape)} and {tuple(w_shape)}")
        k = list(self.kernel_shape) if self.kernel_shape is not None else list(w_shape[2:])
        if k != list(w_shape[2:]):
            raise InvalidArgument(f"kernel_shape {k} does not match W shape {tuple(w_shape)}")
        s = list(self.strides) if self.strides is not None else [1] * nd
        d = list(self.dilations) if self.dilations is not None else [1] * nd
        if len(s) != nd or len(d) != nd or min(s) < 1 or min(d) < 1:
            raise InvalidArgument(f"strides {s} and dilations {d} must have {nd} positive "
                                  "entries")
        xs = list(x_shape[2:])
        eff = [(k[i] - 1) * d[i] + 1 for i in range(nd)]
        if self.auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            out = [-(-xs[i] // s[i]) for i in range(nd)]
            total = [max(0, (out[i] - 1) * s[i] + eff[i] - xs[i]) for i in range(nd)]
            if self.auto_pad == "SAME_UPPER":
                pb = [t // 2 for t in total]
            else:
                pb = [t - t // 2 for t in total]
            pe = [total[i] - pb[i] for i in range(nd)]
        elif self.auto_pad == "VALID":
            pb, pe = [0] * nd, [0] * nd
        else:
            p = list(self.pads) if self.pads is not None else [0] * (2 * nd)
            if len(p) != 2 * nd or min(p) < 0:
                raise InvalidArgument(f"pads must have {2 * nd} non-negative entries, got {p}")
            pb, pe = p[:nd], p[nd:]
        out = [(xs[i] + pb[i] + pe[i] - eff[i]) // s[i] + 1 for i in range(nd)]
        if min(out) < 1:
            raise InvalidArgument(f"conv output would be empty: input {tuple(x_shape)}, "
                                  f"kernel {k}, pads {pb + pe}, dilations {d}")
        return k, s, d, pb, pe, out


def conv_exact(xv: np.ndarray, bx: int, wv: np.ndarray, bw: int, geo: ConvGeometry
               ) -> np.ndarray:
    """Convolution of integer-valued float64 arrays ``xv`` [N, C, *S] and ``wv`` [M, C/g, *k]
    (zero points already subtracted, so padding is 0); exact float64 result [N, M, *out]."""
    k, s, d, pb, pe, out = geo.resolve(xv.shape, wv.shape)
    N, C = xv.shape[:2]
    M = wv.shape[0]
    g = geo.group
    if C % g or M % g or wv.shape[1] != C // g:
        raise InvalidArgument(f"group {g} does not fit X channels {C} and W shape {wv.shape}")
    nd = len(k)
    if bx * bw * (C // g) * math.prod(k) < 2 ** 24:  # exact in float32: build columns there
        xv, wv = xv.astype(np.float32), wv.astype(np.float32)
    if any(pb) or any(pe):
        xv = np.pad(xv, [(0, 0), (0, 0)] + [(pb[i], pe[i]) for i in range(nd)])
    eff = [(k[i] - 1) * d[i] + 1 for i in range(nd)]
    win = sliding_window_view(xv, eff, axis=tuple(range(2, 2 + nd)))
    sl = ((slice(None), slice(None))
          + tuple(slice(0, (out[i] - 1) * s[i] + 1, s[i]) for i in range(nd))
          + tuple(slice(None, None, d[i]) for i in range(nd)))
    win = win[sl]  # [N, C, *out, *k]
    Cg, Mg = C // g, M // g
    K = Cg * math.prod(k)
    P = math.prod(out)
    win = win.reshape((N, g, Cg) + tuple(out) + tuple(k))
    perm = (0, 1) + tuple(range(3, 3 + nd)) + (2,) + tuple(range(3 + nd, 3 + 2 * nd))
    cols = win.transpose(perm).reshape(N, g, P, K)
    wm = wv.reshape(g, Mg, K).transpose(0, 2, 1)  # [g, K, Mg]
    acc = exact_matmul(cols, wm[None], bx, bw, K)  # [N, g, P, Mg]
    return acc.transpose(0, 1, 3, 2).reshape((N, M) + tuple(out))
