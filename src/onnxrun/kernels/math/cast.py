"""Cast, CastLike and BitCast."""

from __future__ import annotations

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._cast_impl import ROUND_MODES, bitcast, cast_numeric, dtype_from_to


def _cast_attrs(info):
    saturate = bool(info.attr("saturate", 1))
    round_mode = info.attr("round_mode", "up")
    if round_mode not in ROUND_MODES:
        raise InvalidArgument(f"round_mode must be one of {ROUND_MODES}, got {round_mode!r}")
    return saturate, round_mode


@kernel("Cast", since=1, fresh=True)
class Cast(OpKernel):
    """Convert the input to the type named by ``to`` (strings, float8, int4, e8m0 included)."""

    def __init__(self, info):
        super().__init__(info)
        self.target = dtype_from_to(info.require_attr("to"))
        self.saturate, self.round_mode = _cast_attrs(info)

    def __call__(self, x):
        return cast_numeric(x, self.target, self.saturate, self.round_mode)


@kernel("CastLike", since=15, fresh=True)
class CastLike(OpKernel):
    """Convert the input to the element type of ``target_type``."""

    def __init__(self, info):
        super().__init__(info)
        self.saturate, self.round_mode = _cast_attrs(info)

    def __call__(self, x, target_type):
        return cast_numeric(x, target_type.dtype, self.saturate, self.round_mode)


@kernel("BitCast", since=26, fresh=True)
class BitCast(OpKernel):
    """Reinterpret the input's bits as the type named by ``to`` (same bit width)."""

    def __init__(self, info):
        super().__init__(info)
        self.target = dtype_from_to(info.require_attr("to"))

    def __call__(self, x):
        return bitcast(x, self.target)
