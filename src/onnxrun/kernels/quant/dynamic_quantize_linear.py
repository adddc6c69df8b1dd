"""DynamicQuantizeLinear: uint8 quantization with a scale and zero point computed from the data."""

from __future__ import annotations

import numpy as np

from ..base import OpKernel
from ..registry import kernel
from . import _blocked

_F32 = np.dtype(np.float32)


@kernel("DynamicQuantizeLinear", since=11, fresh=True)
class DynamicQuantizeLinear(OpKernel):
    """Range [min(0, min x), max(0, max x)] mapped onto [0, 255]; round half to even. An
    all-zero (or empty) input gets scale 1 like onnxruntime, instead of a division by 0. The
    codes are made by the blocked QuantizeLinear path (NaN -> 0)."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.pool = info.intra_op

    def __call__(self, x):
        x = np.asarray(x, dtype=_F32)
        if x.size:
            lo = min(_F32.type(0), _F32.type(np.min(x)))
            hi = max(_F32.type(0), _F32.type(np.max(x)))
        else:
            lo = hi = _F32.type(0)
        scale = _F32.type((hi - lo) / _F32.type(255))
        if scale == 0:
            scale = _F32.type(1)  # all-zero input: onnxruntime reports scale 1, zero point 0
        zp = _F32.type(np.clip(np.rint(_F32.type(0) - lo / scale), 0, 255))
        p = _blocked.Params(scale, zp, 0, 255)
        y = _blocked.quantize(x, p, np.dtype(np.uint8), self.pool)
        return y, np.array(scale, dtype=_F32), np.array(zp, dtype=np.uint8)
