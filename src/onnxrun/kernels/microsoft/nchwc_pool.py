"""com.microsoft.nchwc MaxPool, AveragePool, GlobalMaxPool, GlobalAveragePool and Upsample on
NCHWc tensors (see :mod:`._nchwc_layout`).

The windowed pools run onnxrun's MaxPool / AveragePool (same attributes and semantics as ONNX's)
on the input converted to NCHW and convert the result back; the global pools and Upsample work on
the blocked layout directly."""

from __future__ import annotations

import copy

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..nn.pool import AveragePool, MaxPool
from ..registry import kernel
from ._nchwc_layout import DOMAIN, blocked_view, block_size, from_blocked, text, to_blocked


class _WindowPool(OpKernel):
    """An ONNX pool kernel (``pool_class``) run on the NCHW form of a blocked input."""

    pool_class = None

    def __init__(self, info):
        super().__init__(info)
        self.block = block_size(info)
        inner = copy.copy(info)
        inner.since_version = 7  # one output (no Indices)
        self.pool = self.pool_class(inner)

    def __call__(self, X):
        blocked_view(X, self.block, "X")
        return to_blocked(self.pool(from_blocked(X, self.block)), self.block)


@kernel("MaxPool", since=1, domain=DOMAIN, fresh=True)
class NchwcMaxPool(_WindowPool):
    """MaxPool (kernel_shape, strides, pads, dilations, auto_pad, ceil_mode) on NCHWc."""

    pool_class = MaxPool


@kernel("AveragePool", since=1, domain=DOMAIN, fresh=True)
class NchwcAveragePool(_WindowPool):
    """AveragePool (also count_include_pad) on NCHWc."""

    pool_class = AveragePool


class _GlobalPool(OpKernel):
    reduce = None

    def __init__(self, info):
        super().__init__(info)
        self.block = block_size(info)

    def __call__(self, X):
        v = blocked_view(X, self.block, "X")
        N, cb, H, W, b = v.shape
        if H * W == 0:
            raise InvalidArgument(f"X has an empty spatial shape {X.shape[2:]}")
        y = type(self).reduce(v.reshape(N, cb, H * W, b), axis=2)
        return np.ascontiguousarray(y, dtype=np.float32).reshape(N, cb * b, 1, 1)


@kernel("GlobalMaxPool", since=1, domain=DOMAIN, fresh=True)
class NchwcGlobalMaxPool(_GlobalPool):
    """Max over H and W of each channel."""

    reduce = staticmethod(np.max)


@kernel("GlobalAveragePool", since=1, domain=DOMAIN, fresh=True)
class NchwcGlobalAveragePool(_GlobalPool):
    """Mean over H and W of each channel."""

    reduce = staticmethod(np.mean)


_MODES = ("nearest", "linear")
_TRANSFORMS = ("asymmetric", "align_corners", "half_pixel")


@kernel("Upsample", since=1, domain=DOMAIN, fresh=True)
class NchwcUpsample(OpKernel):
    """Integer spatial upsampling (``scales`` = [1, 1, sh, sw]); ``mode`` nearest (each pixel
    repeated) or linear (bilinear, source coordinate per ``coordinate_transformation_mode``:
    asymmetric o/s, half_pixel max(0, (o + 0.5)/s - 0.5), align_corners o(in-1)/(out-1);
    the upper neighbour clamped to the edge)."""

    def __init__(self, info):
        super().__init__(info)
        self.block = block_size(info)
        scales = [int(s) for s in (info.attr("scales") or [])]
        if len(scales) != 4 or scales[0] != 1 or scales[1] != 1 or min(scales) < 1:
            raise InvalidArgument(f"scales must be [1, 1, sh, sw] with sh, sw >= 1, got {scales}")
        self.scales = scales[2:]
        self.mode = text(info.attr("mode", "nearest"))
        self.transform = text(info.attr("coordinate_transformation_mode", "asymmetric"))
        if self.mode not in _MODES:
            raise InvalidArgument(f"mode must be one of {_MODES}, got {self.mode!r}")
        if self.transform not in _TRANSFORMS:
            raise InvalidArgument(f"coordinate_transformation_mode must be one of "
                                  f"{_TRANSFORMS}, got {self.transform!r}")

    def __call__(self, X):
        v = blocked_view(X, self.block, "X")
        N, cb, H, W, b = v.shape
        sh, sw = self.scales
        if self.mode == "nearest":
            out = np.empty((N, cb, H, sh, W, sw, b), dtype=np.float32)
            out[...] = v[:, :, :, None, :, None, :]
            return out.reshape(N, cb * b, H * sh, W * sw)
        i0, i1, fy = self._axis(H, sh)
        j0, j1, fx = self._axis(W, sw)
        fy = fy[:, None, None]
        fx = fx[:, None]
        rows = v[:, :, i0] * (1 - fy) + v[:, :, i1] * fy  # (N, cb, oh, W, b)
        out = rows[:, :, :, j0] * (1 - fx) + rows[:, :, :, j1] * fx
        return np.ascontiguousarray(out, dtype=np.float32).reshape(N, cb * b, H * sh, W * sw)

    def _axis(self, n: int, s: int):
        """Lower and upper source index and the upper one's weight, per output position."""
        o = np.arange(n * s, dtype=np.float32)
        if s == 1:
            c = o
        elif self.transform == "align_corners":
            c = o * np.float32(n - 1) / np.float32(max(n * s - 1, 1))
        elif self.transform == "half_pixel":
            c = np.maximum(np.float32(0), (o + np.float32(0.5)) / np.float32(s) - np.float32(0.5))
        else:
            c = o / np.float32(s)
        lo = c.astype(np.int64)
        hi = np.minimum(lo + 1, n - 1)
        return lo, hi, (c - lo).astype(np.float32)
