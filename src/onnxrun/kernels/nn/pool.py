"""MaxPool, AveragePool and LpPool (every opset version), vectorized over strided windows:
each kernel tap is one whole-array operation on a strided view of the padded input."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import (auto_pad_attr, compute_dtype, ints_attr, out_shape_and_pads,
                      pad_spatial, spatial_params, windows)


class _Pool(OpKernel):
    """Shared attribute parsing and geometry of the windowed pooling ops."""

    def __init__(self, info):
        super().__init__(info)
        self.kernel_shape = ints_attr(info, "kernel_shape")
        if not self.kernel_shape:
            raise InvalidArgument("required attribute 'kernel_shape' is missing")
        self.nsp = len(self.kernel_shape)
        self.auto_pad = auto_pad_attr(info)
        self.ceil_mode = bool(info.attr("ceil_mode", 0))
        self.strides, self.dilations, self.pads = spatial_params(
            self.nsp, self.kernel_shape, ints_attr(info, "strides"),
            ints_attr(info, "dilations"), ints_attr(info, "pads"))

    def geometry(self, X):
        if X.ndim != self.nsp + 2:
            raise InvalidArgument(
                f"X must have rank {self.nsp + 2} for a {self.nsp}-D kernel_shape, got {X.shape}")
        return out_shape_and_pads(X.shape[2:], self.kernel_shape, self.strides, self.dilations,
                                  self.pads, self.auto_pad, self.ceil_mode)

    def taps(self, xp, out_sp):
        """Yield (kernel index, strided view of xp for that tap) for every kernel tap."""
        win = windows(xp, self.kernel_shape, self.strides, self.dilations, out_sp)
        for idx in np.ndindex(*self.kernel_shape):
            yield idx, win[(slice(None), slice(None)) + idx]

    def reduce_taps(self, x, out_sp, pb, pe, fill, op):
        """Fold ``op`` (np.maximum / np.add) over the pooling window of x padded with ``fill``.

        2-D windows run on the padded input flattened to one long 1-D array: the window is
        reduced along rows then along columns at every position (k1 - 1 + k0 - 1 long
        contiguous operations, free of per-row overhead), then the strided outputs are picked.
        Other ranks reduce one spatial axis at a time over strided views."""
        if self.nsp == 2 and x.ndim == 4:
            return self._reduce_flat_2d(x, out_sp, pb, pe, fill, op)
        cur = pad_spatial(x, pb, pe, fill)
        lead = x.ndim - self.nsp
        for i in range(self.nsp):
            k, st, d, o = self.kernel_shape[i], self.strides[i], self.dilations[i], out_sp[i]
            ax = lead + i
            pre = (slice(None),) * ax

            def tap(j):
                return cur[pre + (slice(j * d, j * d + (o - 1) * st + 1, st),)]

            nxt = tap(0).copy()
            for j in range(1, k):
                op(nxt, tap(j), out=nxt)
            cur = nxt
        if cur is x:
            cur = cur.copy()
        return cur


    def _reduce_flat_2d(self, x, out_sp, pb, pe, fill, op):
        """See :meth:`reduce_taps`: rows first (offsets j*d1), then columns (offsets i*d0*Wp)
        over the flat padded input; garbage lands only where no output reads."""
        N, C, H, W = x.shape
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_shape, self.strides, self.dilations
        oh, ow = out_sp
        Hp, Wp = H + pb[0] + pe[0], W + pb[1] + pe[1]
        n = N * C * Hp * Wp
        tail = (kw - 1) * dw
        xp = np.empty(n + tail, dtype=x.dtype)
        xp.fill(fill)
        xp[:n].reshape(N, C, Hp, Wp)[:, :, pb[0]:pb[0] + H, pb[1]:pb[1] + W] = x
        if kw > 1:
            rows = np.empty(n, dtype=x.dtype)
            op(xp[:n], xp[dw:dw + n], out=rows)
            for j in range(2, kw):
                op(rows, xp[j * dw:j * dw + n], out=rows)
        else:
            rows = xp[:n]
        if kh > 1:
            m = n - (kh - 1) * dh * Wp
            out = xp if kw > 1 else np.empty(n, dtype=x.dtype)
            acc = out[:m]
            step = dh * Wp
            op(rows[:m], rows[step:step + m], out=acc)
            for i in range(2, kh):
                op(acc, rows[i * step:i * step + m], out=acc)
            full = out[:n]
        else:
            full = rows
        sel = full.reshape(N, C, Hp, Wp)[:, :, :(oh - 1) * sh + 1:sh, :(ow - 1) * sw + 1:sw]
        return np.ascontiguousarray(sel)

def _lowest(dt):
    if dt.kind == "f":
        return -np.inf
    if dt.kind in "iu":
        return np.iinfo(dt).min
    return -np.inf


@kernel("MaxPool", since=1, fresh=True)
class MaxPool(_Pool):
    """MaxPool with the optional Indices output (opset >= 8) and storage_order."""

    def __init__(self, info):
        super().__init__(info)
        self.storage_order = int(info.attr("storage_order", 0))
        self.want_indices = info.output_wanted(1)
        self.multi = info.since_version >= 8  # Indices output exists from opset 8 on

    def _one(self, Y):
        return (Y,) if self.multi else Y

    def __call__(self, X):
        out_sp, pb, pe = self.geometry(X)
        N, C = X.shape[:2]
        shape = (N, C) + tuple(out_sp)
        if any(o == 0 for o in out_sp):
            Y = np.empty(shape, dtype=X.dtype)
            return (Y, np.empty(shape, dtype=np.int64)) if self.want_indices else self._one(Y)
        dt = X.dtype
        x = X if dt.kind in "fiu" or dt == np.float16 else X.astype(np.float32)
        if not self.want_indices:
            Y = self.reduce_taps(x, out_sp, pb, pe, _lowest(x.dtype), np.maximum)
            return self._one(Y.astype(dt, copy=False))
        xp = pad_spatial(x, pb, pe, _lowest(x.dtype))
        # indices: collect taps along a last axis and take the first maximum
        K = len(list(np.ndindex(*self.kernel_shape)))
        stack = np.empty(shape + (K,), dtype=x.dtype)
        for t, (_, tap) in enumerate(self.taps(xp, out_sp)):
            stack[..., t] = tap
        arg = np.argmax(stack, axis=-1)
        Y = np.take_along_axis(stack, arg[..., None], axis=-1)[..., 0].astype(dt, copy=False)
        kidx = np.unravel_index(arg, self.kernel_shape)
        in_sp = X.shape[2:]
        coords = []
        for i in range(self.nsp):
            o = np.arange(out_sp[i]).reshape((-1,) + (1,) * (self.nsp - 1 - i))
            coords.append(o * self.strides[i] + kidx[i] * self.dilations[i] - pb[i])
        if self.storage_order == 0:
            flat = np.zeros(shape, dtype=np.int64)
            for i in range(self.nsp):
                flat = flat * in_sp[i] + coords[i]
        else:
            flat = np.zeros(shape, dtype=np.int64)
            for i in reversed(range(self.nsp)):
                flat = flat * in_sp[i] + coords[i]
        spatial = int(np.prod(in_sp, dtype=np.int64))
        base = (np.arange(N * C, dtype=np.int64) * spatial).reshape((N, C) + (1,) * self.nsp)
        return Y, flat + base


def _window_counts(n, k, s, d, pb, lo, hi, o):
    """Per output position along one axis: how many taps land in [lo, hi) (input coords)."""
    starts = np.arange(o) * s - pb
    taps = starts[:, None] + np.arange(k)[None, :] * d
    return ((taps >= lo) & (taps < hi)).sum(axis=1)


@kernel("AveragePool", since=1, fresh=True)
class AveragePool(_Pool):
    """AveragePool with count_include_pad, ceil_mode and dilations (opset 19+)."""

    def __init__(self, info):
        super().__init__(info)
        self.count_include_pad = bool(info.attr("count_include_pad", 0))
        # divisors by (input spatial shape, dtype): pure functions of the geometry, read-only
        self._div_cache = {}

    def divisor(self, in_sp, out_sp, pb, dtype):
        """The per-output window sizes (at least 1), cached per input shape."""
        key = (tuple(in_sp), np.dtype(dtype).str)
        div = self._div_cache.get(key)
        if div is None:
            div = np.maximum(self._divisor(in_sp, out_sp, pb, dtype), 1).astype(dtype)
            div.flags.writeable = False
            if len(self._div_cache) < 64:
                self._div_cache[key] = div
        return div

    def _divisor(self, in_sp, out_sp, pb, dtype):
        div = None
        for i in range(self.nsp):
            n = in_sp[i]
            if not self.count_include_pad:
                lo, hi = 0, n
            elif self.auto_pad == "NOTSET":
                lo, hi = -self.pads[i], n + self.pads[i + self.nsp]
            else:  # automatic pads count as padding too (but not a ceil_mode extension)
                lo, hi = -pb[i], n + self.pads_total(i, in_sp, out_sp, pb)
            c = _window_counts(n, self.kernel_shape[i], self.strides[i], self.dilations[i],
                               pb[i], lo, hi, out_sp[i]).astype(dtype)
            c = c.reshape((-1,) + (1,) * (self.nsp - 1 - i))
            div = c if div is None else div * c
        return div

    def pads_total(self, i, in_sp, out_sp, pb):
        eff = (self.kernel_shape[i] - 1) * self.dilations[i] + 1
        total = max(0, (out_sp[i] - 1) * self.strides[i] + eff - in_sp[i])
        return total - pb[i]

    def __call__(self, X):
        out_sp, pb, pe = self.geometry(X)
        N, C = X.shape[:2]
        dt = X.dtype
        cdt = compute_dtype(dt)
        if any(o == 0 for o in out_sp):
            return np.empty((N, C) + tuple(out_sp), dtype=dt)
        x = X if dt == cdt else X.astype(cdt)
        if (list(X.shape[2:]) == self.kernel_shape and not any(pb) and not any(pe)
                and all(o == 1 for o in out_sp)):
            # the window is the whole (unpadded) map: a plain mean (the sum as one BLAS
            # matrix-vector product, much faster than a reduction over short inner axes)
            n = x[0, 0].size
            Y = x.reshape(N * C, n) @ np.ones(n, dtype=cdt)
            Y /= cdt.type(n)
            return Y.reshape((N, C) + (1,) * (X.ndim - 2)).astype(dt, copy=False)
        Y = self.reduce_taps(x, out_sp, pb, pe, 0, np.add)
        Y /= self.divisor(X.shape[2:], out_sp, pb, cdt)
        return Y.astype(dt, copy=False)


@kernel("LpPool", since=1, fresh=True)
class LpPool(_Pool):
    """LpPool: (sum over the window of |x|^p)^(1/p); p is a float in opset 1, an int later."""

    def __init__(self, info):
        super().__init__(info)
        self.p = info.attr("p", 2)

    def __call__(self, X):
        out_sp, pb, pe = self.geometry(X)
        N, C = X.shape[:2]
        dt = X.dtype
        cdt = compute_dtype(dt)
        if any(o == 0 for o in out_sp):
            return np.empty((N, C) + tuple(out_sp), dtype=dt)
        x = np.abs(X.astype(cdt, copy=False))
        p = self.p
        if p != 1:
            x = x ** cdt.type(p)
        Y = self.reduce_taps(x, out_sp, pb, pe, 0, np.add)
        if p != 1:
            Y = Y ** cdt.type(1.0 / p)
        return Y.astype(dt, copy=False)
