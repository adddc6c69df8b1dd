"""DeformConv (opsets 19, 22): N-D deformable convolution. Every (tap, output position) samples
the input at its offset location with multilinear interpolation (zero outside the input),
scaled by the optional mask; the gathered columns then go through one GEMM per group."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import compute_dtype, ints_attr, spatial_params


@kernel("DeformConv", since=19, fresh=True)
class DeformConv(OpKernel):
    """DeformConv with group, offset_group, dilations, pads and strides."""

    def __init__(self, info):
        super().__init__(info)
        self.group = int(info.attr("group", 1))
        self.offset_group = int(info.attr("offset_group", 1))
        if self.group < 1 or self.offset_group < 1:
            raise InvalidArgument("group and offset_group must be >= 1")
        self.kernel_shape = ints_attr(info, "kernel_shape")
        self.strides = ints_attr(info, "strides")
        self.dilations = ints_attr(info, "dilations")
        self.pads = ints_attr(info, "pads")

    def __call__(self, X, W, offset, B=None, mask=None):
        if X.ndim < 3 or W.ndim != X.ndim:
            raise InvalidArgument(f"X and W must have the same rank >= 3, got {X.shape}, {W.shape}")
        N, C = X.shape[:2]
        M, Cg = W.shape[:2]
        G, OG = self.group, self.offset_group
        nsp = X.ndim - 2
        ks = list(W.shape[2:])
        if self.kernel_shape is not None and self.kernel_shape != ks:
            raise InvalidArgument(f"kernel_shape {self.kernel_shape} does not match W {W.shape}")
        if Cg * G != C or M % G or C % OG:
            raise InvalidArgument(
                f"channels do not fit: X has {C}, W {W.shape}, group {G}, offset_group {OG}")
        strides, dil, pads = spatial_params(nsp, ks, self.strides, self.dilations, self.pads)
        in_sp = X.shape[2:]
        out_sp = [(in_sp[i] + pads[i] + pads[i + nsp] - ((ks[i] - 1) * dil[i] + 1))
                  // strides[i] + 1 for i in range(nsp)]
        K = int(np.prod(ks, dtype=np.int64))
        L = int(np.prod(out_sp, dtype=np.int64))
        exp_off = (N, OG * K * nsp) + tuple(out_sp)
        if offset.shape != exp_off:
            raise InvalidArgument(f"offset must have shape {exp_off}, got {offset.shape}")
        dt = X.dtype
        cdt = compute_dtype(dt)
        x = X.astype(cdt, copy=False)
        off = offset.astype(cdt, copy=False).reshape(N, OG, K, nsp, L)
        if mask is not None:
            exp_m = (N, OG * K) + tuple(out_sp)
            if mask.shape != exp_m:
                raise InvalidArgument(f"mask must have shape {exp_m}, got {mask.shape}")
            msk = mask.astype(cdt, copy=False).reshape(N, OG, K, L)
        # base sampling positions: (nsp, K, L)
        kidx = np.stack(np.unravel_index(np.arange(K), ks))  # (nsp, K)
        oidx = np.stack(np.unravel_index(np.arange(L), out_sp))  # (nsp, L)
        base = (oidx[:, None, :] * np.array(strides)[:, None, None]
                - np.array(pads[:nsp])[:, None, None]
                + kidx[:, :, None] * np.array(dil)[:, None, None]).astype(cdt)
        pos = base[None, None] + off.transpose(0, 1, 3, 2, 4)  # (N, OG, nsp, K, L)
        flo = np.floor(pos)
        frac = pos - flo
        flo = flo.astype(np.int64)
        CpO = C // OG
        xs = x.reshape(N, OG, CpO, -1)  # flattened spatial
        cols = np.zeros((N, OG, CpO, K, L), dtype=cdt)
        sp_strides = [int(np.prod(in_sp[i + 1:], dtype=np.int64)) for i in range(nsp)]
        nidx = np.arange(N)[:, None, None, None]
        gidx = np.arange(OG)[None, :, None, None]
        for corner in np.ndindex(*([2] * nsp)):
            wgt = np.ones((N, OG, K, L), dtype=cdt)
            flat = np.zeros((N, OG, K, L), dtype=np.int64)
            valid = np.ones((N, OG, K, L), dtype=bool)
            for i in range(nsp):
                c = flo[:, :, i] + corner[i]
                wgt *= frac[:, :, i] if corner[i] else (1 - frac[:, :, i])
                valid &= (c >= 0) & (c < in_sp[i])
                flat += np.clip(c, 0, in_sp[i] - 1) * sp_strides[i]
            wgt *= valid
            # gather (N, OG, CpO, K, L)
            vals = xs[nidx, gidx, :, flat]  # (N, OG, K, L, CpO)
            cols += np.moveaxis(vals, -1, 2) * wgt[:, :, None]
        if mask is not None:
            cols *= msk[:, :, None]
        cols = cols.reshape(N, G, Cg * K, L)
        wm = W.astype(cdt, copy=False).reshape(G, M // G, Cg * K)
        Y = np.matmul(wm, cols).reshape((N, M) + tuple(out_sp))
        if B is not None:
            if B.shape != (M,):
                raise InvalidArgument(f"B must have shape ({M},), got {B.shape}")
            Y += B.astype(cdt, copy=False).reshape((M,) + (1,) * nsp)
        return Y.astype(dt, copy=False)
