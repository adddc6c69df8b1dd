"""2-D depthwise convolution (one filter per channel) as a batched GEMM over channels.

For each block of channels, every kernel tap's input samples are copied into a buffer laid out
like the output (one row of oh * ow per tap and channel, plus a row of ones for the bias), and
BLAS contracts each channel's (1, taps + 1) filter-plus-bias row with its (taps + 1, oh * ow)
matrix, writing straight into the output: no padded copy of the input, no crop, no separate
bias pass. How the taps are copied depends on the geometry:

* stride 1, output the size of the input (the usual 3x3 pad 1 case):
  :func:`_depthwise_block_flat`: the buffer is tap-major, (taps + 1, channels, L), and a tap of
  a whole channel block is ONE contiguous copy of the input flattened over channels and shifted
  by the tap's offset; the positions a shift drags in from a neighbouring row or channel are
  exactly the tap's padding rows and columns, zeroed afterwards;
* strides that split the input into phases the size of the output (3x3 stride 2 pad 1 on even
  maps): :func:`_depthwise_block_phases`: the phases are copied out once per block (the only
  strided reads), then each tap is one contiguous shifted copy of its phase, as above;
* anything else: per channel rows (channels, taps + 1, L), a tap being a shifted flat copy
  (stride 1, same width) or a strided copy of its sub-rectangle; zeros written once.

Small maps gain most: NumPy pays per row of an operation, and copying a tap for a whole block
of channels in one contiguous run avoids channels * rows short rows. Measured on the
MobileNetV2 / ShuffleNet layers against the previous kernel (a multiply and an add pass per tap
over a padded copy on large maps, a per-tap-copied GEMM buffer on small ones, bias added
afterwards): 1.1x on 56x56 and 112x112 maps, 1.2-1.3x stride 2, 1.3-1.7x on 7x7 to 28x28 maps;
1.3x over all of them. What is left is NumPy's per-element copy cost (9 copies per output) and
BLAS's rate on 1-row GEMMs (about 10 GFLOP/s here)."""

from __future__ import annotations

import numpy as np

#: the (channels, taps + 1, L) GEMM buffer is built in channel blocks of about this size
#: (measured: 4 MB beats 1 MB by 5-15% on 56x56 and larger maps, and is as good on small ones)
COLS_BLOCK_BYTES = 4 << 20


def filters_with_bias(wdw: np.ndarray, bias=None) -> np.ndarray:
    """(C, kh, kw) filters -> (C, 1, kh * kw + 1) GEMM rows whose last entry is the bias (or 0)."""
    C = wdw.shape[0]
    T = wdw.shape[1] * wdw.shape[2]
    wm = np.zeros((C, 1, T + 1), dtype=wdw.dtype)
    wm[:, 0, :T] = wdw.reshape(C, T)
    if bias is not None:
        wm[:, 0, T] = np.asarray(bias, dtype=wdw.dtype).reshape(C)
    return wm


def _ranges(n_out, n_in, k, stride, dil, pad_begin):
    """For each kernel index i: (first, end) output positions whose input position
    o * stride + i * dil - pad_begin lies inside [0, n_in), and that first input position."""
    out = []
    for i in range(k):
        off = i * dil - pad_begin
        # smallest o with o * stride + off >= 0, largest with o * stride + off <= n_in - 1
        lo = (-off + stride - 1) // stride if off < 0 else 0
        last = (n_in - 1 - off) // stride if n_in - 1 - off >= 0 else -1
        hi = min(n_out, last + 1)
        if hi <= lo:
            out.append((0, 0, 0))
        else:
            out.append((lo, hi, lo * stride + off))
    return out


