"""Optional (opset 15, 28), OptionalGetElement and OptionalHasElement (opset 15, 18, 28).
An empty optional is ``None``; a non-empty one is its element (tensor or sequence)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel


@kernel("Optional", since=15)
def optional(input=None, type=None):
    """The input itself (a non-empty optional), or ``None`` (an empty optional of ``type``)."""
    if input is None and type is None:
        raise InvalidArgument("Optional without an input needs the 'type' attribute")
    return input


@kernel("OptionalGetElement", since=15)
class OptionalGetElement(OpKernel):
    """The element of a non-empty optional; tensors and sequences pass through (opset 18+)."""

    def __call__(self, input=None):
        if input is None:
            raise InvalidArgument("OptionalGetElement: the optional input is empty (expected "
                                  "an optional holding a tensor or sequence)")
        return input


@kernel("OptionalHasElement", since=15, fresh=True)
class OptionalHasElement(OpKernel):
    """A bool scalar: whether the input is present and not an empty optional."""

    def __call__(self, input=None):
        return np.array(input is not None)
