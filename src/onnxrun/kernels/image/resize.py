"""Resize (opsets 10-19) and Upsample (opsets 1-10): separable per-axis resampling.

Every axis is resampled with precomputed taps (see ``_interp``); interpolating modes run in
float32 (float64 for double and 64-bit integer inputs) and cast back; integer results are
truncated toward zero like onnxruntime (rounded when antialiasing) and saturated.
"""

from __future__ import annotations

import math
from typing import List, Optional, Sequence

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import cast_back, check_alloc, compute_dtype, max_bytes, norm_axes
from ._interp import COORD_MODES, NEAREST_MODES, apply_plan, plan_axis


def _empty(v) -> bool:
    return v is None or np.asarray(v).size == 0


class _ResizeBase(OpKernel):
    """Shared driver: attributes parsed at init, output shape and per-axis plans per call."""

    def __init__(self, info, mode: str, ctm: str, nearest_mode: str, cubic_a: float = -0.75,
                 exclude_outside: int = 0, extrapolation_value: float = 0.0,
                 antialias: int = 0, axes: Optional[Sequence[int]] = None,
                 policy: str = "stretch") -> None:
        super().__init__(info)
        mode = mode.decode() if isinstance(mode, bytes) else str(mode)
        mode = {"bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
        if mode not in ("nearest", "linear", "cubic"):
            raise InvalidArgument(f"mode '{mode}' is not supported; expected nearest, linear "
                                  "or cubic")
        if ctm not in COORD_MODES:
            raise InvalidArgument(f"coordinate_transformation_mode '{ctm}' is not supported; "
                                  f"expected one of {', '.join(COORD_MODES)}")
        if mode == "nearest" and nearest_mode not in NEAREST_MODES:
            raise InvalidArgument(f"nearest_mode '{nearest_mode}' is not supported; expected "
                                  "round_prefer_floor, round_prefer_ceil, floor or ceil")
        if policy not in ("stretch", "not_larger", "not_smaller"):
            raise InvalidArgument(f"keep_aspect_ratio_policy '{policy}' is not supported; "
                                  "expected stretch, not_larger or not_smaller")
        self.mode = mode
        self.ctm = ctm
        self.nearest_mode = nearest_mode
        self.cubic_a = float(cubic_a)
        self.exclude_outside = bool(exclude_outside)
        self.extrapolation_value = float(extrapolation_value)
        self.antialias = bool(antialias) and mode != "nearest"
        self.axes_attr = None if axes is None else [int(a) for a in axes]
        self.policy = policy
        self.limit = max_bytes(info)

    # -- shapes ---------------------------------------------------------------------------
    def _resolve(self, X: np.ndarray, roi, scales, sizes):
        rank = X.ndim
        axes = norm_axes(self.axes_attr, rank)
        n = len(axes)
        in_shape = list(X.shape)
        out_shape = list(in_shape)
        scale_of = {a: 1.0 for a in range(rank)}
        if not _empty(scales) and not _empty(sizes):
            raise InvalidArgument("only one of 'scales' and 'sizes' may be given")
        if not _empty(scales):
            sc = np.asarray(scales, dtype=np.float32).reshape(-1)
            if sc.size != n:
                raise InvalidArgument(f"'scales' has {sc.size} elements; expected {n} (one per "
                                      "resized axis)")
            if not np.all(sc > 0):
                raise InvalidArgument(f"'scales' must be positive; got {sc.tolist()}")
            for a, s in zip(axes, sc):
                # float32 product, as onnxruntime computes it
                out_shape[a] = int(np.floor(np.float32(s) * np.float32(in_shape[a])))
                scale_of[a] = float(s)
        elif not _empty(sizes):
            sz = np.asarray(sizes).astype(np.int64).reshape(-1)
            if sz.size != n:
                raise InvalidArgument(f"'sizes' has {sz.size} elements; expected {n} (one per "
                                      "resized axis)")
            if np.any(sz < 0):
                raise InvalidArgument(f"'sizes' must be non-negative; got {sz.tolist()}")
            if self.policy == "stretch":
                for a, s in zip(axes, sz):
                    out_shape[a] = int(s)
                    scale_of[a] = (int(s) / in_shape[a]) if in_shape[a] else 1.0
            else:
                f = np.float32
                ratios = [f(int(s)) / f(in_shape[a]) for a, s in zip(axes, sz) if in_shape[a]]
                if ratios:
                    r = min(ratios) if self.policy == "not_larger" else max(ratios)
                    for a in axes:
                        out_shape[a] = int(math.floor(float(r * f(in_shape[a])) + 0.5))
                        scale_of[a] = float(r)
        else:
            raise InvalidArgument("one of 'scales' and 'sizes' must be given (non-empty)")
        starts = {a: 0.0 for a in range(rank)}
        ends = {a: 1.0 for a in range(rank)}
        if self.ctm == "tf_crop_and_resize":
            if _empty(roi):
                raise InvalidArgument("coordinate_transformation_mode 'tf_crop_and_resize' "
                                      "needs the 'roi' input")
            r = np.asarray(roi, dtype=np.float64).reshape(-1)
            if r.size == 2 * n:
                for i, a in enumerate(axes):
                    starts[a], ends[a] = float(r[i]), float(r[n + i])
            elif r.size == 2 * rank:
                for a in axes:
                    starts[a], ends[a] = float(r[a]), float(r[rank + a])
            else:
                raise InvalidArgument(f"'roi' has {r.size} elements; expected {2 * n} "
                                      "(starts then ends of the resized axes)")
        return axes, out_shape, scale_of, starts, ends

    def resize(self, X: np.ndarray, roi=None, scales=None, sizes=None) -> np.ndarray:
        """Resize ``X`` given the roi/scales/sizes inputs."""
        X = np.asarray(X)
        axes, out_shape, scale_of, starts, ends = self._resolve(X, roi, scales, sizes)
        check_alloc(out_shape, X.dtype, self.limit)
        if self.mode != "nearest" and X.dtype.kind not in "biufcV":
            raise InvalidArgument(f"mode '{self.mode}' needs numeric input; got {X.dtype}")
        plans = []
        for a in axes:
            p = plan_axis(a, X.shape[a], out_shape[a], scale_of[a], mode=self.mode, ctm=self.ctm,
                          nearest_mode=self.nearest_mode, cubic_a=self.cubic_a,
                          exclude_outside=self.exclude_outside, antialias=self.antialias,
                          roi_start=starts[a], roi_end=ends[a])
            if not p.is_identity():
                plans.append(p)
        if not plans:
            return X.copy()
        if any(d == 0 for d in out_shape) or X.size == 0:
            return np.zeros(out_shape, X.dtype)
        # shrink first: later passes then work on less data
        plans.sort(key=lambda p: p.out_len / max(p.in_len, 1))
        ct = compute_dtype(X.dtype)
        y = X
        for p in plans:
            y = apply_plan(y, p, ct)
        if y.dtype != X.dtype:
            y = cast_back(y, X.dtype, round_ints=self.antialias)
        masks = [p for p in plans if p.outside is not None]
        if masks:
            m = np.zeros([1] * y.ndim, dtype=bool)
            for p in masks:
                shape = [1] * y.ndim
                shape[p.axis] = p.out_len
                m = m | p.outside.reshape(shape)
            y = np.where(m, np.asarray(self.extrapolation_value).astype(X.dtype), y)
        return y


@kernel("Resize", since=10, until=10, fresh=True)
class Resize10(_ResizeBase):
    """Resize-10: ``scales`` input, asymmetric coordinates, legacy nearest rounding."""

    def __init__(self, info) -> None:
        super().__init__(info, mode=info.attr("mode", "nearest"), ctm="asymmetric",
                         nearest_mode="legacy")

    def __call__(self, X, scales):
        return self.resize(X, None, scales, None)


@kernel("Resize", since=11, until=19, fresh=True)
class Resize(_ResizeBase):
    """Resize-11..19: roi/scales/sizes inputs, every coordinate mode, antialias and axes (18+)."""

    def __init__(self, info) -> None:
        a = info.attr
        super().__init__(
            info, mode=a("mode", "nearest"),
            ctm=a("coordinate_transformation_mode", "half_pixel"),
            nearest_mode=a("nearest_mode", "round_prefer_floor"),
            cubic_a=a("cubic_coeff_a", -0.75), exclude_outside=a("exclude_outside", 0),
            extrapolation_value=a("extrapolation_value", 0.0), antialias=a("antialias", 0),
            axes=a("axes"), policy=a("keep_aspect_ratio_policy", "stretch"))

    def __call__(self, X, roi=None, scales=None, sizes=None):
        return self.resize(X, roi, scales, sizes)


@kernel("Upsample", since=1, until=10, fresh=True)
class Upsample(_ResizeBase):
    """Upsample-1 (height_scale/width_scale), -7 (scales attribute), -9/10 (scales input)."""

    def __init__(self, info) -> None:
        super().__init__(info, mode=info.attr("mode", "nearest"), ctm="asymmetric",
                         nearest_mode="legacy")
        self.attr_scales: Optional[List[float]] = None
        if info.since_version < 7:
            self.attr_scales = [float(info.attr("height_scale", 1.0)),
                                float(info.attr("width_scale", 1.0))]
        elif info.since_version < 9:
            sc = info.require_attr("scales")
            self.attr_scales = [float(s) for s in sc]

    def __call__(self, X, scales=None):
        X = np.asarray(X)
        if self.attr_scales is not None:
            sc = list(self.attr_scales)
            if self.info.since_version < 7:
                if X.ndim != 4:
                    raise InvalidArgument(f"Upsample-1 expects a 4-D NCHW input; got rank "
                                          f"{X.ndim}")
                sc = [1.0, 1.0] + sc
            scales = np.asarray(sc, dtype=np.float32)
        if scales is None:
            raise InvalidArgument("Upsample needs the 'scales' input")
        sc = np.asarray(scales, dtype=np.float32).reshape(-1)
        if sc.size != X.ndim:
            raise InvalidArgument(f"'scales' has {sc.size} elements; expected {X.ndim} (the "
                                  "input rank)")
        return self.resize(X, None, sc, None)
