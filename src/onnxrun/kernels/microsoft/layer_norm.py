"""onnxruntime's layer normalizations: SkipLayerNormalization, SkipSimplifiedLayerNormalization
(com.microsoft), SimplifiedLayerNormalization (RMSNorm; onnxruntime registers it in the ONNX
domain, onnxrun in both) and LayerNormalization in the ONNX domain below opset 17, which
onnxruntime's fusions emit into models of any opset."""

from __future__ import annotations

import math

from ...errors import InvalidArgument
from ..base import OpKernel
from ..math._common import F32
from ..nn.norms import LayerNormalization, _check_broadcast, _norm_axis, _stash_dtype
from ..registry import kernel
from ._transformer import (DOMAIN, check_rank, check_vector, compute, normalize_last,
                           require_inputs)

# onnxruntime contrib: LayerNormalization in the ONNX domain before onnx defined it (opset 17)
kernel("LayerNormalization", since=1, until=16, fresh=True)(LayerNormalization)


def _check_skip(x, skip):
    """skip must match the input, or for a 3-D input be (1, S, H) or (S, H)."""
    ok = skip.shape == x.shape or (x.ndim == 3 and skip.shape in ((1,) + x.shape[1:],
                                                                   x.shape[1:]))
    if not ok:
        raise InvalidArgument(f"skip of shape {skip.shape} does not fit input {x.shape} "
                              "(expected the input's shape, (1, S, H) or (S, H))")


class _SkipNorm(OpKernel):
    """Shared body: sum = input + skip (+ bias), normalized over the last axis. The sum and
    statistics are computed in float32 for 16-bit inputs (input_skip_bias_sum is that float32
    sum rounded once, as in onnxruntime)."""

    simplified = False

    def __init__(self, info):
        super().__init__(info)
        require_inputs(info, "input", "skip", "gamma")
        self.eps = float(info.attr("epsilon", 1e-12))
        self.want_stats = info.output_wanted(1) or info.output_wanted(2)
        self.want_sum = info.output_wanted(3)

    def run(self, x, skip, gamma, beta, bias):
        check_rank(x, (2, 3), "input")
        _check_skip(x, skip)
        H = x.shape[-1]
        check_vector(gamma, H, "gamma")
        check_vector(beta, H, "beta")
        check_vector(bias, H, "bias")
        dt = x.dtype
        s = compute(x, "input") + compute(skip, "skip")
        if bias is not None:
            s += compute(bias, "bias")
        total = s.astype(dt, copy=False) if self.want_sum else None
        y, mean, inv = normalize_last(s, self.eps, gamma, beta, self.simplified,
                                      in_place=total is None or total is not s)
        y = y.astype(dt, copy=False)
        if not (self.want_stats or self.want_sum):
            return (y,)
        return y, mean.astype(F32, copy=False), inv.astype(F32, copy=False), total


@kernel("SkipLayerNormalization", since=1, domain=DOMAIN, fresh=True)
class SkipLayerNormalization(_SkipNorm):
    """LayerNorm(input + skip + bias) * gamma + beta; optional outputs mean, inv_std_var
    ([.., 1], float32) and input_skip_bias_sum."""

    def __call__(self, x, skip, gamma, beta=None, bias=None):
        return self.run(x, skip, gamma, beta, bias)


@kernel("SkipSimplifiedLayerNormalization", since=1, domain=DOMAIN, fresh=True)
class SkipSimplifiedLayerNormalization(_SkipNorm):
    """RMSNorm(input + skip + bias) * gamma; the mean output is zeros (as onnxruntime's)."""

    simplified = True

    def __call__(self, x, skip, gamma, bias=None):
        return self.run(x, skip, gamma, None, bias)


class SimplifiedLayerNormalization(OpKernel):
    """Y = X / sqrt(mean(X^2 over axes [axis, rank)) + epsilon) * scale, in scale's dtype;
    optional inv_std_var (float32, float64 with stash_type 11)."""

    def __init__(self, info):
        super().__init__(info)
        require_inputs(info, "X", "scale")
        self.eps = float(info.attr("epsilon", 1e-5))
        self.axis = int(info.attr("axis", -1))
        self.want_inv = info.output_wanted(1)

    def __call__(self, X, scale):
        a = _norm_axis(self.axis, X.ndim)
        cd, stat = _stash_dtype(self.info, X.dtype)
        _check_broadcast(scale, X.shape, "scale")
        n = math.prod(X.shape[a:])
        x = X.astype(cd, copy=False).reshape(X.shape[:a] + (n,))
        y, _, inv = normalize_last(x, self.eps, simplified=True)
        y = y.reshape(X.shape)
        y *= scale.astype(cd, copy=False)
        Y = y.astype(scale.dtype, copy=False)
        if not self.want_inv:
            return (Y,)
        return Y, inv.reshape(X.shape[:a] + (1,) * (X.ndim - a)).astype(stat, copy=False)


kernel("SimplifiedLayerNormalization", since=1, fresh=True)(SimplifiedLayerNormalization)
kernel("SimplifiedLayerNormalization", since=1, domain=DOMAIN,
       fresh=True)(SimplifiedLayerNormalization)
