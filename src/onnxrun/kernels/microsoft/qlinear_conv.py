"""QLinearConv (com.microsoft): the ONNX QLinearConv, also on channels-last (NHWC) input, as
onnxruntime's layout transformer emits it."""

from __future__ import annotations

import numpy as np

from ..quant.conv_integer import QLinearConv as _OnnxQLinearConv
from ..registry import kernel


@kernel("QLinearConv", domain="com.microsoft", since=1, fresh=True)
class QLinearConv(_OnnxQLinearConv):
    """ONNX QLinearConv semantics (exact integer convolution, requantized with round half to
    even and saturation); with ``channels_last`` x and y are [N, *spatial, C] while the
    weight stays [M, C/group, *kernel]."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.channels_last = bool(info.attr("channels_last", 0))

    def __call__(self, x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
                 y_zero_point, B=None):
        if self.channels_last and x.ndim >= 3:
            x = np.moveaxis(x, -1, 1)
        y = super().__call__(x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
                             y_zero_point, B)
        if self.channels_last and y.ndim >= 3:
            y = np.ascontiguousarray(np.moveaxis(y, 1, -1))
        return y
