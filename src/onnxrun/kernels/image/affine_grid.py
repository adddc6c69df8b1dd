"""AffineGrid (opset 20): sampling grids from batches of 2-D / 3-D affine matrices."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import check_alloc, max_bytes


def _base_coords(n: int, align_corners: bool) -> np.ndarray:
    """Normalized positions of ``n`` pixel centres along one axis, in [-1, 1]."""
    if n <= 1:
        return np.zeros((max(n, 0),), np.float64)
    if align_corners:
        return np.linspace(-1.0, 1.0, n)
    return (np.arange(n, dtype=np.float64) * 2.0 + 1.0) / n - 1.0


@kernel("AffineGrid", since=20, fresh=True)
class AffineGrid(OpKernel):
    """grid[n, (d,) h, w] = theta[n] @ (x, y, (z,) 1) with x along width."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.align = bool(info.attr("align_corners", 0))
        self.limit = max_bytes(info)

    def __call__(self, theta, size):
        theta = np.asarray(theta)
        size = [int(s) for s in np.asarray(size).reshape(-1)]
        if len(size) not in (4, 5):
            raise InvalidArgument(f"size must have 4 (N, C, H, W) or 5 (N, C, D, H, W) "
                                  f"elements; got {size}")
        r = len(size) - 2
        N = size[0]
        if theta.ndim != 3 or theta.shape != (N, r, r + 1):
            raise InvalidArgument(f"theta must have shape [{N}, {r}, {r + 1}] for size {size}; "
                                  f"got {list(theta.shape)}")
        if any(s < 0 for s in size):
            raise InvalidArgument(f"size must be non-negative; got {size}")
        spatial = size[2:]
        check_alloc([N] + spatial + [r], theta.dtype, self.limit)
        # coordinates ordered x (last spatial axis) first
        axes = [_base_coords(n, self.align) for n in spatial]
        mesh = np.meshgrid(*axes, indexing="ij")
        base = np.stack(list(reversed(mesh)) + [np.ones(spatial)], axis=-1)  # (*sp, r + 1)
        base = base.reshape(-1, r + 1)
        ct = np.float64 if theta.dtype == np.float64 else np.float32
        grid = np.einsum("pk,nik->npi", base.astype(ct), theta.astype(ct))
        return grid.reshape([N] + spatial + [r]).astype(theta.dtype)
