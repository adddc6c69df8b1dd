"""ConvTranspose (opsets 1, 11, 22): one GEMM per group (W^T @ X) followed by a col2im
scatter-add of the kernel taps; output_shape / output_padding / auto_pad handled per spec."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._col2im import col2im
from ._common import compute_dtype, conv_attrs, ints_attr, spatial_params


@kernel("ConvTranspose", since=1, fresh=True)
class ConvTranspose(OpKernel):
    """ConvTranspose for every opset version."""

    def __init__(self, info):
        super().__init__(info)
        conv_attrs(self, info)
        self.output_padding = ints_attr(info, "output_padding")
        self.output_shape = ints_attr(info, "output_shape")
        W = info.const_inputs[1] if len(info.const_inputs) > 1 else None
        self.wprep = None
        if W is not None:
            self.wprep = self._prepare(W)

    def _prepare(self, W):
        if W.ndim < 3:
            raise InvalidArgument(f"W must have rank >= 3 (C, M/group, k...), got {W.shape}")
        C = W.shape[0]
        G = self.group
        if C % G:
            raise InvalidArgument(f"W's input channels {C} must be divisible by group {G}")
        Mg = W.shape[1]
        K = int(np.prod(W.shape[2:], dtype=np.int64))
        cdt = compute_dtype(W.dtype)
        # (G, Mg*K, Cg): the transposed weight of each group
        w = np.asarray(W, dtype=cdt).reshape(G, C // G, Mg * K)
        return np.ascontiguousarray(w.transpose(0, 2, 1))

    def geometry(self, in_sp, ks):
        nsp = len(in_sp)
        strides, dil, pads = spatial_params(nsp, ks, self.strides, self.dilations, self.pads)
        opad = self.output_padding or [0] * nsp
        if len(opad) != nsp:
            raise InvalidArgument(f"output_padding must have {nsp} values, got {opad}")
        eff = [(ks[i] - 1) * dil[i] + 1 for i in range(nsp)]
        full = [strides[i] * (in_sp[i] - 1) + opad[i] + eff[i] for i in range(nsp)]
        oshape = self.output_shape
        if oshape:
            oshape = list(oshape[-nsp:])
            if len(oshape) != nsp:
                raise InvalidArgument(f"output_shape must have {nsp} spatial values")
        elif self.auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            oshape = [in_sp[i] * strides[i] for i in range(nsp)]
        if oshape:
            pb, out = [], []
            for i in range(nsp):
                total = full[i] - oshape[i]
                if self.auto_pad == "SAME_UPPER":
                    b = total // 2
                else:
                    b = total - total // 2
                pb.append(b)
                out.append(oshape[i])
        else:
            if self.auto_pad == "VALID":
                pads = [0] * (2 * nsp)
            pb = pads[:nsp]
            out = [full[i] - pads[i] - pads[i + nsp] for i in range(nsp)]
        if any(o < 0 for o in out):
            raise InvalidArgument(f"computed negative output shape {out}")
        return strides, dil, pb, out

    def __call__(self, X, W, B=None):
        if X.ndim < 3 or W.ndim != X.ndim:
            raise InvalidArgument(
                f"X (N, C, spatial...) and W (C, M/group, k...) must have the same rank >= 3, "
                f"got {X.shape} and {W.shape}")
        N, C = X.shape[:2]
        G = self.group
        if W.shape[0] != C:
            raise InvalidArgument(f"X has {C} channels but W's first dimension is {W.shape[0]}")
        ks = list(W.shape[2:])
        if self.kernel_shape is not None and self.kernel_shape != ks:
            raise InvalidArgument(f"kernel_shape {self.kernel_shape} does not match W {W.shape}")
        wt = self.wprep if self.wprep is not None else self._prepare(W)
        Mg = W.shape[1]
        M = Mg * G
        nsp = X.ndim - 2
        in_sp = list(X.shape[2:])
        strides, dil, pb, out = self.geometry(in_sp, ks)
        dt = X.dtype
        cdt = compute_dtype(dt)
        x = X.astype(cdt, copy=False).reshape(N, G, C // G, -1)
        cols = np.matmul(wt.astype(cdt, copy=False), x)  # (N, G, Mg*K, L)
        cols = cols.reshape([N, M] + ks + in_sp)
        Y = col2im(cols, in_sp, ks, strides, dil, out, pb)
        if B is not None:
            if B.shape != (M,):
                raise InvalidArgument(f"B must have shape ({M},), got {B.shape}")
            Y += B.astype(cdt, copy=False).reshape((M,) + (1,) * nsp)
        return Y.astype(dt, copy=False)
