"""Per-sample normalizations: InstanceNormalization, LayerNormalization, GroupNormalization
(opset 18 per-group / opset 21 per-channel scale), RMSNormalization, LpNormalization and
MeanVarianceNormalization."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import compute_dtype

_STASH = {1: np.float32, 10: np.float16, 11: np.float64, 16: np.float32}


def _stash_dtype(info, x_dtype):
    """(compute dtype, statistics output dtype) for a stash_type attribute."""
    st = int(info.attr("stash_type", 1))
    if st not in _STASH:
        raise InvalidArgument(f"stash_type {st} is not supported (expected 1, 10, 11 or 16)")
    stat = np.dtype(_STASH[st])
    if st == 16:
        try:
            import ml_dtypes
            stat = np.dtype(ml_dtypes.bfloat16)
        except ImportError:  # pragma: no cover
            pass
    comp = np.dtype(np.float64) if (x_dtype == np.float64 or st == 11) else np.dtype(np.float32)
    return comp, stat


def _check_broadcast(p, shape, what):
    try:
        if np.broadcast_shapes(p.shape, shape) != tuple(shape):
            raise ValueError
    except ValueError:
        raise InvalidArgument(
            f"{what} of shape {p.shape} is not unidirectionally broadcastable to {tuple(shape)}"
        ) from None


def _norm_axis(axis, rank):
    a = int(axis)
    if not -rank <= a < rank:
        raise InvalidArgument(f"axis {axis} is out of range for rank {rank}")
    return a + rank if a < 0 else a


@kernel("InstanceNormalization", since=1, fresh=True)
class InstanceNormalization(OpKernel):
    """y = scale * (x - mean) / sqrt(var + epsilon) + B, statistics per (sample, channel)."""

    def __init__(self, info):
        super().__init__(info)
        self.eps = float(info.attr("epsilon", 1e-5))

    def __call__(self, X, scale, B):
        if X.ndim < 3:
            raise InvalidArgument(f"input must have rank >= 3 (N, C, D...), got {X.shape}")
        C = X.shape[1]
        if scale.shape != (C,) or B.shape != (C,):
            raise InvalidArgument(
                f"scale and B must have shape ({C},), got {scale.shape}, {B.shape}")
        dt = X.dtype
        cdt = compute_dtype(dt)
        x = X.astype(cdt, copy=False)
        axes = tuple(range(2, X.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        d = x - mean
        var = np.mean(d * d, axis=axes, keepdims=True)
        shp = (C,) + (1,) * (X.ndim - 2)
        a = scale.astype(cdt, copy=False).reshape(shp) / np.sqrt(var + cdt.type(self.eps))
        d *= a
        d += B.astype(cdt, copy=False).reshape(shp)
        return d.astype(dt, copy=False)


@kernel("LayerNormalization", since=17, fresh=True)
class LayerNormalization(OpKernel):
    """LayerNormalization over axes [axis, rank); Mean and InvStdDev outputs in stash type."""

    def __init__(self, info):
        super().__init__(info)
        self.eps = float(info.attr("epsilon", 1e-5))
        self.axis = int(info.attr("axis", -1))
        self.info_ = info
        self.want_stats = info.output_wanted(1) or info.output_wanted(2)

    def __call__(self, X, Scale, B=None):
        a = _norm_axis(self.axis, X.ndim)
        dt = X.dtype
        cdt, sdt = _stash_dtype(self.info_, dt)
        _check_broadcast(Scale, X.shape, "Scale")
        if B is not None:
            _check_broadcast(B, X.shape, "B")
        x = X.astype(cdt, copy=False)
        n = int(np.prod(X.shape[a:], dtype=np.int64))
        x2 = x.reshape(X.shape[:a] + (n,))
        mean = x2.mean(axis=-1, keepdims=True)
        d = x2 - mean
        var = np.einsum("...i,...i->...", d, d)[..., None] / cdt.type(max(n, 1))
        inv = cdt.type(1) / np.sqrt(var + cdt.type(self.eps))
        d *= inv
        y = d.reshape(X.shape)
        y *= Scale.astype(cdt, copy=False)
        if B is not None:
            y += B.astype(cdt, copy=False)
        stat_shape = X.shape[:a] + (1,) * (X.ndim - a)
        mean = mean.reshape(stat_shape)
        inv = inv.reshape(stat_shape)
        Y = y.astype(dt, copy=False)
        if not self.want_stats:
            return (Y,)
        return Y, mean.astype(sdt), inv.astype(sdt)


@kernel("GroupNormalization", since=18, fresh=True)
class GroupNormalization(OpKernel):
    """GroupNormalization: scale/bias per group in opset 18, per channel from opset 21."""

    def __init__(self, info):
        super().__init__(info)
        self.eps = float(info.attr("epsilon", 1e-5))
        self.G = int(info.require_attr("num_groups"))
        if self.G < 1:
            raise InvalidArgument(f"num_groups must be >= 1, got {self.G}")
        self.per_channel = info.since_version >= 21
        self.info_ = info

    def __call__(self, X, scale, bias):
        if X.ndim < 2:
            raise InvalidArgument(f"X must have rank >= 2 (N, C, ...), got {X.shape}")
        N, C = X.shape[:2]
        G = self.G
        if C % G:
            raise InvalidArgument(f"channels {C} must be divisible by num_groups {G}")
        n_par = C if self.per_channel else G
        if scale.shape != (n_par,) or bias.shape != (n_par,):
            raise InvalidArgument(
                f"scale and bias must have shape ({n_par},), got {scale.shape}, {bias.shape}")
        dt = X.dtype
        if self.per_channel:
            cdt, _ = _stash_dtype(self.info_, dt)
        else:
            cdt = compute_dtype(dt)
        x = X.astype(cdt, copy=False).reshape(N, G, -1)
        mean = x.mean(axis=2, keepdims=True)
        d = x - mean
        var = np.mean(d * d, axis=2, keepdims=True)
        d /= np.sqrt(var + cdt.type(self.eps))
        d = d.reshape(X.shape)
        s = scale.astype(cdt, copy=False)
        b = bias.astype(cdt, copy=False)
        if not self.per_channel:
            s, b = np.repeat(s, C // G), np.repeat(b, C // G)
        shp = (C,) + (1,) * (X.ndim - 2)
        d *= s.reshape(shp)
        d += b.reshape(shp)
        return d.astype(dt, copy=False)


@kernel("RMSNormalization", since=23, fresh=True)
class RMSNormalization(OpKernel):
    """y = x / sqrt(mean(x^2 over [axis, rank)) + epsilon) * scale."""

    def __init__(self, info):
        super().__init__(info)
        self.eps = float(info.attr("epsilon", 1e-5))
        self.axis = int(info.attr("axis", -1))
        self.info_ = info

    def __call__(self, X, scale):
        a = _norm_axis(self.axis, X.ndim)
        dt = X.dtype
        cdt, _ = _stash_dtype(self.info_, dt)
        _check_broadcast(scale, X.shape, "scale")
        x = X.astype(cdt, copy=False)
        axes = tuple(range(a, X.ndim))
        ms = np.mean(x * x, axis=axes, keepdims=True)
        y = x / np.sqrt(ms + cdt.type(self.eps))
        y *= scale.astype(cdt, copy=False)
        return y.astype(dt, copy=False)


@kernel("LpNormalization", since=1, fresh=True)
def lp_normalization(X, axis=-1, p=2):
    """x / ||x||_p along ``axis`` (p is 1 or 2); a zero norm gives 0."""
    if p not in (1, 2):
        raise InvalidArgument(f"p must be 1 or 2, got {p}")
    a = _norm_axis(axis, X.ndim)
    dt = X.dtype
    cdt = compute_dtype(dt)
    x = X.astype(cdt, copy=False)
    if p == 1:
        n = np.sum(np.abs(x), axis=a, keepdims=True)
    else:
        n = np.sqrt(np.sum(x * x, axis=a, keepdims=True))
    y = x / np.where(n == 0, cdt.type(1), n)
    return y.astype(dt, copy=False)


@kernel("MeanVarianceNormalization", since=9, fresh=True)
def mean_variance_normalization(X, axes=(0, 2, 3)):
    """(x - mean) / (sqrt(variance) + 1e-9) with statistics over ``axes``."""
    ax = tuple(sorted({_norm_axis(v, X.ndim) for v in axes}))
    dt = X.dtype
    cdt = compute_dtype(dt)
    x = X.astype(cdt, copy=False)
    mean = x.mean(axis=ax, keepdims=True)
    d = x - mean
    var = np.mean(d * d, axis=ax, keepdims=True)
    d /= np.sqrt(var) + cdt.type(1e-9)
    return d.astype(dt, copy=False)
