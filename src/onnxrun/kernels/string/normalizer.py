"""StringNormalizer (opset 10): drop stopwords, then change case."""

from __future__ import annotations

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import object_array, string_tensor


@kernel("StringNormalizer", since=10, fresh=True)
class StringNormalizer(OpKernel):
    """Input [C] or [1, C]. Stopwords are removed (case-insensitively unless
    ``is_case_sensitive``), then strings are lowercased/uppercased per ``case_change_action``.
    When nothing is left the output is [""] (shape [1], or [1, 1] for a [1, C] input)."""

    def __init__(self, info) -> None:
        super().__init__(info)
        action = info.attr("case_change_action", "NONE")
        if action not in ("NONE", "LOWER", "UPPER"):
            raise InvalidArgument(f"StringNormalizer case_change_action must be NONE, LOWER or "
                                  f"UPPER, got '{action}'")
        self.action = action
        self.case_sensitive = bool(info.attr("is_case_sensitive", 0))
        words = info.attr("stopwords", []) or []
        self.stopwords = set(words) if self.case_sensitive else {w.lower() for w in words}

    def __call__(self, X):
        X = string_tensor(X, "StringNormalizer input")
        if X.ndim == 1:
            flat, two_d = X, False
        elif X.ndim == 2 and X.shape[0] == 1:
            flat, two_d = X[0], True
        else:
            raise InvalidArgument(f"StringNormalizer input must have shape [C] or [1, C], got "
                                  f"{list(X.shape)}")
        words = list(flat)
        if self.stopwords:
            if self.case_sensitive:
                words = [w for w in words if w not in self.stopwords]
            else:
                words = [w for w in words if w.lower() not in self.stopwords]
        if self.action == "LOWER":
            words = [w.lower() for w in words]
        elif self.action == "UPPER":
            words = [w.upper() for w in words]
        if not words:
            words = [""]
        out = object_array(words, (len(words),))
        return out.reshape(1, -1) if two_d else out
