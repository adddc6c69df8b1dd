"""Small convolutions as one gather and one GEMM.

When a conv has few output positions (a streaming audio model's frame, the tail of a CNN) its
arithmetic takes microseconds and the general path's NumPy calls (padding into a buffer, a
strided window view, the im2col copy, the bias row) cost several times more. Here a flat index
built once per input shape gathers the im2col matrix straight from the input: the input,
flattened per image, gets two sentinel elements appended, 0 (read by taps in the padding) and
1 (read by the ones row that carries the bias column of the prepared weights). A run is then a
concatenation, a ``take`` and a GEMM whose operands are exactly the general im2col path's, so
the results are the same bits.
"""

from __future__ import annotations

import math

import numpy as np

from ._conv_epilogue import add_channel_bias

#: the gather path runs when the im2col matrix of one image has at most this many elements.
#: Measured against the general path (1 thread): 0.2-0.6x its time up to 2**14 elements,
#: 0.75-0.9x up to 2**16, even from about 2**17 (and the index, 8 bytes an element, is kept)
MAX_COLS = 1 << 14
#: plans (one index each) are made for at most this many input shapes per kernel
MAX_SHAPES = 8
#: input dtypes handled here (computing in float32 or float64, as the general path does)
DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def plan(prep, x_shape, dtype, group, ks, strides, dil, out_sp, pb):
    """A :class:`SmallConv` for inputs of ``x_shape`` and ``dtype``, or None when the general
    path should run (large output, an algorithm without a GEMM weight matrix, empty output)."""
    if prep is None or dtype not in DTYPES or prep.algo not in ("im2col", "winograd",
                                                                 "pointwise"):
        return None
    w, ones = (prep.wmat_b, True) if prep.wmat_b is not None else (prep.wmat, False)
    G, Mg, K1 = w.shape
    L = math.prod(out_sp)
    if L == 0 or x_shape[0] == 0 or G * K1 * L > MAX_COLS:
        return None
    return SmallConv(w, ones and prep.bias_in, _gather_index(x_shape[1:], group, ks, strides,
                                                             dil, out_sp, pb, ones),
                     (x_shape[0], G * Mg) + tuple(out_sp), dtype)


def _gather_index(in_shape, group, ks, strides, dil, out_sp, pb, ones):
    """(G, Cg * prod(ks) [+ 1], prod(out_sp)) indices into one image flattened with the
    sentinels [0, 1] appended: row (c, k...) column o reads channel c at o * stride + k * dil
    - pad (the 0 sentinel outside the input); the optional last row reads the 1 sentinel."""
    C, in_sp = in_shape[0], in_shape[1:]
    size = math.prod(in_sp)
    flat = np.zeros((1,) * (2 * len(ks)), dtype=np.intp)
    valid = np.ones_like(flat, dtype=bool)
    for i, (n, k, s, d, o, p) in enumerate(zip(in_sp, ks, strides, dil, out_sp, pb)):
        pos = np.arange(k)[:, None] * d + np.arange(o)[None, :] * s - p  # (k, o)
        shape = [1] * (2 * len(ks))
        shape[i], shape[len(ks) + i] = k, o
        pos = pos.reshape(shape)
        valid = valid & (pos >= 0) & (pos < n)
        flat = flat * n + pos
    taps = np.where(valid, flat, -1).reshape(math.prod(ks), math.prod(out_sp))
    chan = np.arange(C, dtype=np.intp)[:, None, None] * size
    idx = np.where(taps[None] >= 0, chan + taps[None], C * size)  # (C, taps, L)
    idx = idx.reshape(group, -1, idx.shape[-1])
    if ones:
        row = np.full((group, 1, idx.shape[-1]), C * size + 1, dtype=np.intp)
        idx = np.concatenate([idx, row], axis=1)
    return np.ascontiguousarray(idx, dtype=np.intp)


class SmallConv:
    """One input shape's conv: ``conv(X, B) -> Y`` (B: the run's bias, added unless the
    prepared weights carry it)."""

    __slots__ = ("w", "w2", "bias_in", "idx", "idx2", "out_shape", "tail", "out_dt")

    def __init__(self, w, bias_in, idx, out_shape, dtype):
        self.w = w
        self.w2 = w[0] if w.shape[0] == 1 else None  # one group: a plain 2-D GEMM
        self.bias_in = bias_in
        self.idx = idx
        self.idx2 = idx[0]
        self.out_shape = out_shape
        self.tail = np.array([0, 1], dtype=w.dtype)
        self.out_dt = dtype

    def __call__(self, X, B):
        N = X.shape[0]
        if N == 1:
            xe = np.concatenate((X.reshape(-1), self.tail))  # casts float16 up
            if self.w2 is not None:
                Y = self.w2 @ xe.take(self.idx2)
            else:
                Y = np.matmul(self.w, xe.take(self.idx))
        else:
            x2 = X.reshape(N, -1)
            xe = np.empty((N, x2.shape[1] + 2), dtype=self.w.dtype)
            xe[:, :-2] = x2
            xe[:, -2:] = self.tail
            Y = np.matmul(self.w, xe.take(self.idx, axis=1))  # (N, G, Mg, L)
        Y = Y.reshape(self.out_shape)
        if B is not None and not self.bias_in:
            add_channel_bias(Y, B)
        return Y if Y.dtype == self.out_dt else Y.astype(self.out_dt)
