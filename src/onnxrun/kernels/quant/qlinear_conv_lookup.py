"""QLinearConvLookup (com.onnxrun): a QLinearConv whose 8-bit output codes go straight through
a 256-entry table (input 9, in byte order), created by the optimizer from QLinearConv ->
ByteLookup (optimizer/fuse_conv_lookup.py): the codes are looked up as they are made, never
stored. Attributes are QLinearConv's, plus com.microsoft's ``channels_last``."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..microsoft.qlinear_conv import QLinearConv
from ..registry import kernel

DOMAIN = "com.onnxrun"


def lookup_table(info) -> np.ndarray:
    """The node's constant table (input 9)."""
    t = info.const_inputs[9] if len(info.const_inputs) > 9 else None
    if t is None or t.shape != (256,):
        raise InvalidArgument("QLinearConvLookup needs a constant table of 256 entries as "
                              "input 9")
    return np.ascontiguousarray(t)


@kernel("QLinearConvLookup", since=1, domain=DOMAIN, fresh=True)
class QLinearConvLookup(QLinearConv):
    """``table[QLinearConv(...)]`` (the table indexed by the code's byte)."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.table = lookup_table(info)

    def __call__(self, x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
                 y_zero_point, B=None, table=None):
        return super().__call__(x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
                                y_zero_point, B)

    def requantize(self, acc, bias, mult, zero, dt):
        codes = super().requantize(acc, bias, mult, zero, dt)
        return np.take(self.table, codes.view(np.uint8), mode="clip")
