"""Dropout: the identity at inference (with an all-True mask when asked); with
``training_mode`` (opset >= 12) a random mask, drawn from a generator seeded by ``seed``
when given."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from .. import _random_state
from ..base import OpKernel
from ..registry import kernel


@kernel("Dropout", since=1, may_alias={0: 0})
class Dropout(OpKernel):
    """Dropout for every opset version (ratio attribute before 12, input from 12 on)."""

    def __init__(self, info):
        super().__init__(info)
        self.v = info.since_version
        self.ratio_attr = float(info.attr("ratio", 0.5))
        self.seed = info.attr("seed")
        self.want_mask = info.output_wanted(1)
        # mask type: T before opset 10, bool from 10 on
        self.bool_mask = self.v >= 10

    def _mask(self, X, value=True):
        if self.bool_mask:
            return np.full(X.shape, value, dtype=bool)
        return np.full(X.shape, 1 if value else 0, dtype=X.dtype)

    def __call__(self, X, ratio=None, training_mode=None):
        training = False
        r = self.ratio_attr
        if self.v >= 12:
            if ratio is not None:
                if np.ndim(ratio) != 0:
                    raise InvalidArgument(f"ratio must be a scalar, got shape {np.shape(ratio)}")
                r = float(ratio)
            training = bool(training_mode) if training_mode is not None else False
        if training and not 0.0 <= r < 1.0:
            raise InvalidArgument(f"ratio must be in [0, 1), got {r}")
        if not training or r == 0.0:
            return (X, self._mask(X)) if self.want_mask else (X,)
        if self.seed is not None:
            # a seeded Mersenne-Twister stream: same masks as NumPy's legacy np.random.seed
            u = np.random.RandomState(int(self.seed) & 0xFFFFFFFF).random_sample(X.shape)
        else:
            u = _random_state.generator().random(X.shape)
        keep = u >= r
        scale = 1.0 / (1.0 - r)
        Y = (X * keep * X.dtype.type(scale)).astype(X.dtype, copy=False)
        if self.want_mask:
            return Y, keep if self.bool_mask else keep.astype(X.dtype)
        return (Y,)
