"""Per-channel bias addition for conv outputs.

``Y += b[:, None, ...]`` on an (N, M, spatial...) array is one pass, but NumPy's ufunc iterator
runs it buffered when a channel's run is shorter than its buffer (8192 elements): it packs
several channel rows into a buffer and materializes the broadcast bias beside them, which
costs about as much again. With a buffer smaller than a channel's run each row is a plain
contiguous loop with a scalar operand (measured: 1.3-1.9x faster for 512 to 8191 elements per
channel; below that the packing wins, from 8192 on NumPy does not buffer anyway). The buffer
size is a NumPy context setting (per thread / context), restored right after."""

from __future__ import annotations

import math

import numpy as np

#: channel runs in [BUFFERED_MIN, BUFFERED_MAX) are added with a small ufunc buffer
BUFFERED_MIN = 512
BUFFERED_MAX = 8192
SMALL_BUFSIZE = 1024


def add_channel_bias(Y: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Y (N, M, spatial...) += bias (M,) in place; returns Y."""
    b = bias.astype(Y.dtype, copy=False).reshape((Y.shape[1],) + (1,) * (Y.ndim - 2))
    run = math.prod(Y.shape[2:])
    if BUFFERED_MIN <= run < BUFFERED_MAX and Y.flags.c_contiguous:
        old = np.setbufsize(SMALL_BUFSIZE)
        try:
            np.add(Y, b, out=Y)
        finally:
            np.setbufsize(old)
    else:
        np.add(Y, b, out=Y)
    return Y
