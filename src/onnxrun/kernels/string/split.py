"""StringSplit (opset 20): split every string on a delimiter."""

from __future__ import annotations

import numpy as np

from ..base import OpKernel
from ..registry import kernel
from ._common import object_array, string_tensor


@kernel("StringSplit", since=20, fresh=True)
class StringSplit(OpKernel):
    """Outputs Y (X.shape + [max parts], padded with "") and Z (int64 part counts). Without a
    delimiter (or with ""), runs of whitespace separate and leading/trailing whitespace is
    dropped; otherwise consecutive delimiters delimit empty strings. ``maxsplit`` caps the
    number of splits, the rest of the string being the last part. An empty string has no
    parts (as in onnxruntime)."""

    def __init__(self, info) -> None:
        super().__init__(info)
        delim = info.attr("delimiter", None)
        self.delimiter = delim if delim else None
        maxsplit = info.attr("maxsplit", None)
        self.maxsplit = -1 if maxsplit is None else int(maxsplit)

    def __call__(self, X):
        X = string_tensor(X, "StringSplit input")
        if self.delimiter is None:  # trailing whitespace never ends up in the last part
            parts = [s.strip().split(None, self.maxsplit) for s in X.reshape(-1)]
        else:
            parts = [s.split(self.delimiter, self.maxsplit) if s else []
                     for s in X.reshape(-1)]
        counts = np.array([len(p) for p in parts], dtype=np.int64).reshape(X.shape)
        width = max((len(p) for p in parts), default=0)
        flat = []
        for p in parts:
            flat.extend(p)
            flat.extend([""] * (width - len(p)))
        return object_array(flat, X.shape + (width,)), counts
