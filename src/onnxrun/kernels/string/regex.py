"""RegexFullMatch (opset 20): whether each string fully matches a pattern.

The ONNX spec uses RE2 syntax; this kernel uses Python's ``re``. The common subset behaves the
same. RE2's ``\\z`` is translated to Python's ``\\Z``; constructs RE2 rejects (lookarounds,
backreferences, atomic groups, possessive quantifiers) are rejected here too. RE2 features
Python lacks (``\\pN``/``\\p{Greek}`` Unicode classes, ``\\C``, ``[[:alpha:]]`` POSIX classes)
make the pattern invalid here.
"""

from __future__ import annotations

import re

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import string_tensor

_UNSUPPORTED = re.compile(r"\(\?(?:=|!|<=|<!|>)|[*+?}]\+")


def _translate(pattern: str) -> str:
    """RE2 pattern -> Python pattern (escapes walked once; ``\\z`` becomes ``\\Z``)."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt.isdigit() and nxt != "0":
                raise InvalidArgument(f"RegexFullMatch pattern '{pattern}': backreferences are "
                                      "not supported by RE2")
            out.append("\\Z" if nxt == "z" else c + nxt)
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


@kernel("RegexFullMatch", since=20, fresh=True)
class RegexFullMatch(OpKernel):
    """Bool tensor: ``re.fullmatch(pattern, x)`` for each element."""

    def __init__(self, info) -> None:
        super().__init__(info)
        pattern = info.attr("pattern", "")
        stripped = re.sub(r"\[\^?\]?[^\]]*\]", "", re.sub(r"\\.", "e", pattern))
        if _UNSUPPORTED.search(stripped):
            raise InvalidArgument(f"RegexFullMatch pattern '{pattern}' uses lookaround, atomic "
                                  "or possessive constructs, which RE2 does not support")
        try:
            self.regex = re.compile(_translate(pattern))
        except re.error as exc:
            raise InvalidArgument(f"RegexFullMatch: invalid pattern '{pattern}': {exc}") from None

    def __call__(self, X):
        X = string_tensor(X, "RegexFullMatch input")
        match = self.regex.fullmatch
        out = np.fromiter((match(s) is not None for s in X.reshape(-1)), dtype=bool,
                          count=X.size)
        return out.reshape(X.shape)
