"""StringConcat (opset 20): elementwise concatenation of two string tensors."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..registry import kernel
from ._common import string_tensor


@kernel("StringConcat", since=20, fresh=True)
def string_concat(X, Y):
    """``X[i] + Y[i]`` with NumPy broadcasting."""
    X = string_tensor(X, "StringConcat input X")
    Y = string_tensor(Y, "StringConcat input Y")
    try:
        shape = np.broadcast_shapes(X.shape, Y.shape)
    except ValueError:
        raise InvalidArgument(f"StringConcat: shapes {X.shape} and {Y.shape} cannot be "
                              "broadcast") from None
    out = np.empty(shape, dtype=object)
    np.add(X, Y, out=out)
    return out
