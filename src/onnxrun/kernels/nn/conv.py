"""Conv (opsets 1, 11, 22): 1-D/2-D/3-D, groups, dilations, strides, pads and auto_pad.

The algorithm is picked at init from the weight shape and attributes (weights are reshaped
then, when constant): one GEMM for 1x1 convs; for 2-D depthwise convs a batched GEMM over
channels of each channel's taps (see _conv_depthwise), for 1-D / 3-D ones a shifted multiply-add
per tap; Winograd F(2x2,3x3) for wide 3x3 stride-1 convs; kn2row (one GEMM of every tap's
weights, then shifted sums) for stride-1 2-D convs with few output channels; otherwise im2col
(a strided window view copied into a buffer, in row blocks for large outputs) + one GEMM,
batched over groups. The bias rides inside the GEMM where a buffer is built anyway (a ones
row). Convs with few output positions (im2col, winograd and 1x1 ones) instead gather their
im2col matrix with an index made once per input shape, then one GEMM (see _conv_small).
Nothing per run is kept on the kernel."""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidArgument
from ...framework.intra_op import INLINE
from .. import _parallel
from ..base import OpKernel
from ..registry import kernel
from . import _conv_depthwise, _conv_small, _winograd
from ._conv_epilogue import add_channel_bias
from ._common import (compute_dtype, conv_attrs, out_shape_and_pads, pad_spatial,
                      spatial_params, windows)

#: Winograd pays off from this many input channels on (measured: at 64 channels on 56x56 maps
#: the transforms cost more than the GEMM saves) ...
WINOGRAD_MIN_CHANNELS = 128
#: ... and output channels ...
WINOGRAD_MIN_OUT_CHANNELS = 128
#: ... and output tiles (2x2 each); below this im2col's single GEMM is as fast.
WINOGRAD_MIN_TILES = 32
#: 1x1 convs with fewer input than output channels fold the bias into the GEMM (copying the
#: input under a ones row) from this many output pixels on (measured neutral below).
POINTWISE_FOLD_MIN = 2048
#: im2col buffers above this size are built and multiplied in blocks of output rows.
IM2COL_BLOCK_BYTES = 2 << 20
#: kn2row (one GEMM of all taps' weights against the flat padded input, then shifted sums of
#: the M-row output blocks) beats im2col when output channels are few: M * ratio <= C.
KN2ROW_MAX_RATIO = 2


class _Prepared:
    """Weights reshaped for the chosen algorithm (built at init for constant W, else per run).

    ``wmat``: (G, M/G, K) GEMM weights; ``wmat_b``: the same with a bias column appended (the
    im2col buffer carries a matching row of ones); ``U``: Winograd filters with bias column;
    ``wdw``: depthwise filters; ``wall``: (taps * M, C + 1) per-tap weights for kn2row, bias in
    the last column of tap 0's rows; ``bias_in``: the constant bias is already in wmat_b / U."""

    __slots__ = ("algo", "wmat", "wmat_b", "U", "wdw", "wall", "bias_in")

    def __init__(self, algo, wmat=None, wmat_b=None, U=None, wdw=None, wall=None,
                 bias_in=False):
        self.algo, self.wmat, self.wmat_b, self.U, self.wdw = algo, wmat, wmat_b, U, wdw
        self.wall = wall
        self.bias_in = bias_in


def _with_bias_column(wmat, bias):
    """(G, Mg, K) -> (G, Mg, K + 1) with the bias (or zeros) as last column."""
    G, Mg, K = wmat.shape
    out = np.zeros((G, Mg, K + 1), dtype=wmat.dtype)
    out[:, :, :K] = wmat
    if bias is not None:
        out[:, :, K] = np.asarray(bias, dtype=wmat.dtype).reshape(G, Mg)
    return out


