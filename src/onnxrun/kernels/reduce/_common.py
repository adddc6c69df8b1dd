"""Shared axis handling for the reduction kernels."""

from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np

from ...errors import InvalidArgument


def norm_reduce_axes(axes, rank: int) -> Tuple[int, ...]:
    """Normalize reduction axes (negative allowed) for a tensor of ``rank``."""
    out = []
    for a in axes:
        a = int(a)
        if a < -rank or a >= rank:
            if rank == 0 and a in (0, -1):
                continue
            raise InvalidArgument(f"axis {a} is out of range for a tensor of rank {rank}; "
                                  f"expected a value in [{-rank}, {rank - 1}]")
        out.append(a + rank if a < 0 else a)
    if len(set(out)) != len(out):
        raise InvalidArgument(f"axes {list(axes)} contains a repeated axis")
    return tuple(sorted(out))


def axes_from_input(axes) -> Optional[List[int]]:
    """Axes given as an optional 1-D int64 input."""
    if axes is None:
        return None
    arr = np.asarray(axes)
    if arr.dtype.kind not in "iu":
        raise InvalidArgument(f"axes must be an integer tensor, got {arr.dtype}")
    return [int(v) for v in arr.reshape(-1)]
