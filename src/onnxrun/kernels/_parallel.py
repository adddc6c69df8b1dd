"""Matrix products split across the session's intra-op pool (framework/intra_op.py).

``matmul(a, b, pool)`` computes ``np.matmul(a, b)`` with the output cut into blocks of rows (or of
columns, or of the batch), each block one single-threaded BLAS call over the full inner
dimension. The blocks depend only on the shapes and the pool's thread count, so a session gives
the same bits run after run; between thread counts results may differ in the last bits, as BLAS
kernels may order a sum differently for other block sizes (as in onnxruntime). Small products
run as one call: waking the pool costs tens of microseconds.
"""

from __future__ import annotations

import math

import numpy as np

#: below this many multiply-adds a product runs as one BLAS call (about 1 ms here). Measured
#: on this 2-core VM with 2 threads: a split 128x768x768 GEMM (75M) took 0.70 of one call's time
#: and a 512x768x768 one 0.55, while at 25M products ran 0.8-1.3x and at 6-13M 1.6-2.2x of one
#: call's time (waking a sleeping worker, a second packing of the shared operand)
MIN_PARALLEL_MACS = 1 << 26
#: blocks are at least this many rows (or columns) wide, so each BLAS call stays efficient
MIN_BLOCK = 16
#: blocks per pool thread: one (smaller blocks cost BLAS efficiency: 512x768x768 in 2, 4 and 6
#: blocks took 2.9, 3.2 and 3.4 ms); a thread that starts late costs at most its one block
BLOCKS_PER_THREAD = 1
#: a product with few rows reads its right operand once, bound by memory: split from this many
#: elements of that operand (GPT-2's 768x50257 LM head, 38.6M, took 4.5 ms split in two
#: against 8.1 ms in one call; a 768x3072 matrix (2.4M) got slower split)
MIN_PARALLEL_STREAM = 1 << 24


def _edges(extent: int, threads: int) -> list:
    """Block edges along an output axis of ``extent``: multiples of MIN_BLOCK (BLAS kernels
    handle rows and columns in groups; aligned blocks keep each element's group, and so its
    rounding, the same as in one unsplit call), at most BLOCKS_PER_THREAD per thread."""
    units = extent // MIN_BLOCK  # the remainder joins the last block: no block of a few rows
    n = max(1, min(threads * BLOCKS_PER_THREAD, units))
    return [MIN_BLOCK * (units * i // n) for i in range(n)] + [extent]


def matmul(a: np.ndarray, b: np.ndarray, pool=None) -> np.ndarray:
    """``np.matmul(a, b)`` for arrays of rank >= 2 (other cases and small products as is)."""
    if pool is None or pool.num_threads == 1 or a.ndim < 2 or b.ndim < 2:
        return np.matmul(a, b)
    M, K = a.shape[-2:]
    N = b.shape[-1]
    if a.size * N < MIN_PARALLEL_MACS and b.size * M < MIN_PARALLEL_MACS and \
            b.size < MIN_PARALLEL_STREAM:
        return np.matmul(a, b)  # (the larger of the two is the product's multiply-adds)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    nb = math.prod(batch)
    threads = pool.num_threads
    out = np.empty(batch + (M, N), np.result_type(a, b))
    if nb >= threads * 2:  # split the batch
        a3 = np.broadcast_to(a, batch + (M, K)).reshape(nb, M, K)
        b3 = np.broadcast_to(b, batch + (K, N)).reshape(nb, K, N)
        o3 = out.reshape(nb, M, N)
        k = min(nb, threads * BLOCKS_PER_THREAD)
        edges = [nb * i // k for i in range(k + 1)]

        def piece(i):
            lo, hi = edges[i], edges[i + 1]
            np.matmul(a3[lo:hi], b3[lo:hi], out=o3[lo:hi])
    elif M >= N or M >= MIN_BLOCK * threads:  # split rows
        edges = _edges(M, threads)

        def piece(i):
            lo, hi = edges[i], edges[i + 1]
            np.matmul(a[..., lo:hi, :], b, out=out[..., lo:hi, :])
    else:  # few rows, many columns (e.g. a 1x1 convolution's weights @ pixels): split columns
        edges = _edges(N, threads)

        def piece(i):
            lo, hi = edges[i], edges[i + 1]
            out[..., lo:hi] = np.matmul(a, b[..., lo:hi])
    n = len(edges) - 1
    if n == 1:
        return np.matmul(a, b)
    pool.parallel_for(n, lambda lo, hi: [piece(i) for i in range(lo, hi)], n)
    return out
