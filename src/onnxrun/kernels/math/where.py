"""Where: elementwise select with broadcasting."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..registry import kernel


@kernel("Where", since=9, fresh=True)
def where(condition, x, y):
    """x where condition is true, else y."""
    if condition.dtype != np.bool_:
        raise InvalidArgument(f"Where condition must be bool, got {condition.dtype}")
    r = np.where(condition, x, y)
    if r.dtype != x.dtype:
        r = r.astype(x.dtype)
    return r
