"""DynamicQuantizeLinear: uint8 quantization with a scale and zero point computed from the data."""

from __future__ import annotations

import numpy as np

from ..registry import kernel


@kernel("DynamicQuantizeLinear", since=11, fresh=True)
def dynamic_quantize_linear(x):
    """Range [min(0, min x), max(0, max x)] mapped onto [0, 255]; round half to even. An
    all-zero (or empty) input gets scale 1 like onnxruntime, instead of a division by 0."""
    x = np.asarray(x, dtype=np.float32)
    if x.size:
        lo = min(np.float32(0), np.float32(np.min(x)))
        hi = max(np.float32(0), np.float32(np.max(x)))
    else:
        lo = hi = np.float32(0)
    scale = np.float32((hi - lo) / np.float32(255))
    if scale == 0:
        scale = np.float32(1)  # all-zero input: onnxruntime reports scale 1, zero point 0
    zp = np.float32(np.clip(np.rint(np.float32(0) - lo / scale), 0, 255))
    q = np.rint(x / scale) + zp
    y = np.clip(q, 0, 255).astype(np.uint8)
    return y, np.array(scale, dtype=np.float32), np.array(zp, dtype=np.uint8)
