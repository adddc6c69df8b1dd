"""Winograd F(2x2, 3x3) convolution for 3x3, stride-1, dilation-1, group-1 convs.

The filter transform U = G g G^T is done once (at init for constant weights); each run does the
input transform V = B^T d B on 4x4 tiles (stride 2), 16 batched GEMMs U[k] @ V[k], and the
output transform Y = A^T m A, all as whole-array NumPy operations."""

from __future__ import annotations

import numpy as np


def filter_transform(w: np.ndarray) -> np.ndarray:
    """(M, C, 3, 3) weights -> (16, M, C) transformed filters (contiguous, same dtype)."""
    w = np.asarray(w)
    g0, g1, g2 = w[:, :, 0, :], w[:, :, 1, :], w[:, :, 2, :]
    half = w.dtype.type(0.5)
    rows = (g0, (g0 + g1 + g2) * half, (g0 - g1 + g2) * half, g2)  # G g: 4 x (M, C, 3)
    M, C = w.shape[:2]
    U = np.empty((4, 4, M, C), dtype=w.dtype)
    for i, r in enumerate(rows):
        c0, c1, c2 = r[..., 0], r[..., 1], r[..., 2]
        U[i, 0] = c0
        U[i, 1] = (c0 + c1 + c2) * half
        U[i, 2] = (c0 - c1 + c2) * half
        U[i, 3] = c2
    return U.reshape(16, M, C)


def conv3x3(x: np.ndarray, U: np.ndarray, pb, out_sp) -> np.ndarray:
    """Convolve x (N, C, H, W) with transformed filters U (16, M, C); begin pads pb, output
    spatial shape out_sp. Returns a new contiguous (N, M, oh, ow) array."""
    N, C, H, W = x.shape
    M = U.shape[1]
    oh, ow = out_sp
    th, tw = -(-oh // 2), -(-ow // 2)
    Hp, Wp = 2 * th + 2, 2 * tw + 2
    dt = x.dtype
    xp = np.zeros((N, C, Hp, Wp), dtype=dt)
    h_end = min(H, Hp - pb[0])
    w_end = min(W, Wp - pb[1])
    xp[:, :, pb[0]:pb[0] + h_end, pb[1]:pb[1] + w_end] = x[:, :, :h_end, :w_end]
    # B^T d on whole padded rows (contiguous inner axis): R[r][n, c, i, :] combines
    # padded rows 2i .. 2i+3
    x0, x1 = xp[:, :, 0:2 * th:2], xp[:, :, 1:2 * th + 1:2]
    x2, x3 = xp[:, :, 2:2 * th + 2:2], xp[:, :, 3:2 * th + 3:2]
    t = (x0 - x2, x1 + x2, x2 - x1, x1 - x3)  # each (N, C, th, Wp)
    # ... B on the columns: V[n, r, q, c, i, j]
    V = np.empty((N, 4, 4, C, th, tw), dtype=dt)
    for i in range(4):
        ti = t[i]
        a0, a1 = ti[..., 0:2 * tw:2], ti[..., 1:2 * tw + 1:2]
        a2, a3 = ti[..., 2:2 * tw + 2:2], ti[..., 3:2 * tw + 3:2]
        np.subtract(a0, a2, out=V[:, i, 0])
        np.add(a1, a2, out=V[:, i, 1])
        np.subtract(a2, a1, out=V[:, i, 2])
        np.subtract(a1, a3, out=V[:, i, 3])
    del t, xp
    P = th * tw
    m = np.matmul(U, V.reshape(N, 16, C, P))  # (N, 16, M, P)
    del V
    m = m.reshape(N, 4, 4, M, th, tw)
    # A^T m: rows
    s0 = m[:, 0] + m[:, 1]
    s0 += m[:, 2]
    s1 = m[:, 1] - m[:, 2]
    s1 -= m[:, 3]
    del m
    Y = np.empty((N, M, th, 2, tw, 2), dtype=dt)
    for a, sa in enumerate((s0, s1)):
        c0, c1, c2, c3 = sa[:, 0], sa[:, 1], sa[:, 2], sa[:, 3]
        ya0 = Y[:, :, :, a, :, 0]
        np.add(c0, c1, out=ya0)
        ya0 += c2
        ya1 = Y[:, :, :, a, :, 1]
        np.subtract(c1, c2, out=ya1)
        ya1 -= c3
    Y = Y.reshape(N, M, 2 * th, 2 * tw)
    if 2 * th != oh or 2 * tw != ow:
        Y = np.ascontiguousarray(Y[:, :, :oh, :ow])
    return Y