def _winograd_tiles(out_sp) -> int:
    return (-(-out_sp[0] // 2)) * (-(-out_sp[1] // 2))


@kernel("Conv", since=1, fresh=True)
class Conv(OpKernel):
    """Conv for every opset version (the versions differ only in allowed types)."""

    #: Winograd's transforms round; subclasses that need every sum exact (integer-valued
    #: float inputs, kernels/quant) turn it off. The other algorithms only add products.
    ALLOW_WINOGRAD = True

    def __init__(self, info):
        super().__init__(info)
        conv_attrs(self, info)
        self.pool = getattr(info, "intra_op", None) or INLINE
        self.prepared = None
        # geometry (kernel, strides, dilations, output shape, pads) per (X, W) shapes: a pure
        # function of the shapes and attributes, computed once per shape
        self._geometry = {}
        W = info.const_inputs[1] if len(info.const_inputs) > 1 else None
        Bc = info.const_inputs[2] if len(info.const_inputs) > 2 else None
        if W is not None:
            self._check_w(W)
            if Bc is not None and Bc.shape != (W.shape[0],):
                raise InvalidArgument(f"B must have shape ({W.shape[0]},), got {Bc.shape}")
            self.prepared = self._prepare(W, Bc, info)

    # -- planning ---------------------------------------------------------------------------
    def _static_outputs(self, info, W):
        """Output positions per image when the input's spatial shape is known at init (shape
        inference), else None."""
        out_sp = self._static_out_shape(info, W)
        return None if out_sp is None else math.prod(out_sp)

    def _static_out_shape(self, info, W):
        """The output's spatial shape when the input's is known at init, else None."""
        types = getattr(info, "input_types", None)
        shape = getattr(types[0], "shape", None) if types else None
        if shape is None or len(shape) != W.ndim:
            return None
        sp = shape[2:]
        if not all(type(d) is int and d > 0 for d in sp):
            return None
        try:
            ks = list(W.shape[2:])
            strides, dil, pads = spatial_params(len(ks), ks, self.strides, self.dilations,
                                                self.pads)
            out_sp = out_shape_and_pads(sp, ks, strides, dil, pads, self.auto_pad)[0]
        except InvalidArgument:
            return None
        return out_sp

    def _check_w(self, W):
        if W.ndim < 3:
            raise InvalidArgument(f"W must have rank >= 3 (M, C/group, k...), got shape {W.shape}")
        if W.shape[0] % self.group:
            raise InvalidArgument(
                f"W's output channels {W.shape[0]} must be divisible by group {self.group}")
        if self.kernel_shape is not None and list(W.shape[2:]) != self.kernel_shape:
            raise InvalidArgument(
                f"kernel_shape {self.kernel_shape} does not match W's shape {W.shape}")

    def _prepare(self, W, bias=None, info=None) -> _Prepared:
        """``info`` (at init): lets a 1x1 conv whose input shape is known skip building a
        bias-folded copy of its weights that would never be used."""
        nsp = W.ndim - 2
        strides, dil, pads = spatial_params(nsp, list(W.shape[2:]), self.strides,
                                            self.dilations, self.pads)
        cdt = compute_dtype(W.dtype)
        W = np.asarray(W, dtype=cdt)
        M, Cg = W.shape[:2]
        G = self.group
        ks = W.shape[2:]
        if (self.ALLOW_WINOGRAD and nsp == 2 and ks == (3, 3) and strides == [1, 1]
                and dil == [1, 1] and G == 1
                and M >= WINOGRAD_MIN_OUT_CHANNELS and Cg >= WINOGRAD_MIN_CHANNELS
                and cdt in (np.float32, np.float64)):
            wmat = np.ascontiguousarray(W.reshape(1, M, -1))
            out_sp = self._static_out_shape(info, W) if info is not None else None
            # the im2col weights are for outputs too small for Winograd: built only when the
            # output shape is unknown at init or small
            small = out_sp is None or _winograd_tiles(out_sp) < WINOGRAD_MIN_TILES
            return _Prepared("winograd", U=_winograd.filter_transform(W, bias), wmat=wmat,
                             wmat_b=_with_bias_column(wmat, bias) if small else None,
                             bias_in=bias is not None)
        if Cg == 1 and M == G:
            # depthwise: (C, k...) one filter per channel; 2-D: GEMM rows with the bias
            wdw = np.ascontiguousarray(W.reshape((M,) + ks))
            if nsp == 2:
                return _Prepared("depthwise", wdw=wdw,
                                 wmat_b=_conv_depthwise.filters_with_bias(wdw, bias),
                                 bias_in=bias is not None)
            return _Prepared("depthwise", wdw=wdw)
        K = Cg * int(np.prod(ks, dtype=np.int64))
        wmat = np.ascontiguousarray(W.reshape(G, M // G, K))
        if all(k == 1 for k in ks):
            fold = bias is not None and Cg < M // G
            if fold and info is not None:
                outputs = self._static_outputs(info, W)
                fold = outputs is None or outputs >= POINTWISE_FOLD_MIN
            if fold:
                # cheaper to copy the input with a ones row than to add the bias afterwards
                return _Prepared("pointwise", wmat=wmat, wmat_b=_with_bias_column(wmat, bias),
                                 bias_in=True)
            return _Prepared("pointwise", wmat=wmat)
        if nsp == 2 and G == 1 and strides == [1, 1] and M * KN2ROW_MAX_RATIO <= Cg:
            T = ks[0] * ks[1]
            wall = np.zeros((T * M, Cg + 1), dtype=cdt)
            wall[:, :Cg] = W.transpose(2, 3, 0, 1).reshape(T * M, Cg)
            if bias is not None:
                wall[:M, Cg] = bias
            return _Prepared("kn2row", wall=wall, bias_in=bias is not None)
        return _Prepared("im2col", wmat=wmat, wmat_b=_with_bias_column(wmat, bias),
                         bias_in=bias is not None)

    # -- run --------------------------------------------------------------------------------
    def __call__(self, X, W, B=None):
        if X.ndim < 3:
            raise InvalidArgument(f"X must have rank >= 3 (N, C, spatial...), got shape {X.shape}")
        if W.ndim != X.ndim:
            raise InvalidArgument(f"W rank {W.ndim} must equal X rank {X.ndim}")
        G = self.group
        N, C = X.shape[:2]
        M, Cg = W.shape[:2]
        if Cg * G != C:
            raise InvalidArgument(
                f"X has {C} channels but W expects {Cg} x group {G} = {Cg * G}")
        prep = self.prepared
        if prep is None:
            self._check_w(W)
            prep = self._prepare(W)
        if B is not None and B.shape != (M,):
            raise InvalidArgument(f"B must have shape ({M},), got {B.shape}")
        nsp = X.ndim - 2
        key = (X.shape, W.shape, X.dtype)
        geo = self._geometry.get(key)
        if geo is None:
            ks = list(W.shape[2:])
            strides, dil, pads = spatial_params(nsp, ks, self.strides, self.dilations,
                                                self.pads)
            out_sp, pb, pe = out_shape_and_pads(X.shape[2:], ks, strides, dil, pads,
                                                self.auto_pad)
            small = None
            if len(self._geometry) < _conv_small.MAX_SHAPES:  # (its index is cached here)
                small = _conv_small.plan(self.prepared, X.shape, X.dtype, G, ks, strides, dil,
                                         out_sp, pb)
            geo = (ks, strides, dil, out_sp, pb, pe, small)
            if len(self._geometry) < 64:
                self._geometry[key] = geo
        ks, strides, dil, out_sp, pb, pe, small = geo
        if small is not None:  # few output positions: one gather and one GEMM
            return small(X, B)
        out_dt = X.dtype
        cdt = compute_dtype(X.dtype)
        x = X if X.dtype == cdt else X.astype(cdt)
        if any(o == 0 for o in out_sp) or N == 0 or M == 0:
            return np.zeros((N, M) + tuple(out_sp), dtype=out_dt)
        algo = prep.algo
        if algo == "winograd" and _winograd_tiles(out_sp) < WINOGRAD_MIN_TILES:
            algo = "im2col"
            if prep.wmat_b is None:  # a shape other than the one known at init
                prep.wmat_b = _with_bias_column(prep.wmat, B if prep.bias_in else None)
        bias_done = B is None
        if algo == "winograd":
            U = prep.U
            if not bias_done and not prep.bias_in:
                U = _winograd.with_bias(U, B.astype(cdt, copy=False))
            Y = _winograd.conv3x3(x, U, pb, out_sp)
            bias_done = True
        elif algo == "im2col":
            wb = prep.wmat_b
            if not bias_done and not prep.bias_in:
                wb = wb.copy()
                wb[:, :, -1] = B.astype(cdt, copy=False).reshape(wb.shape[:2])
            Y = self._im2col(x, wb, ks, strides, dil, pb, pe, out_sp)
            bias_done = True
        elif algo == "kn2row":
            wall = prep.wall
            if not bias_done and not prep.bias_in:
                wall = wall.copy()
                wall[:M, -1] = B.astype(cdt, copy=False)
            Y = _kn2row(x, wall, M, ks, dil, pb, out_sp, self.pool)
            bias_done = True
        elif algo == "depthwise" and nsp == 2:
            wm = prep.wmat_b.astype(cdt, copy=False)
            if not bias_done and not prep.bias_in:
                wm = wm.copy()
                wm[:, 0, -1] = B.astype(cdt, copy=False)
            Y = _conv_depthwise.depthwise2d(x, wm, ks, strides, dil, pb, out_sp)
            bias_done = True
        elif algo == "depthwise":
            Y = self._depthwise(x, prep.wdw.astype(cdt, copy=False), ks, strides, dil, pb, pe,
                                out_sp)
        elif algo == "pointwise":
            if prep.bias_in and B is not None and math.prod(out_sp) >= POINTWISE_FOLD_MIN:
                Y = self._pointwise_bias(x, prep.wmat_b, strides, pb, pe, out_sp, self.pool)
                bias_done = True
            else:
                Y = self._pointwise(x, prep.wmat, strides, pb, pe, out_sp)
        else:  # pragma: no cover - every algorithm is handled above
            raise AssertionError(algo)
        if not bias_done:
            add_channel_bias(Y, B)
        if Y.dtype != out_dt:
            Y = Y.astype(out_dt)
        return Y

    def _pointwise(self, x, wmat, strides, pb, pe, out_sp):
        G, Mg, Cg = wmat.shape
        N = x.shape[0]
        nsp = x.ndim - 2
        if any(pb) or any(pe):
            x = pad_spatial(x, pb, pe)
        if x.shape[2:] != tuple(out_sp) or any(s != 1 for s in strides):
            x = x[(slice(None), slice(None)) + tuple(
                slice(0, out_sp[i] * strides[i], strides[i]) for i in range(nsp))]
        L = math.prod(out_sp)
        xm = x.reshape(N, G, Cg, L)
        if N == 1 and G == 1:
            Y = _parallel.matmul(wmat[0], xm[0, 0], self.pool)
        else:
            Y = _parallel.matmul(wmat, xm, self.pool)
        return Y.reshape((N, G * Mg) + tuple(out_sp))

    @staticmethod
    def _pointwise_bias(x, wmat_b, strides, pb, pe, out_sp, pool=None):
        """1x1 conv with the bias folded in: the input is copied under a row of ones."""
        G, Mg, C1 = wmat_b.shape
        Cg = C1 - 1
        N = x.shape[0]
        nsp = x.ndim - 2
        if any(pb) or any(pe):
            x = pad_spatial(x, pb, pe)
        x = x[(slice(None), slice(None)) + tuple(
            slice(0, out_sp[i] * strides[i], strides[i]) for i in range(nsp))]
        L = int(np.prod(out_sp, dtype=np.int64))
        buf = np.empty((N, G, C1, L), dtype=x.dtype)
        buf[:, :, Cg] = 1
        np.copyto(buf[:, :, :Cg].reshape((N, G, Cg) + tuple(out_sp)),
                  x.reshape((N, G, Cg) + tuple(out_sp)))
        if N == 1 and G == 1:
            Y = _parallel.matmul(wmat_b[0], buf[0, 0], pool)
        else:
            Y = _parallel.matmul(wmat_b, buf, pool)
        return Y.reshape((N, G * Mg) + tuple(out_sp))

    def _im2col(self, x, wmat_b, ks, strides, dil, pb, pe, out_sp):
        """im2col into a (N, G, K + 1, L) buffer whose last row is ones (bias column); large
        outputs are done in blocks of output rows so the buffer stays cache-sized."""
        G, Mg, K1 = wmat_b.shape
        K = K1 - 1
        N, C = x.shape[:2]
        Cg = C // G
        nsp = x.ndim - 2
        xp = pad_spatial(x, pb, pe)
        xp = xp.reshape((N, G, Cg) + xp.shape[2:])
        win = windows(xp, ks, strides, dil, out_sp)  # (N, G, Cg, k..., o...)
        L = int(np.prod(out_sp, dtype=np.int64))
        inner = L // out_sp[0]  # outputs per row of the first spatial axis
        rows = max(1, min(out_sp[0], IM2COL_BLOCK_BYTES // max(1, N * G * K1 * inner
                                                               * x.dtype.itemsize)))
        if rows >= out_sp[0]:
            cols = np.empty((N, G, K1, L), dtype=x.dtype)
            cols[:, :, K] = 1
            np.copyto(cols[:, :, :K].reshape(win.shape), win)
            if N == 1 and G == 1:
                Y = _parallel.matmul(wmat_b[0], cols[0, 0], self.pool)
            else:
                Y = _parallel.matmul(wmat_b, cols, self.pool)
            return Y.reshape((N, G * Mg) + tuple(out_sp))
        Y = np.empty((N, G, Mg, out_sp[0], inner), dtype=x.dtype)
        lead = (slice(None),) * (3 + nsp)
        w2 = wmat_b[0] if N == 1 and G == 1 else None
        starts = list(range(0, out_sp[0], rows))

        def block(b):  # one block of output rows: its columns, then one GEMM
            r0 = starts[b]
            r1 = min(out_sp[0], r0 + rows)
            part = (r1 - r0) * inner
            # a contiguous buffer per block (NumPy's batched matmul wants contiguous operands)
            c = np.empty((N, G, K1, part), dtype=x.dtype)
            c[:, :, K] = 1
            wb = win[lead + (slice(r0, r1),)]
            np.copyto(c[:, :, :K].reshape(wb.shape), wb)
            if w2 is not None:
                Y[0, 0, :, r0:r1] = np.matmul(w2, c[0, 0]).reshape(Mg, r1 - r0, inner)
            else:
                Y[:, :, :, r0:r1] = np.matmul(wmat_b, c).reshape(N, G, Mg, r1 - r0, inner)

        n = len(starts)
        self.pool.parallel_for(n, lambda lo, hi: [block(b) for b in range(lo, hi)], n)
        return Y.reshape((N, G * Mg) + tuple(out_sp))

    @staticmethod
    def _depthwise(x, wdw, ks, strides, dil, pb, pe, out_sp):
        """Depthwise 1-D / 3-D conv: one multiply-add pass per kernel tap, no im2col buffer
        (2-D depthwise convs go to :mod:`._conv_depthwise`)."""
        N, C = x.shape[:2]
        nsp = x.ndim - 2
        xp = pad_spatial(x, pb, pe)
        win = windows(xp, ks, strides, dil, out_sp)  # (N, C, k..., o...)
        Y = np.zeros((N, C) + tuple(out_sp), dtype=x.dtype)
        tmp = np.empty_like(Y)
        bshape = (C,) + (1,) * nsp
        for idx in np.ndindex(*ks):
            tap = win[(slice(None), slice(None)) + idx]
            w = wdw[(slice(None),) + idx].reshape(bshape)
            np.multiply(tap, w, out=tmp)
            Y += tmp
        return Y


def _kn2row(x, wall, M, ks, dil, pb, out_sp, pool=None):
    """Stride-1 2-D conv as one GEMM (all taps' weights, (T*M, C+1)) against the input padded
    and flattened per channel (plus a ones row for the bias), followed by the sum of each
    tap's (M, oh*Wq) block shifted by that tap's flat offset; the width is cropped at the end."""
    N, C, H, W = x.shape
    (kh, kw), (dh, dw) = ks, dil
    oh, ow = out_sp
    Hq, Wq = oh + (kh - 1) * dh, ow + (kw - 1) * dw
    Lq = Hq * Wq + (kw - 1) * dw
    buf = np.zeros((N, C + 1, Lq), dtype=x.dtype)
    img = buf[:, :C, :Hq * Wq].reshape(N, C, Hq, Wq)
    h1, w1 = min(H, Hq - pb[0]), min(W, Wq - pb[1])
    img[:, :, pb[0]:pb[0] + h1, pb[1]:pb[1] + w1] = x[:, :, :h1, :w1]
    buf[:, C] = 1
    Z = _parallel.matmul(wall, buf[0] if N == 1 else buf, pool)  # ([N,] T*M, Lq)
    if N == 1:
        Z = Z[None]
    L = oh * Wq
    Y = np.empty((N, M, L), dtype=x.dtype)
    t = 0
    for i in range(kh):
        for j in range(kw):
            off = i * dh * Wq + j * dw
            z = Z[:, t * M:(t + 1) * M, off:off + L]
            if t == 0:
                np.copyto(Y, z)
            else:
                Y += z
            t += 1
    Y = Y.reshape(N, M, oh, Wq)
    return np.ascontiguousarray(Y[:, :, :, :ow]) if Wq != ow else Y
