"""2-D depthwise convolution (one filter per channel) as a batched GEMM over channels.

For each block of channels, every kernel tap's input samples are copied into a buffer laid out
like the output (one row of oh * ow per tap and channel, plus a row of ones for the bias), and
BLAS contracts each channel's (1, taps + 1) filter-plus-bias row with its (taps + 1, oh * ow)
matrix, writing straight into the output: no padded copy of the input, no crop, no separate
bias pass. How the taps are copied depends on the geometry:

* the input splits into stride phases the size of the output (stride 1 with "same" padding:
  one phase, the input itself; 3x3 stride 2 pad 1 on even maps: four):
  :func:`_depthwise_phases`: the buffer is tap-major, (taps + 1, channels, L); per channel
  block each phase is copied once (the only strided reads), then the taps of a phase are ONE
  copy from a strided view of it, each tap a contiguous run over the block's channels shifted
  by its offset; what a shift drags in from a neighbouring row or channel lies in the tap's
  padding rows and columns, zeroed afterwards;
* anything else: per channel rows (channels, taps + 1, L), a tap being a shifted flat copy
  (stride 1, same width) or a strided copy of its sub-rectangle; zeros written once.

Small maps gain most: NumPy pays per row of an operation, and copying a tap for a whole block
of channels in one contiguous run avoids channels * rows short rows. Measured on the
MobileNetV2 / ShuffleNet layers against the previous kernel (a multiply and an add pass per tap
over a padded copy on large maps, a per-tap-copied GEMM buffer on small ones, bias added
afterwards): 1.2-1.3x on 56x56 and 112x112 maps, 1.2-1.4x stride 2, 1.3-1.8x on 7x7 to 28x28
maps; 1.35x over all of them (fixed cost per call about 25 us). What is left is NumPy's per-element copy cost (9 copies per output) and
BLAS's rate on 1-row GEMMs (about 10 GFLOP/s here)."""

from __future__ import annotations

import functools

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
    if H == oh * sh and W == ow * sw:
        plan = _phase_plan(H, W, tuple(ks), tuple(strides), tuple(dil), tuple(pb[:2]),
                           tuple(out_sp))
        return _depthwise_phases(x, wm, plan)
    dt = x.dtype
    flat = sh == 1 and sw == 1 and ow == W
    rows = _ranges(oh, H, kh, sh, dh, pb[0])
    cols_ = _ranges(ow, W, kw, sw, dw, pb[1])
    HW = H * W
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


class _PhasePlan:
    """How :func:`_depthwise_phases` lays out and fills its buffer for one geometry."""

    __slots__ = ("sh", "sw", "oh", "ow", "T", "perm", "groups", "zeros", "front", "back")


@functools.lru_cache(maxsize=256)
def _phase_plan(H, W, ks, strides, dil, pb, out_sp) -> _PhasePlan:
    """Stride phase (a, b) holds input rows a, a + sh, ... and columns b, b + sw, ...: an
    (oh, ow) grid when H = oh * sh and W = ow * sw. Tap (i, j) reads the phase of row
    i * dh - pt and column j * dw - pl, shifted by whole phase cells; the taps sharing a phase
    form a grid whose flat offsets are regular, so one strided view copies them all. Buffer
    slots are taken phase by phase (``perm``: tap index of each slot)."""
    (kh, kw), (sh, sw), (dh, dw) = ks, strides, dil
    oh, ow = out_sp
    rows = _ranges(oh, H, kh, sh, dh, pb[0])
    cols = _ranges(ow, W, kw, sw, dw, pb[1])
    ri = [divmod(i * dh - pb[0], sh) for i in range(kh)]  # (row shift, row phase)
    cj = [divmod(j * dw - pb[1], sw) for j in range(kw)]
    plan = _PhasePlan()
    plan.sh, plan.sw, plan.oh, plan.ow, plan.T = sh, sw, oh, ow, kh * kw
    perm, groups, zeros, offs = [], [], [], [0]
    slot = 0
    for a in range(sh):
        I = [i for i in range(kh) if ri[i][1] == a]
        for b in range(sw):
            J = [j for j in range(kw) if cj[j][1] == b]
            if not I or not J:
                continue
            rstep = (ri[I[1]][0] - ri[I[0]][0]) * ow if len(I) > 1 else 0
            cstep = cj[J[1]][0] - cj[J[0]][0] if len(J) > 1 else 0
            off0 = ri[I[0]][0] * ow + cj[J[0]][0]
            nI, nJ = len(I), len(J)
            groups.append((a * sw + b, slot, nI, nJ, rstep, cstep, off0))
            offs += [off0, off0 + (nI - 1) * rstep + (nJ - 1) * cstep]
            perm += [i * kw + j for i in I for j in J]
            for ii, i in enumerate(I):
                r0, r1, _ = rows[i]
                taps = slice(slot + ii * nJ, slot + (ii + 1) * nJ)
                if r1 <= r0:
                    zeros.append((taps, slice(None), slice(None)))
                    continue
                if r0:
                    zeros.append((taps, slice(0, r0), slice(None)))
                if r1 < oh:
                    zeros.append((taps, slice(r1, oh), slice(None)))
            for jj, j in enumerate(J):
                q0, q1, _ = cols[j]
                taps = slice(slot + jj, slot + nI * nJ, nJ)
                if q1 <= q0:
                    zeros.append((taps, slice(None), slice(None)))
                    continue
                if q0:
                    zeros.append((taps, slice(None), slice(0, q0)))
                if q1 < ow:
                    zeros.append((taps, slice(None), slice(q1, ow)))
            slot += nI * nJ
    plan.perm = None if perm == list(range(kh * kw)) else np.array(perm + [kh * kw])
    plan.groups, plan.zeros = groups, zeros
    plan.front, plan.back = max(0, -min(offs)), max(0, max(offs))
    return plan


