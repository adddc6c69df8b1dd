"""com.microsoft.nchwc ReorderInput and ReorderOutput: NCHW / NHWC <-> the NCHWc blocked layout
(see :mod:`._nchwc_layout`)."""

from __future__ import annotations

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._nchwc_layout import DOMAIN, block_size, check_input, from_blocked, to_blocked


@kernel("ReorderInput", since=1, domain=DOMAIN, fresh=True)
class ReorderInput(OpKernel):
    """NCHW (``channels_last=1``: NHWC) -> NCHWc, channels zero-padded to the block size."""

    def __init__(self, info):
        super().__init__(info)
        self.block = block_size(info)
        self.channels_last = bool(info.attr("channels_last", 0))

    def __call__(self, X):
        check_input(X, "ReorderInput's X")
        return to_blocked(X, self.block, self.channels_last)


@kernel("ReorderOutput", since=1, domain=DOMAIN, fresh=True)
class ReorderOutput(OpKernel):
    """NCHWc -> NCHW (``channels_last=1``: NHWC) keeping the first ``channels`` channels."""

    def __init__(self, info):
        super().__init__(info)
        self.block = block_size(info)
        self.channels = int(info.attr("channels", 0))
        if self.channels <= 0:
            raise InvalidArgument(f"attribute 'channels' must be positive, got {self.channels}")
        self.channels_last = bool(info.attr("channels_last", 0))

    def __call__(self, X):
        check_input(X, "ReorderOutput's X")
        cp, b = X.shape[1], self.block
        if cp % b or not 0 <= cp - self.channels < b:
            raise InvalidArgument(
                f"Input channels must match the NCHWc block-aligned channel count: X has {cp} "
                f"channels, 'channels' is {self.channels}, block size {b}")
        return from_blocked(X, b, self.channels, self.channels_last)
