"""ReverseSequence."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import norm_axis


@kernel("ReverseSequence", since=10, fresh=True)
class ReverseSequence(OpKernel):
    """Reverse the first ``sequence_lens[i]`` elements along ``time_axis`` of each batch
    entry ``i`` along ``batch_axis``."""

    def __init__(self, info):
        super().__init__(info)
        self.batch_axis = int(info.attr("batch_axis", 1))
        self.time_axis = int(info.attr("time_axis", 0))

    def __call__(self, x, sequence_lens):
        if x.ndim < 2:
            raise InvalidArgument(f"input must have rank >= 2, got shape {list(x.shape)}")
        b = norm_axis(self.batch_axis, x.ndim, "batch_axis")
        t = norm_axis(self.time_axis, x.ndim, "time_axis")
        if b == t:
            raise InvalidArgument("batch_axis and time_axis must differ")
        lens = np.asarray(sequence_lens).astype(np.int64).reshape(-1)
        nb, nt = x.shape[b], x.shape[t]
        if lens.size != nb:
            raise InvalidArgument(f"sequence_lens has {lens.size} values, expected the batch "
                                  f"size {nb}")
        if lens.size and (lens.min() < 0 or lens.max() > nt):
            bad = int(lens.min()) if lens.min() < 0 else int(lens.max())
            raise InvalidArgument(f"sequence length {bad} is out of range: expected a value "
                                  f"in [0, {nt}]")
        j = np.arange(nt, dtype=np.int64)[None, :]
        L = lens[:, None]
        src = np.where(j < L, L - 1 - j, j)  # (batch, time)
        if b > t:
            src = src.T
        shape = [1] * x.ndim
        shape[b], shape[t] = nb, nt
        src = src.reshape(shape)
        return np.take_along_axis(x, src, axis=t)
