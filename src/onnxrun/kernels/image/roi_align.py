"""RoiAlign (opsets 10, 16, 22): bilinear sampling of a regular grid in every output bin.

ROIs sharing the same sampling-grid size are processed together, in chunks, fully vectorized:
the four bilinear neighbours of every sample point are gathered at once for all channels.
"""

from __future__ import annotations


import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import check_alloc, max_bytes

_CHUNK_ELEMS = 1 << 22


@kernel("RoiAlign", since=10, fresh=True)
class RoiAlign(OpKernel):
    """Y[r, c, ph, pw] pools X[batch_indices[r], c] over bin (ph, pw) of roi r ('avg' or 'max')."""

    def __init__(self, info) -> None:
        super().__init__(info)
        a = info.attr
        self.mode = a("mode", "avg")
        if self.mode not in ("avg", "max"):
            raise InvalidArgument(f"mode must be 'avg' or 'max'; got '{self.mode}'")
        self.out_h = int(a("output_height", 1))
        self.out_w = int(a("output_width", 1))
        if self.out_h <= 0 or self.out_w <= 0:
            raise InvalidArgument(f"output_height/output_width must be positive; got "
                                  f"{self.out_h}/{self.out_w}")
        self.sampling_ratio = int(a("sampling_ratio", 0))
        if self.sampling_ratio < 0:
            raise InvalidArgument(f"sampling_ratio must be >= 0; got {self.sampling_ratio}")
        self.spatial_scale = float(a("spatial_scale", 1.0))
        default_ctm = "half_pixel" if info.since_version >= 16 else "output_half_pixel"
        ctm = a("coordinate_transformation_mode", default_ctm)
        if ctm not in ("half_pixel", "output_half_pixel"):
            raise InvalidArgument(f"coordinate_transformation_mode must be 'half_pixel' or "
                                  f"'output_half_pixel'; got '{ctm}'")
        self.half_pixel = ctm == "half_pixel"
        self.limit = max_bytes(info)

    def __call__(self, X, rois, batch_indices):
        X = np.asarray(X)
        rois = np.asarray(rois)
        bidx = np.asarray(batch_indices).astype(np.int64).reshape(-1)
        if X.ndim != 4:
            raise InvalidArgument(f"X must be 4-D (N, C, H, W); got shape {list(X.shape)}")
        if rois.ndim != 2 or rois.shape[1] != 4:
            raise InvalidArgument(f"rois must have shape [num_rois, 4]; got {list(rois.shape)}")
        R = rois.shape[0]
        if bidx.shape[0] != R:
            raise InvalidArgument(f"batch_indices has {bidx.shape[0]} entries; expected {R} "
                                  "(one per roi)")
        N, C, H, W = X.shape
        if R and (bidx.min() < 0 or bidx.max() >= N):
            raise InvalidArgument(f"batch_indices must be in [0, {N - 1}]; got values in "
                                  f"[{bidx.min()}, {bidx.max()}]")
        ph, pw = self.out_h, self.out_w
        check_alloc((R, C, ph, pw), X.dtype, self.limit)
        Y = np.zeros((R, C, ph, pw), X.dtype)
        if R == 0 or C == 0:
            return Y
        ct = np.float64 if X.dtype == np.float64 else np.float32
        Xc = X.astype(ct, copy=False)
        r = rois.astype(np.float64) * self.spatial_scale
        off = 0.5 if self.half_pixel else 0.0
        x0, y0 = r[:, 0] - off, r[:, 1] - off
        rw, rh = r[:, 2] - off - x0, r[:, 3] - off - y0
        if not self.half_pixel:
            rw = np.maximum(rw, 1.0)
            rh = np.maximum(rh, 1.0)
        bin_h, bin_w = rh / ph, rw / pw
        if self.sampling_ratio > 0:
            gh = np.full(R, self.sampling_ratio, np.int64)
            gw = gh.copy()
        else:
            gh = np.ceil(rh / ph).astype(np.int64)
            gw = np.ceil(rw / pw).astype(np.int64)
        groups = {}
        for i, key in enumerate(zip(gh.tolist(), gw.tolist())):
            groups.setdefault(key, []).append(i)
        for (nh, nw), members in groups.items():
            members = np.asarray(members)
            if nh <= 0 or nw <= 0:
                continue  # empty grid: output stays 0
            per_roi = C * ph * pw * nh * nw * 4
            step = max(1, _CHUNK_ELEMS // max(per_roi, 1))
            for s in range(0, len(members), step):
                m = members[s:s + step]
                Y[m] = self._pool(Xc, bidx[m], y0[m], x0[m], bin_h[m], bin_w[m], nh, nw,
                                  H, W).astype(X.dtype)
        return Y

    def _pool(self, Xc, b, y0, x0, bin_h, bin_w, nh, nw, H, W):
        ph, pw = self.out_h, self.out_w
        # sample coordinates: (M, ph, nh) along y and (M, pw, nw) along x
        iy = (np.arange(nh) + 0.5) / nh
        ix = (np.arange(nw) + 0.5) / nw
        ys = y0[:, None, None] + (np.arange(ph)[None, :, None] + iy[None, None, :]) * \
            bin_h[:, None, None]
        xs = x0[:, None, None] + (np.arange(pw)[None, :, None] + ix[None, None, :]) * \
            bin_w[:, None, None]
        ylo, yhi, ly, vy = _axis_weights(ys, H)
        xlo, xhi, lx, vx = _axis_weights(xs, W)
        hy, hx = 1.0 - ly, 1.0 - lx
        # broadcast to (M, ph, nh, pw, nw)
        Y_ = (slice(None), slice(None), slice(None), None, None)
        X_ = (slice(None), None, None, slice(None), slice(None))
        valid = vy[Y_] & vx[X_]
        bb = b[:, None, None, None, None]
        ct = Xc.dtype

        def gather(yi, xi):
            # X[b, :, y, x] with advanced indices around a slice -> (M, ph, nh, pw, nw, C)
            return Xc[bb, :, yi[Y_], xi[X_]]

        w1 = (hy[Y_] * hx[X_] * valid).astype(ct)[..., None]
        w2 = (hy[Y_] * lx[X_] * valid).astype(ct)[..., None]
        w3 = (ly[Y_] * hx[X_] * valid).astype(ct)[..., None]
        w4 = (ly[Y_] * lx[X_] * valid).astype(ct)[..., None]
        v1 = w1 * gather(ylo, xlo)
        v2 = w2 * gather(ylo, xhi)
        v3 = w3 * gather(yhi, xlo)
        v4 = w4 * gather(yhi, xhi)
        if self.mode == "avg":
            s = (v1 + v2 + v3 + v4).sum(axis=(2, 4)) / ct.type(nh * nw)
        else:
            s = np.maximum(np.maximum(v1, v2), np.maximum(v3, v4)).max(axis=(2, 4))
        # (M, ph, pw, C) -> (M, C, ph, pw)
        return np.moveaxis(s, -1, 1)


def _axis_weights(c: np.ndarray, size: int):
    """Low/high indices, the fractional weight and validity of sample coordinates ``c``."""
    valid = (c >= -1.0) & (c <= size)
    c = np.maximum(c, 0.0)
    lo = np.floor(c).astype(np.int64)
    at_end = lo >= size - 1
    lo = np.where(at_end, size - 1, lo)
    hi = np.where(at_end, size - 1, lo + 1)
    c = np.where(at_end, lo.astype(np.float64), c)
    frac = c - lo
    lo = np.clip(lo, 0, size - 1)
    hi = np.clip(hi, 0, size - 1)
    return lo, hi, frac, valid
