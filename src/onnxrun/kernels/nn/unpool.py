"""MaxUnpool (scatter pooled values back to their argmax positions) and MaxRoiPool (max over
region-of-interest bins, Caffe semantics)."""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import ints_attr, spatial_params


@kernel("MaxUnpool", since=9, fresh=True)
class MaxUnpool(OpKernel):
    """MaxUnpool: zeros with X's values placed at the flat indices I of the output."""

    def __init__(self, info):
        super().__init__(info)
        self.kernel_shape = ints_attr(info, "kernel_shape")
        if not self.kernel_shape:
            raise InvalidArgument("required attribute 'kernel_shape' is missing")
        nsp = len(self.kernel_shape)
        self.strides, _, self.pads = spatial_params(
            nsp, self.kernel_shape, ints_attr(info, "strides"), None, ints_attr(info, "pads"))
        self.max_bytes = getattr(info, "max_tensor_bytes", None)

    def __call__(self, X, I, output_shape=None):
        nsp = len(self.kernel_shape)
        if X.ndim != nsp + 2 or I.shape != X.shape:
            raise InvalidArgument(
                f"X must have rank {nsp + 2} and I the same shape, got {X.shape}, {I.shape}")
        default = X.shape[:2] + tuple(
            (X.shape[2 + i] - 1) * self.strides[i] + self.kernel_shape[i]
            - self.pads[i] - self.pads[i + nsp] for i in range(nsp))
        shape = default
        if output_shape is not None:
            shape = tuple(int(v) for v in np.asarray(output_shape).reshape(-1))
            if len(shape) != X.ndim or shape[:2] != X.shape[:2] or any(
                    shape[i] < default[i] for i in range(2, X.ndim)):
                raise InvalidArgument(
                    f"output_shape {list(shape)} must have rank {X.ndim}, start with "
                    f"{list(X.shape[:2])} and be at least the unpooled shape {list(default)}")
        if any(s < 0 for s in default):
            raise InvalidArgument(f"computed negative output shape {list(default)}")
        total = math.prod(default)
        if self.max_bytes and math.prod(shape) * X.dtype.itemsize > self.max_bytes:
            raise InvalidArgument(f"output of shape {list(shape)} exceeds the size limit")
        Y = np.zeros(total, dtype=X.dtype)
        idx = I.reshape(-1).astype(np.int64, copy=False)
        if idx.size and (idx.min() < 0 or idx.max() >= total):
            raise InvalidArgument(f"indices in I must be in [0, {total}), got values outside")
        Y[idx] = X.reshape(-1)
        Y = Y.reshape(default)
        if shape != default:
            # indices address the unpooled shape; output_shape pads it at the end
            out = np.zeros(shape, dtype=X.dtype)
            out[tuple(slice(0, d) for d in default)] = Y
            return out
        return Y


@kernel("MaxRoiPool", since=1, fresh=True)
class MaxRoiPool(OpKernel):
    """MaxRoiPool: rois are (batch_index, x1, y1, x2, y2) rows scaled by spatial_scale."""

    def __init__(self, info):
        super().__init__(info)
        ps = ints_attr(info, "pooled_shape")
        if not ps or len(ps) != 2:
            raise InvalidArgument(f"pooled_shape must have 2 values, got {ps}")
        self.ph, self.pw = ps
        self.scale = float(info.attr("spatial_scale", 1.0))

    def __call__(self, X, rois):
        if X.ndim != 4 or rois.ndim != 2 or rois.shape[1] != 5:
            raise InvalidArgument(
                f"X must be (N, C, H, W) and rois (num_rois, 5), got {X.shape}, {rois.shape}")
        N, C, H, W = X.shape
        R = rois.shape[0]
        Y = np.zeros((R, C, self.ph, self.pw), dtype=X.dtype)
        for r in range(R):
            b = int(rois[r, 0])
            if not 0 <= b < N:
                raise InvalidArgument(f"roi {r} has batch index {b}, expected [0, {N})")
            x1, y1, x2, y2 = (int(np.round(float(v) * self.scale)) for v in rois[r, 1:])
            rh = max(y2 - y1 + 1, 1)
            rw = max(x2 - x1 + 1, 1)
            bh, bw = rh / self.ph, rw / self.pw
            for i in range(self.ph):
                hs = min(max(int(math.floor(i * bh)) + y1, 0), H)
                he = min(max(int(math.ceil((i + 1) * bh)) + y1, 0), H)
                for j in range(self.pw):
                    ws = min(max(int(math.floor(j * bw)) + x1, 0), W)
                    we = min(max(int(math.ceil((j + 1) * bw)) + x1, 0), W)
                    if he > hs and we > ws:
                        Y[r, :, i, j] = X[b, :, hs:he, ws:we].max(axis=(1, 2))
        return Y
