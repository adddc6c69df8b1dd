"""Compiled 2-D depthwise convolution (one filter per output channel, channel multiplier
allowed), bias and activation fused.

Per input channel, the padded image is split into its stride phases (phase (a, b) holds padded
rows a, a + sh, ... and columns b, b + sw, ...), each stored flat with row length ``Wq``;
the zero padding is written once per call, since every channel pads the same positions. Tap
(i, j) of an output at flat position p then reads phase ((i*dh) % sh, (j*dw) % sw) at
p + ((i*dh) // sh) * Wq + (j*dw) // sw: every tap is a contiguous run, whatever the stride or
dilation. The taps are unrolled (kernel size, strides and dilations are compile-time
constants) and the loop over p, run in blocks of output rows that stay in L1, vectorizes with
the sum in registers; the block is then cropped to the output width (``Wq - ow`` wasted
columns) with the activation applied on the way.

Indices are unsigned where they are computed in the hot loops: Numba checks signed indices
for wraparound, which stops vectorization.
"""

from __future__ import annotations

import numpy as np

from . import _jit
from ._jit import activate

U = np.uint64
#: output rows per block: about this many flat outputs (16 KB of float32)
BLOCK = 4096


def _make(kh, kw, sh, sw, dh, dw, act, tag):
    def depthwise(x, w, b, y, pt, pl, c0, c1, k):
        """Channels c0..c1 of (N * M) of y = act(conv(x, w) + b)."""
        tag  # noqa: B018 - in the closure, hence in the cache key (see _jit.DEPENDENCY_TAG)
        N, C, H, W = x.shape
        M, OH, OW = y.shape[1], y.shape[2], y.shape[3]
        mult = M // C
        Hq = max((H + pt + sh - 1) // sh, OH + ((kh - 1) * dh) // sh)
        Wq = max((W + pl + sw - 1) // sw, OW + ((kw - 1) * dw) // sw)
        Lq = Hq * Wq + ((kw - 1) * dw) // sw + 1
        buf = np.zeros((sh * sw, Lq), dtype=x.dtype)
        rb = max(1, BLOCK // Wq)
        out = np.empty(rb * Wq, dtype=x.dtype)
        uWq = U(Wq)
        xf = x.reshape(-1)
        last = -1
        for m in range(c0, c1):
            n = m // M
            mc = m - n * M
            src_c = n * C + mc // mult
            if src_c != last:  # copy the channel into the phases (padding stays zero)
                last = src_c
                src0 = U(src_c) * U(H * W)
                for a in range(sh):
                    r0 = max(0, (pt - a + sh - 1) // sh)
                    r1 = min(Hq, (H + pt - a + sh - 1) // sh)
                    for bb in range(sw):
                        q0 = max(0, (pl - bb + sw - 1) // sw)
                        q1 = min(Wq, (W + pl - bb + sw - 1) // sw)
                        if q1 <= q0 or r1 <= r0:
                            continue
                        ph = buf[a * sw + bb]
                        xq0 = U(q0 * sw + bb - pl)
                        for r in range(r0, r1):
                            dst = U(r) * uWq + U(q0)
                            src = src0 + U(r * sh + a - pt) * U(W) + xq0
                            for q in range(U(q1 - q0)):
                                ph[dst + q] = xf[src + q * U(sw)]
            bias = b[mc]
            wc = w[mc]
            for oh0 in range(0, OH, rb):
                nr = min(rb, OH - oh0)
                base = U(oh0) * uWq
                for p in range(U(nr * Wq)):
                    acc = bias
                    for i in range(kh):
                        for j in range(kw):
                            acc += wc[i * kw + j] * buf[((i * dh) % sh) * sw + (j * dw) % sw,
                                                       base + p + U((i * dh) // sh) * uWq
                                                       + U((j * dw) // sw)]
                    out[p] = acc
                for r in range(nr):
                    yr = y[n, mc, oh0 + r]
                    o0 = r * Wq
                    for q in range(OW):
                        yr[q] = activate(out[o0 + q], act, k)
    return depthwise


def kernel(kh, kw, sh, sw, dh, dw, act, dtype):
    """The compiled depthwise kernel for one geometry, activation code and dtype:
    ``fn(x, w, b, y, pad_top, pad_left, c0, c1, k)``."""
    i64 = _jit.numba.int64
    x, w, v = (_jit.array(dtype, n, readonly=True) for n in (4, 2, 1))
    sig = _jit.numba.void(x, w, v, _jit.array(dtype, 4), i64, i64, i64, i64, v)
    return _jit.compiled(_make, (kh, kw, sh, sw, dh, dw, act), sig)
