"""RegexFullMatch (opset 20): whether each string fully matches a pattern.

The ONNX spec uses RE2 syntax; this kernel runs Python's ``re`` on the pattern translated by
``_re2.translate`` (see there for what is handled and what is rejected).
"""

from __future__ import annotations

import re
import warnings

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import string_tensor
from ._re2 import translate


@kernel("RegexFullMatch", since=20, fresh=True)
class RegexFullMatch(OpKernel):
    """Bool tensor: whether each element fully matches ``pattern``."""

    def __init__(self, info) -> None:
        super().__init__(info)
        pattern = info.attr("pattern", "")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.regex = re.compile(translate(pattern))
        except re.error as exc:
            raise InvalidArgument(f"RegexFullMatch: invalid pattern '{pattern}': {exc}") from None

    def __call__(self, X):
        X = string_tensor(X, "RegexFullMatch input")
        match = self.regex.fullmatch
        out = np.fromiter((match(s) is not None for s in X.reshape(-1)), dtype=bool,
                          count=X.size)
        return out.reshape(X.shape)
