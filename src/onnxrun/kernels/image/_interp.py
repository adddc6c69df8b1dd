"""Separable 1-D resampling along one axis: coordinate transforms and precomputed taps.

Every Resize/Upsample mode is separable, so a resize is a sequence of per-axis passes. A pass is
described by :class:`AxisPlan`: for each output position, ``K`` source indices and weights
(``out = sum_k w[:, k] * x[idx[:, k]]``), or a plain index for nearest, plus an optional
``outside`` mask for positions taking the extrapolation value (tf_crop_and_resize).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from ...errors import InvalidArgument

COORD_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
               "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize")
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "legacy")


def source_coords(ctm: str, in_len: int, out_len: int, scale: float,
                  roi_start: float = 0.0, roi_end: float = 1.0) -> np.ndarray:
    """Original (input) coordinate of every output position along one axis.

    Computed in float32 like onnxruntime (so that halfway cases round the same way), returned
    as float64. ``scale`` is the axis' scale factor; align_corners uses the resized length
    ``in_len * scale``, which may be fractional (as the ONNX reference does), tf_crop_and_resize
    the integer output length (as onnxruntime does)."""
    f = np.float32
    x = np.arange(out_len, dtype=f)
    s = f(scale)
    length_resized = f(in_len) * s
    if ctm == "half_pixel":
        r = (x + f(0.5)) / s - f(0.5)
    elif ctm == "half_pixel_symmetric":
        adjustment = f(out_len) / length_resized
        center = f(in_len) / f(2)
        offset = center * (f(1) - adjustment)
        r = offset + ((x + f(0.5)) / s - f(0.5))
    elif ctm == "pytorch_half_pixel":
        r = (x + f(0.5)) / s - f(0.5) if length_resized > 1 else np.zeros_like(x)
    elif ctm == "align_corners":
        if length_resized == 1 or out_len <= 1:
            r = np.zeros_like(x)
        else:
            r = x * f(in_len - 1) / (length_resized - f(1))
    elif ctm == "asymmetric":
        r = x / s
    elif ctm == "tf_half_pixel_for_nn":
        r = (x + f(0.5)) / s
    elif ctm == "tf_crop_and_resize":
        a, b = f(roi_start), f(roi_end)
        if out_len > 1:  # onnxruntime uses the integer output length here
            r = a * f(in_len - 1) + x * (b - a) * f(in_len - 1) / f(out_len - 1)
        else:
            r = np.full_like(x, f(0.5) * (a + b) * f(in_len - 1))
    else:
        raise InvalidArgument(f"coordinate_transformation_mode '{ctm}' is not supported; "
                              f"expected one of {', '.join(COORD_MODES)}")
    return r.astype(np.float64)


def nearest_index(xo: np.ndarray, nearest_mode: str, downsampling: bool) -> np.ndarray:
    """Round original coordinates to source indices per ``nearest_mode`` (not clipped)."""
    if nearest_mode == "round_prefer_floor":
        r = np.ceil(xo - 0.5)
    elif nearest_mode == "round_prefer_ceil":
        r = np.floor(xo + 0.5)
    elif nearest_mode == "floor":
        r = np.floor(xo)
    elif nearest_mode == "ceil":
        r = np.ceil(xo)
    elif nearest_mode == "legacy":  # opset < 11: ceil when downsampling, else truncation
        r = np.ceil(xo) if downsampling else np.trunc(xo)
    else:
        raise InvalidArgument(f"nearest_mode '{nearest_mode}' is not supported; expected one of "
                              "round_prefer_floor, round_prefer_ceil, floor, ceil")
    return r.astype(np.int64)


def cubic_filter(t: np.ndarray, a: float) -> np.ndarray:
    """Keys' cubic convolution kernel with coefficient ``a`` evaluated at distances ``t``."""
    t = np.abs(t)
    t2 = t * t
    t3 = t2 * t
    near = (a + 2.0) * t3 - (a + 3.0) * t2 + 1.0
    far = a * t3 - 5.0 * a * t2 + 8.0 * a * t - 4.0 * a
    return np.where(t <= 1.0, near, np.where(t < 2.0, far, 0.0))


def linear_filter(t: np.ndarray) -> np.ndarray:
    """The triangle (tent) kernel."""
    return np.maximum(0.0, 1.0 - np.abs(t))


