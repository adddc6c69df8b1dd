"""Winograd F(2x2, 3x3) convolution for 3x3, stride-1, dilation-1, group-1 convs.

The filter transform U = G g G^T is done once (at init for constant weights); each run does the
input transform V = B^T d B on 4x4 tiles (stride 2), 16 batched GEMMs U[k] @ V[k], and the
output transform Y = A^T m A, all as whole-array NumPy operations. The tiles are processed in
blocks of tile rows so that the transformed blocks stay cache-resident. A bias rides along in
the GEMM: U gets an extra input column holding the bias in the (1, 1) slot (the one entry of m
that reaches all four outputs with weight 1), and V an extra row of ones."""

from __future__ import annotations

import numpy as np

#: target size in bytes of one block of transformed input (16 x C x tiles); big enough that
#: the 16 GEMMs amortize reading U (measured: 1 MiB blocks re-read a 512-channel U 7 times)
BLOCK_BYTES = 8 << 20


#: G of F(2x2, 3x3): U = G g G^T, i.e. U.flat = kron(G, G) @ g.flat (16 x 9)
_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
_GG = np.kron(_G, _G)


def filter_transform(w: np.ndarray, bias: np.ndarray = None) -> np.ndarray:
    """(M, C, 3, 3) weights -> (16, M, C + 1) transformed filters; column C holds the bias in
    slot 5 = (1, 1) and zeros elsewhere. One (16 x 9) @ (9 x M*C) GEMM."""
    w = np.asarray(w)
    M, C = w.shape[:2]
    flat = np.matmul(_GG.astype(w.dtype), w.reshape(M * C, 9).T)  # (16, M*C)
    U = np.empty((16, M, C + 1), dtype=w.dtype)
    U[:, :, :C] = flat.reshape(16, M, C)
    U[:, :, C] = 0
    if bias is not None:
        U[5, :, C] = bias
    return U


def with_bias(U: np.ndarray, bias) -> np.ndarray:
    """A copy of U with the bias column set (for a bias that is not a constant)."""
    U = U.copy()
    U[5, :, -1] = bias
    return U


def conv3x3(x: np.ndarray, U: np.ndarray, pb, out_sp) -> np.ndarray:
    """Convolve x (N, C, H, W) with transformed filters U (16, M, C + 1) (bias included);
    begin pads pb, output spatial shape out_sp. Returns a new contiguous (N, M, oh, ow)."""
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
    Y = np.empty((N, M, th, 2, tw, 2), dtype=dt)
    rb = max(1, min(th, BLOCK_BYTES // (16 * (C + 1) * tw * dt.itemsize)))
    V = np.empty((N, 16, C + 1, rb * tw), dtype=dt)
    V[:, :, C] = 1
    for i0 in range(0, th, rb):
        i1 = min(th, i0 + rb)
        _block(xp, U, V, Y, i0, i1, tw, C, M)
    Y = Y.reshape(N, M, 2 * th, 2 * tw)
    if 2 * th != oh or 2 * tw != ow:
        Y = np.ascontiguousarray(Y[:, :, :oh, :ow])
    return Y


def _block(xp, U, Vbuf, Y, i0, i1, tw, C, M):
    N = xp.shape[0]
    nb = i1 - i0
    P = nb * tw
    r0 = 2 * i0
    # B^T d on whole padded rows (contiguous inner axis): row r of tile row i is 2i + r
    x0 = xp[:, :, r0:r0 + 2 * nb:2]
    x1 = xp[:, :, r0 + 1:r0 + 2 * nb + 1:2]
    x2 = xp[:, :, r0 + 2:r0 + 2 * nb + 2:2]
    x3 = xp[:, :, r0 + 3:r0 + 2 * nb + 3:2]
    t = (x0 - x2, x1 + x2, x2 - x1, x1 - x3)  # each (N, C, nb, Wp)
    if P == Vbuf.shape[-1]:
        V = Vbuf
    else:
        V = np.empty((N, 16, C + 1, P), dtype=xp.dtype)
        V[:, :, C] = 1
    V6 = V.reshape(N, 4, 4, C + 1, nb, tw)[:, :, :, :C]
    for i in range(4):
        ti = t[i]
        a0, a1 = ti[..., 0:2 * tw:2], ti[..., 1:2 * tw + 1:2]
        a2, a3 = ti[..., 2:2 * tw + 2:2], ti[..., 3:2 * tw + 3:2]
        np.subtract(a0, a2, out=V6[:, i, 0])
        np.add(a1, a2, out=V6[:, i, 1])
        np.subtract(a2, a1, out=V6[:, i, 2])
        np.subtract(a1, a3, out=V6[:, i, 3])
    m = np.matmul(U, V).reshape(N, 4, 4, M, nb, tw)
    # A^T m A
    s0 = m[:, 0] + m[:, 1]
    s0 += m[:, 2]
    s1 = m[:, 1] - m[:, 2]
    s1 -= m[:, 3]
    for a, sa in enumerate((s0, s1)):
        c0, c1, c2, c3 = sa[:, 0], sa[:, 1], sa[:, 2], sa[:, 3]
        ya0 = Y[:, :, i0:i1, a, :, 0]
        np.add(c0, c1, out=ya0)
        ya0 += c2
        ya1 = Y[:, :, i0:i1, a, :, 1]
        np.subtract(c1, c2, out=ya1)
        ya1 -= c3
