"""Col2Im (opset 18): rearrange (N, C*prod(block), L) columns into an image, summing
overlapping blocks."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._col2im import col2im
from ._common import ints_attr, spatial_params


@kernel("Col2Im", since=18, fresh=True)
class Col2Im(OpKernel):
    """Col2Im with dilations, pads and strides."""

    def __init__(self, info):
        super().__init__(info)
        self.strides = ints_attr(info, "strides")
        self.dilations = ints_attr(info, "dilations")
        self.pads = ints_attr(info, "pads")

    def __call__(self, x, image_shape, block_shape):
        img = [int(v) for v in np.asarray(image_shape).reshape(-1)]
        blk = [int(v) for v in np.asarray(block_shape).reshape(-1)]
        nsp = len(img)
        if len(blk) != nsp:
            raise InvalidArgument(
                f"image_shape {img} and block_shape {blk} must have the same length")
        strides, dil, pads = spatial_params(nsp, blk, self.strides, self.dilations, self.pads)
        if x.ndim != 3:
            raise InvalidArgument(f"input must be 3-D (N, C*prod(block), L), got {x.shape}")
        K = int(np.prod(blk, dtype=np.int64))
        N, CK, L = x.shape
        if K == 0 or CK % K:
            raise InvalidArgument(
                f"input dimension 1 ({CK}) must be a multiple of prod(block_shape) ({K})")
        nb = []
        for i in range(nsp):
            eff = (blk[i] - 1) * dil[i] + 1
            nb.append((img[i] + pads[i] + pads[i + nsp] - eff) // strides[i] + 1)
        if int(np.prod(nb, dtype=np.int64)) != L or any(n <= 0 for n in nb):
            raise InvalidArgument(
                f"input has {L} blocks but image_shape/block_shape/pads/strides give {nb}")
        C = CK // K
        cols = x.reshape([N, C] + blk + nb)
        return col2im(cols, nb, blk, strides, dil, img, pads[:nsp])
