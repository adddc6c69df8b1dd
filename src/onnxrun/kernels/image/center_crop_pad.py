"""CenterCropPad (opset 18): centred crop or zero-pad of selected axes."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import check_alloc, max_bytes, norm_axes


@kernel("CenterCropPad", since=18, fresh=True)
class CenterCropPad(OpKernel):
    """Crops (start rounded down) or pads (extra element on the right) each axis to ``shape``."""

    def __init__(self, info) -> None:
        super().__init__(info)
        axes = info.attr("axes")
        self.axes = None if axes is None else [int(a) for a in axes]
        self.limit = max_bytes(info)

    def __call__(self, input_data, shape):
        x = np.asarray(input_data)
        target = [int(s) for s in np.asarray(shape).reshape(-1)]
        axes = norm_axes(self.axes, x.ndim)
        if len(target) != len(axes):
            raise InvalidArgument(f"shape has {len(target)} elements; expected {len(axes)} "
                                  "(one per axis)")
        if any(t < 0 for t in target):
            raise InvalidArgument(f"shape must be non-negative; got {target}")
        out_shape = list(x.shape)
        src = [slice(None)] * x.ndim
        dst = [slice(None)] * x.ndim
        for a, t in zip(axes, target):
            n = x.shape[a]
            out_shape[a] = t
            if n > t:
                s = (n - t) // 2
                src[a] = slice(s, s + t)
            elif n < t:
                s = (t - n) // 2
                dst[a] = slice(s, s + n)
        check_alloc(out_shape, x.dtype, self.limit)
        if x.dtype == object:
            out = np.full(out_shape, "", dtype=object)
        else:
            out = np.zeros(out_shape, x.dtype)
        out[tuple(dst)] = x[tuple(src)]
        return out