class AxisPlan:
    """Precomputed taps of one axis: ``idx`` (out, K) int64, ``w`` (out, K) float64 or None for
    nearest (then ``idx`` is (out,)), ``outside`` (out,) bool or None."""

    __slots__ = ("axis", "in_len", "out_len", "idx", "w", "outside")

    def __init__(self, axis, in_len, out_len, idx, w, outside):
        self.axis = axis
        self.in_len = in_len
        self.out_len = out_len
        self.idx = idx
        self.w = w
        self.outside = outside

    def is_identity(self) -> bool:
        """True when the pass would copy the input unchanged."""
        if self.in_len != self.out_len or self.outside is not None:
            return False
        ar = np.arange(self.in_len)
        if self.w is None:
            return bool(np.array_equal(self.idx, ar))
        hit = self.idx == ar[:, None]
        return bool(np.all(np.where(hit, self.w == 1.0, self.w == 0.0)))


def plan_axis(axis: int, in_len: int, out_len: int, scale: float, *, mode: str, ctm: str,
              nearest_mode: str = "round_prefer_floor", cubic_a: float = -0.75,
              exclude_outside: bool = False, antialias: bool = False,
              roi_start: float = 0.0, roi_end: float = 1.0) -> AxisPlan:
    """Build the taps for resizing one axis from ``in_len`` to ``out_len`` elements."""
    xo = source_coords(ctm, in_len, out_len, scale, roi_start, roi_end)
    outside: Optional[np.ndarray] = None
    if ctm == "tf_crop_and_resize":
        outside = (xo < 0) | (xo > in_len - 1)
        if not outside.any():
            outside = None
        else:
            xo = np.where(outside, 0.0, xo)
    if in_len == 0 or out_len == 0:
        return AxisPlan(axis, in_len, out_len, np.zeros((out_len,), np.int64), None, None)
    if mode == "nearest":
        idx = nearest_index(xo, nearest_mode, scale < 1.0)
        np.clip(idx, 0, in_len - 1, out=idx)
        return AxisPlan(axis, in_len, out_len, idx, None, outside)
    if mode == "linear" and not (antialias and scale < 1.0):
        xc = np.clip(xo, 0.0, in_len - 1.0)
        i0 = np.minimum(np.floor(xc).astype(np.int64), in_len - 1)
        i1 = np.minimum(i0 + 1, in_len - 1)
        w1 = xc - i0
        idx = np.stack([i0, i1], axis=1)
        w = np.stack([1.0 - w1, w1], axis=1)
        return AxisPlan(axis, in_len, out_len, idx, w, outside)
    if mode not in ("linear", "cubic"):
        raise InvalidArgument(f"mode '{mode}' is not supported; expected nearest, linear or cubic")
    # Generic filter taps (cubic, or antialiased linear/cubic when downsampling).
    support = 1.0 if mode == "linear" else 2.0
    fscale = min(float(scale), 1.0) if antialias else 1.0
    start = int(np.floor(-support / fscale)) + 1
    offsets = np.arange(start, 2 - start, dtype=np.int64)
    base = np.floor(xo)
    ratio = xo - base
    t = (offsets[None, :] - ratio[:, None]) * fscale
    w = linear_filter(t) if mode == "linear" else cubic_filter(t, cubic_a)
    raw = base.astype(np.int64)[:, None] + offsets[None, :]
    if exclude_outside:
        w = np.where((raw < 0) | (raw >= in_len), 0.0, w)
    total = w.sum(axis=1, keepdims=True)
    if antialias or exclude_outside:
        w = w / np.where(total == 0.0, 1.0, total)
    idx = np.clip(raw, 0, in_len - 1)
    return AxisPlan(axis, in_len, out_len, idx, w, outside)


def apply_plan(x: np.ndarray, plan: AxisPlan, ct: np.dtype) -> np.ndarray:
    """Resample ``x`` along ``plan.axis``; interpolating modes compute in float type ``ct``."""
    ax = plan.axis
    if plan.w is None:
        idx = plan.idx
        n_in, n_out = plan.in_len, plan.out_len
        if n_out > n_in > 0 and n_out % n_in == 0:
            rep = n_out // n_in
            if np.array_equal(idx, np.repeat(np.arange(n_in), rep)):
                return np.repeat(x, rep, axis=ax)
        return np.take(x, idx, axis=ax)
    if x.dtype != ct:
        x = x.astype(ct)
    shape = [1] * x.ndim
    shape[ax] = plan.out_len
    w = plan.w.astype(ct)
    # Drop taps whose weight is zero everywhere (e.g. trailing taps of antialias windows).
    keep = np.any(w != 0, axis=0)
    out = None
    for k in np.nonzero(keep)[0]:
        term = np.take(x, plan.idx[:, k], axis=ax)
        term *= w[:, k].reshape(shape)
        if out is None:
            out = term
        else:
            out += term
    if out is None:
        oshape = list(x.shape)
        oshape[ax] = plan.out_len
        out = np.zeros(oshape, ct)
    return out
