"""Scatter-add of per-tap columns back into an image (the adjoint of im2col), shared by
ConvTranspose and Col2Im."""

from __future__ import annotations

import numpy as np


def col2im(cols: np.ndarray, in_sp, kernel, strides, dilations, out_sp, pb) -> np.ndarray:
    """Sum ``cols`` (lead..., k..., i...) into an image (lead..., out_sp...).

    Tap (k, i) lands at full-image coordinate i*s + k*d; output coordinate o is full coordinate
    o + pb (pb may be negative). Contributions outside the output are dropped."""
    nsp = len(kernel)
    lead = cols.shape[:cols.ndim - 2 * nsp]
    # full coordinate range needed: [lo, hi)
    lo = [min(0, pb[i]) for i in range(nsp)]
    full = [(in_sp[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 for i in range(nsp)]
    hi = [max(full[i], pb[i] + out_sp[i]) for i in range(nsp)]
    buf = np.zeros(lead + tuple(hi[i] - lo[i] for i in range(nsp)), dtype=cols.dtype)
    pre = (slice(None),) * len(lead)
    for idx in np.ndindex(*kernel):
        sl = tuple(slice(idx[i] * dilations[i] - lo[i],
                         idx[i] * dilations[i] - lo[i] + (in_sp[i] - 1) * strides[i] + 1,
                         strides[i]) for i in range(nsp))
        buf[pre + sl] += cols[pre + idx]
    crop = tuple(slice(pb[i] - lo[i], pb[i] - lo[i] + out_sp[i]) for i in range(nsp))
    return np.ascontiguousarray(buf[pre + crop])
