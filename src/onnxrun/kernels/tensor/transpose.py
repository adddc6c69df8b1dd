"""Transpose, DepthToSpace, SpaceToDepth."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel


@kernel("Transpose", since=1)
class Transpose(OpKernel):
    """Permute axes by ``perm`` (default: reverse). Returns a view."""

    def __init__(self, info):
        super().__init__(info)
        perm = info.attr("perm")
        self.perm = None if perm is None else [int(p) for p in perm]

    def __call__(self, x):
        if self.perm is None:
            return np.transpose(x)
        r = x.ndim
        if len(self.perm) != r or sorted(p + r if p < 0 else p for p in self.perm) != \
                list(range(r)):
            raise InvalidArgument(f"perm {self.perm} is not a permutation of the "
                                  f"{r} axes of the input")
        return np.transpose(x, self.perm)


def _blocksize(info) -> int:
    b = info.attr("blocksize")
    if b is None:
        raise InvalidArgument("attribute 'blocksize' is required")
    b = int(b)
    if b < 1:
        raise InvalidArgument(f"blocksize must be >= 1, got {b}")
    return b


class _BlockRearrange(OpKernel):
    """DepthToSpace / SpaceToDepth: attribute ``blocksize``, ``mode`` DCR or CRD, 4-D input."""

    def __init__(self, info):
        super().__init__(info)
        self.b = _blocksize(info)
        self.mode = info.attr("mode", "DCR")
        if self.mode not in ("DCR", "CRD"):
            raise InvalidArgument(f"mode must be 'DCR' or 'CRD', got {self.mode!r}")

    @staticmethod
    def _shape(x):
        if x.ndim != 4:
            raise InvalidArgument(f"input must be 4-D (N, C, H, W), got shape {list(x.shape)}")
        return x.shape


@kernel("DepthToSpace", since=1)
class DepthToSpace(_BlockRearrange):
    """Move depth into spatial blocks (modes DCR and, from opset 11, CRD)."""

    def __call__(self, x):
        n, c, h, w = self._shape(x)
        b = self.b
        if c % (b * b):
            raise InvalidArgument(f"channels {c} are not divisible by blocksize^2 = {b * b}")
        if self.mode == "DCR":
            t = x.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2)
        else:
            t = x.reshape(n, c // (b * b), b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
        return t.reshape(n, c // (b * b), h * b, w * b)


@kernel("SpaceToDepth", since=1)
class SpaceToDepth(_BlockRearrange):
    """Move spatial blocks into depth (modes DCR and, from opset 28, CRD)."""

    def __call__(self, x):
        n, c, h, w = self._shape(x)
        b = self.b
        if h % b or w % b:
            raise InvalidArgument(f"spatial dims {h}x{w} are not divisible by blocksize {b}")
        t = x.reshape(n, c, h // b, b, w // b, b)
        if self.mode == "DCR":
            t = t.transpose(0, 3, 5, 1, 2, 4)
        else:
            t = t.transpose(0, 1, 3, 5, 2, 4)
        return t.reshape(n, c * b * b, h // b, w // b)