def _view(a: np.ndarray, shape) -> np.ndarray:
    """``a`` reshaped without a copy (raises if that is impossible)."""
    v = a.view()
    v.shape = shape
    return v


def _depthwise_phases(x, wm, plan: _PhasePlan):
    """Geometries whose input splits into stride phases the size of the output (stride 1 with
    'same' padding: one phase, the input itself; 3x3 stride 2 pad 1 on even maps: four). The
    buffer is tap-major, (taps + 1, channels, L): per channel block, each phase is copied once
    into a flat scratch with room around it (the only strided reads when strided), then all the
    taps of a phase are ONE copy from a strided view of it, each tap a contiguous run over the
    whole block of channels shifted by its offset in phase cells. Whatever a shift drags in from
    a neighbouring row, channel or the room around lies in the tap's padding rows or columns,
    zeroed afterwards (per kernel row / column, all their taps at once). Each channel's
    (taps + 1, L) matrix has a row stride of the tap stride, which BLAS takes as it is."""
    N, C, H, W = x.shape
    sh, sw, oh, ow, T = plan.sh, plan.sw, plan.oh, plan.ow, plan.T
    L = oh * ow
    dt = x.dtype
    it = dt.itemsize
    nph = sh * sw
    if plan.perm is not None:
        wm = np.take(wm, plan.perm, axis=2)
    cb = max(1, min(C, COLS_BLOCK_BYTES // ((T + 1 + nph) * L * it)))
    buf = _tap_major_buffer(T + 1, cb, L, dt)
    buf[T] = 1
    pstride = plan.front + cb * L + plan.back
    ph = np.empty(nph * pstride, dtype=dt)
    Y = np.empty((N, C, oh, ow), dtype=dt)
    Yf = Y.reshape(N, C, 1, L)
    for n in range(N):
        xn = x[n]
        for c0 in range(0, C, cb):
            c1 = min(C, c0 + cb)
            m = c1 - c0
            size = m * L
            cm = buf[:, :m]
            for a in range(sh):
                for b in range(sw):
                    start = (a * sw + b) * pstride + plan.front
                    dst = _view(ph[start:start + size], (m, oh, ow))
                    if nph == 1:
                        np.copyto(dst, xn[c0:c1])
                    else:
                        np.copyto(dst, xn[c0:c1, a::sh, b::sw])
            for p, s0, nI, nJ, rstep, cstep, off0 in plan.groups:
                src = np.ndarray((nI, nJ, size), dtype=dt, buffer=ph,
                                 offset=(p * pstride + plan.front + off0) * it,
                                 strides=(rstep * it, cstep * it, it))
                np.copyto(_view(cm[s0:s0 + nI * nJ], (nI, nJ, size)), src)
            for taps, rs, cs in plan.zeros:
                g = cm[taps]
                _view(g, (g.shape[0], m, oh, ow))[:, :, rs, cs] = 0
            np.matmul(wm[c0:c1], cm.transpose(1, 0, 2), out=Yf[n, c0:c1])
    return Y
