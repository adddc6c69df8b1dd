"""Compiled direct 2-D convolution for convs with few input channels per group: depthwise
convs (one per group, any channel multiplier) and grouped convs (dense ones work too, but
conv.py leaves those to BLAS); bias and activation fused.

Each input channel of a group is copied, once per group and image, into its stride phases:
phase (a, b) holds padded rows a, a + sh, ... and columns b, b + sw, ..., stored flat with row
length ``Wq`` (``_common.phase_grid``); the copy reads each input row once, sw pixels at a
time, and the zero padding is written once per call (every channel pads the same positions).
Tap (i, j) of an output at flat position p then reads phase ((i*dh) % sh,
(j*dw) % sw) at p + ((i*dh) // sh) * Wq + (j*dw) // sw: every tap is a contiguous run,
whatever the stride or dilation. An output channel is computed per block of output rows (the
group's rows stay in cache across its output channels): for each input channel, the taps are
unrolled (kernel size, strides and dilations are compile-time constants) and the loop over the
block's flat positions vectorizes with the sum in registers, the partial sums kept in an L1
buffer between input channels (the first input channel starts from the bias). The block is
then cropped to the output width (``Wq - ow`` wasted columns) with the activation applied.

Where GEMM would need a short, wide im2col buffer (``Cg * kh * kw`` rows), this runs at the
same rate for any ``Cg``; with many input channels per group BLAS is faster, so conv.py
claims only convs with few. Indices are unsigned where computed in the hot loops: Numba
checks signed indices for wraparound, which stops vectorization.
"""

from __future__ import annotations

import numpy as np

from . import _jit
from ._common import activate, phase_grid

U = np.uint64
#: output rows per block: about this many flat outputs (16 KB of float32)
BLOCK = 4096
#: the flat loop runs to a multiple of this (past the block's end, into zero tails)
VEC = 16


def _make(kh, kw, sh, sw, dh, dw, act, tag):
    T = kh * kw

    def conv2d(x, w, b, y, G, pt, pl, u0, u1, k):
        """Output channels u0..u1 of (N * M) of y = act(conv(x, w, group=G) + b), with w as
        (M, Cg * kh * kw)."""
        tag  # noqa: B018 - in the closure, hence in the cache key (see _jit.DEPENDENCY_TAG)
        N, C, H, W = x.shape
        M, OH, OW = y.shape[1], y.shape[2], y.shape[3]
        Cg, Mg = C // G, M // G
        Hq, Wq, Lq = phase_grid(H, W, OH, OW, kh, kw, sh, sw, dh, dw, pt, pl)
        buf = np.zeros((Cg, sh * sw, Lq + VEC), dtype=x.dtype)
        rb = max(1, BLOCK // Wq)
        out = np.empty(rb * Wq + VEC, dtype=x.dtype)
        uWq = U(Wq)
        xf = x.reshape(-1)
        yf = y.reshape(-1)
        u = u0
        while u < u1:  # one (image, group) at a time: its channels copied once
            ng = u // Mg
            end = min(u1, (ng + 1) * Mg)
            n, g = ng // G, ng % G
            for c in range(Cg):  # copy into the phases; the padding stays zero
                src0 = U((n * C + g * Cg + c) * H * W)
                nk = U(W // sw)
                for r in range(H):
                    a = (r + pt) % sh
                    row = U(((r + pt) // sh) * Wq)
                    xr = src0 + U(r * W)
                    for e in range(nk):  # whole groups of sw pixels: one interleaved read
                        for j in range(sw):
                            buf[c, a * sw + (j + pl) % sw, row + U((j + pl) // sw) + e] = \
                                xf[xr + e * U(sw) + U(j)]
                    for x in range(nk * U(sw), U(W)):
                        buf[c, a * sw + (x + U(pl)) % U(sw),
                            row + (x + U(pl)) // U(sw)] = xf[xr + x]
            for oh0 in range(0, OH, rb):  # rows outer: the group's rows stay in cache
                nr = min(rb, OH - oh0)
                L = U((nr * Wq + VEC - 1) // VEC * VEC)  # no scalar remainder loop
                base = U(oh0) * uWq
                for m in range(g * Mg + u - ng * Mg, g * Mg + end - ng * Mg):
                    wm = w[m]
                    bias = b[m]
                    for c in range(Cg):
                        bc = buf[c]
                        wc = c * T
                        for p in range(L):
                            acc = bias if c == 0 else out[p]
                            for i in range(kh):
                                for j in range(kw):
                                    acc += wm[wc + i * kw + j] * bc[
                                        ((i * dh) % sh) * sw + (j * dw) % sw,
                                        base + p + U((i * dh) // sh) * uWq + U((j * dw) // sw)]
                            out[p] = acc
                    y0 = U(((n * M + m) * OH + oh0) * OW)
                    for r in range(U(nr)):
                        o0 = r * uWq
                        yr = y0 + r * U(OW)
                        for q in range(U(OW)):
                            yf[yr + q] = activate(out[o0 + q], act, k)
            u = end
    return conv2d


def kernel(kh, kw, sh, sw, dh, dw, act, dtype):
    """The compiled kernel for one geometry, activation code and dtype:
    ``fn(x, w, b, y, group, pad_top, pad_left, u0, u1, k)``."""
    i64 = _jit.numba.int64
    x, w, v = (_jit.array(dtype, n, readonly=True) for n in (4, 2, 1))
    sig = _jit.numba.void(x, w, v, _jit.array(dtype, 4), i64, i64, i64, i64, i64, v)
    return _jit.compiled(_make, (kh, kw, sh, sw, dh, dw, act), sig)