def depthwise2d(x: np.ndarray, wm: np.ndarray, ks, strides, dil, pb, out_sp) -> np.ndarray:
    """Depthwise conv of x (N, C, H, W) with GEMM rows ``wm`` (C, 1, kh * kw + 1) from
    :func:`filters_with_bias`; begin pads ``pb``, output spatial shape ``out_sp``. Returns a new
    contiguous (N, C, oh, ow) array, bias included."""
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (dh, dw) = ks, strides, dil
    oh, ow = out_sp
    T = kh * kw
    L = oh * ow
    dt = x.dtype
    flat = sh == 1 and sw == 1 and ow == W
    rows = _ranges(oh, H, kh, sh, dh, pb[0])
    cols_ = _ranges(ow, W, kw, sw, dw, pb[1])
    HW = H * W
    if flat and oh == H:
        return _depthwise_block_flat(x, wm, ks, rows, cols_)
    if not flat and H == oh * sh and W == ow * sw:
        return _depthwise_block_phases(x, wm, ks, strides, dil, pb, rows, cols_, out_sp)
    # per tap, what each channel block copies; the zeros around it are written once (the
    # buffer starts zeroed and every block copies into the same places)
    plan = []
    for i in range(kh):
        r0, r1, y0 = rows[i]
        for j in range(kw):
            q0, q1, x0 = cols_[j]
            t = i * kw + j
            if r1 <= r0 or q1 <= q0:
                continue  # the tap reads only padding: its row stays zero
            if flat:
                d = (y0 - r0) * W + (x0 - q0)
                p0, p1 = max(r0 * W, -d), min(r1 * W, HW - d)
                plan.append((t, True, (p0, p1, d, r0, r1, q0, q1)))
            else:
                plan.append((t, False, (r0, r1, y0, q0, q1, x0)))
    cb = max(1, min(C, COLS_BLOCK_BYTES // ((T + 1) * L * dt.itemsize)))
    line = max(1, 64 // dt.itemsize)
    k = -(-L // line)
    buf = np.zeros((cb, T + 1, (k + 1 - k % 2) * line), dtype=dt)[:, :, :L]  # see _tap_major_buffer
    buf[:, T] = 1
    Y = np.empty((N, C, oh, ow), dtype=dt)
    Yf = Y.reshape(N, C, 1, L)
    for n in range(N):
        xn = x[n]
        xf = xn.reshape(C, HW) if flat else None
        for c0 in range(0, C, cb):
            c1 = min(C, c0 + cb)
            m = c1 - c0
            cm = buf[:m]
            for t, is_flat, g in plan:
                dst = cm[:, t]
                if is_flat:
                    p0, p1, d, r0, r1, q0, q1 = g
                    np.copyto(dst[:, p0:p1], xf[c0:c1, p0 + d:p1 + d])
                    # zero the columns the flat shift dragged across a row edge
                    if q0 or q1 < W:
                        d3 = dst.reshape(m, oh, W)
                        if q0:
                            d3[:, r0:r1, :q0] = 0
                        if q1 < W:
                            d3[:, r0:r1, q1:] = 0
                else:
                    r0, r1, y0, q0, q1, x0 = g
                    dst.reshape(m, oh, ow)[:, r0:r1, q0:q1] = xn[
                        c0:c1, y0:y0 + (r1 - r0 - 1) * sh + 1:sh, x0:x0 + (q1 - q0 - 1) * sw + 1:sw]
            np.matmul(wm[c0:c1], cm, out=Yf[n, c0:c1])
    return Y


def _depthwise_block_flat(x, wm, ks, rows, cols_):
    """Stride 1, output the size of the input: the buffer is laid out (taps + 1, channels, L)
    so that a tap of a whole channel block is ONE contiguous copy of the input flattened over
    channels, shifted by the tap's offset (small maps have short channel rows, and NumPy pays
    per row). Whatever the shift drags in from a neighbouring row or channel lies in the tap's
    padding rows / columns, zeroed afterwards for all taps of a kernel row / column at once.
    Each channel's (taps + 1, L) matrix then has a row stride of channels * L, which BLAS takes
    as it is."""
    N, C, H, W = x.shape
    kh, kw = ks
    T = kh * kw
    HW = H * W
    dt = x.dtype
    cb = max(1, min(C, COLS_BLOCK_BYTES // ((T + 1) * HW * dt.itemsize)))
    buf = _tap_major_buffer(T + 1, cb, HW, dt)
    buf[T] = 1
    Y = np.empty((N, C, H, W), dtype=dt)
    Yf = Y.reshape(N, C, 1, HW)
    total = C * HW
    for n in range(N):
        xall = x[n].reshape(total)
        for c0 in range(0, C, cb):
            c1 = min(C, c0 + cb)
            m = c1 - c0
            cm = buf[:, :m]
            base = c0 * HW
            size = m * HW
            for i in range(kh):
                r0, r1, y0 = rows[i]
                for j in range(kw):
                    q0, q1, x0 = cols_[j]
                    dst = cm[i * kw + j]
                    if r1 <= r0 or q1 <= q0:
                        dst.fill(0)
                        continue
                    d = base + (y0 - r0) * W + (x0 - q0)
                    lo, hi = max(0, -d), min(size, total - d)
                    if lo < hi:
                        np.copyto(dst.reshape(size)[lo:hi], xall[lo + d:hi + d])
            _zero_borders(cm, m, kh, kw, H, W, rows, cols_)
            np.matmul(wm[c0:c1], cm.transpose(1, 0, 2), out=Yf[n, c0:c1])
    return Y


def _depthwise_block_phases(x, wm, ks, strides, dil, pb, rows, cols_, out_sp):
    """Strided convs whose input splits into stride phases exactly the size of the output
    (H = oh * sh, W = ow * sw: the usual 3x3 stride-2 pad-1 case on even maps). Per channel
    block, the phases are copied out once (the only strided reads), then every tap is one
    contiguous copy of its phase, flattened over the block's channels and shifted by the tap's
    (row, column) offset in phase cells, as in :func:`_depthwise_block_flat`."""
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (dh, dw) = ks, strides, dil
    oh, ow = out_sp
    T = kh * kw
    L = oh * ow
    dt = x.dtype
    nph = sh * sw
    cb = max(1, min(C, COLS_BLOCK_BYTES // ((T + 1 + nph) * L * dt.itemsize)))
    buf = _tap_major_buffer(T + 1, cb, L, dt)
    buf[T] = 1
    ph = np.empty((nph, cb, L), dtype=dt)
    Y = np.empty((N, C, oh, ow), dtype=dt)
    Yf = Y.reshape(N, C, 1, L)
    taps = []
    for i in range(kh):
        a, ra = (i * dh - pb[0]) % sh, (i * dh - pb[0]) // sh
        for j in range(kw):
            b, cb_ = (j * dw - pb[1]) % sw, (j * dw - pb[1]) // sw
            taps.append((i, j, a * sw + b, ra * ow + cb_))
    for n in range(N):
        xn = x[n]
        for c0 in range(0, C, cb):
            c1 = min(C, c0 + cb)
            m = c1 - c0
            size = m * L
            cm = buf[:, :m]
            for a in range(sh):
                for b in range(sw):
                    np.copyto(ph[a * sw + b, :m].reshape(m, oh, ow), xn[c0:c1, a::sh, b::sw])
            for i, j, p, d in taps:
                dst = cm[i * kw + j]
                r0, r1, _ = rows[i]
                q0, q1, _ = cols_[j]
                if r1 <= r0 or q1 <= q0:
                    dst.fill(0)
                    continue
                lo, hi = max(0, -d), min(size, size - d)
                if lo < hi:
                    np.copyto(dst.reshape(size)[lo:hi], ph[p, :m].reshape(size)[lo + d:hi + d])
            _zero_borders(cm, m, kh, kw, oh, ow, rows, cols_)
            np.matmul(wm[c0:c1], cm.transpose(1, 0, 2), out=Yf[n, c0:c1])
    return Y


def _zero_borders(cm, m, kh, kw, oh, ow, rows, cols_):
    """Zero, in a (taps + 1, m, oh * ow) buffer, every tap's output rows and columns that read
    padding: all taps of a kernel row (column) at once."""
    T = kh * kw
    for i in range(kh):
        r0, r1, _ = rows[i]
        if r0 < r1 and (r0 or r1 < oh):
            g = cm[i * kw:(i + 1) * kw].reshape(kw, m, oh, ow)
            if r0:
                g[:, :, :r0] = 0
            if r1 < oh:
                g[:, :, r1:] = 0
    for j in range(kw):
        q0, q1, _ = cols_[j]
        if q0 < q1 and (q0 or q1 < ow):
            g = cm[j:T:kw].reshape(kh, m, oh, ow)
            if q0:
                g[..., :q0] = 0
            if q1 < ow:
                g[..., q1:] = 0


def _tap_major_buffer(taps, channels, L, dt):
    """An uninitialized (taps, channels, L) view whose tap stride is 64 bytes times an odd
    number: a channel's tap rows, read together by BLAS, then fall in different cache sets
    (a stride with a large power-of-two factor made the GEMM up to 2.5x slower here, e.g. 384
    channels of 14x14)."""
    line = max(1, 64 // dt.itemsize)
    k = -(-(channels * L) // line)
    if k % 2 == 0:
        k += 1
    raw = np.empty((taps, k * line), dtype=dt)
    return raw[:, :channels * L].reshape(taps, channels, L)
