"""ZipMap, DictVectorizer and CastMap (ai.onnx.ml 1): conversions between maps and tensors."""

from __future__ import annotations

import re

import numpy as np

from ...errors import InvalidArgument
from ...ir.types import TensorType
from ..base import OpKernel
from ..registry import kernel
from ._common import ML


@kernel("ZipMap", since=1, domain=ML)
class ZipMap(OpKernel):
    """One {class label: score} dict per row of a [N, C] float tensor (a list of dicts)."""

    def __init__(self, info):
        super().__init__(info)
        strs = info.attr("classlabels_strings")
        ints = info.attr("classlabels_int64s")
        if strs and ints:
            raise InvalidArgument("ZipMap: only one of classlabels_strings and "
                                  "classlabels_int64s may be set")
        if not strs and not ints:
            raise InvalidArgument("ZipMap needs classlabels_strings or classlabels_int64s")
        self.keys = [str(s) for s in strs] if strs else [int(i) for i in ints]

    def __call__(self, X):
        X = np.asarray(X)
        if X.dtype != np.float32:
            raise InvalidArgument(f"ZipMap: input must be float, got {X.dtype}")
        if X.ndim == 1:
            X2 = X.reshape(1, -1)
        elif X.ndim == 2:
            X2 = X
        else:
            raise InvalidArgument(f"ZipMap: input must be 1-D or 2-D, got shape {X.shape}")
        if X2.shape[1] != len(self.keys):
            raise InvalidArgument(f"ZipMap: input has {X2.shape[1]} columns, expected "
                                  f"{len(self.keys)} (one per class label)")
        keys = self.keys
        return [dict(zip(keys, row)) for row in X2.tolist()]


@kernel("DictVectorizer", since=1, domain=ML, fresh=True)
class DictVectorizer(OpKernel):
    """A map to a [1, V] tensor: the value of each vocabulary key (0 where absent)."""

    def __init__(self, info):
        super().__init__(info)
        strs = info.attr("string_vocabulary")
        ints = info.attr("int64_vocabulary")
        if strs and ints:
            raise InvalidArgument("DictVectorizer: only one vocabulary may be set")
        vocab = [str(s) for s in strs] if strs else [int(i) for i in (ints or [])]
        self.string_keys = bool(strs)
        self.index = {}
        for i, k in enumerate(vocab):
            self.index.setdefault(k, i)
        self.size = len(vocab)
        out_t = info.output_types[0] if info.output_types else None
        self.out_dtype = _elem_dtype(out_t)

    def __call__(self, X):
        if not isinstance(X, dict):
            raise InvalidArgument(f"DictVectorizer: input must be a map, got {type(X).__name__}")
        vals = list(X.values())
        dtype = self.out_dtype
        if dtype is None:
            dtype = _value_dtype(vals)
        if dtype == object:
            out = np.full((1, self.size), "", dtype=object)
        else:
            out = np.zeros((1, self.size), dtype=dtype)
        for k, v in X.items():
            key = str(k) if self.string_keys else int(k)
            j = self.index.get(key)
            if j is not None:
                out[0, j] = v
        return out


def _value_dtype(vals):
    if not vals:
        return np.float32
    v = vals[0]
    if isinstance(v, str):
        return object
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return np.int64
    if isinstance(v, np.floating):
        return v.dtype
    return np.float32


def _elem_dtype(t):
    """NumPy dtype of a tensor type from the graph, or None when unknown."""
    if isinstance(t, TensorType):
        try:
            return np.dtype(t.dtype)
        except Exception:  # noqa: BLE001 - undefined element type
            return None
    return None


_CASTS = ("TO_FLOAT", "TO_STRING", "TO_INT64")
# leading number of a string, as C's strtof / strtoll read it
_FLOAT_PREFIX = re.compile(r"\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)",
                           re.IGNORECASE)
_INT_PREFIX = re.compile(r"\s*[+-]?\d+")


@kernel("CastMap", since=1, domain=ML, fresh=True)
class CastMap(OpKernel):
    """map(int64, string|float) to a [1, K] tensor of floats, strings or int64, with values in
    ascending key order (DENSE) or at position key (SPARSE, length max_map)."""

    def __init__(self, info):
        super().__init__(info)
        self.cast_to = str(info.attr("cast_to", "TO_FLOAT"))
        self.form = str(info.attr("map_form", "DENSE"))
        self.max_map = int(info.attr("max_map", 1))
        if self.cast_to not in _CASTS:
            raise InvalidArgument(f"CastMap: cast_to '{self.cast_to}' is not one of {_CASTS}")
        if self.form not in ("DENSE", "SPARSE"):
            raise InvalidArgument(f"CastMap: map_form '{self.form}' is not DENSE or SPARSE")
        if self.form == "SPARSE" and self.max_map < 1:
            raise InvalidArgument("CastMap: max_map must be positive for SPARSE")

    def _convert(self, values):
        if self.cast_to == "TO_STRING":
            return np.array([v if isinstance(v, str) else _float_str(v) for v in values],
                            dtype=object)
        if any(isinstance(v, str) for v in values):
            pattern = _INT_PREFIX if self.cast_to == "TO_INT64" else _FLOAT_PREFIX
            parsed = []
            for v in values:
                m = pattern.match(v) if isinstance(v, str) else None
                if isinstance(v, str) and m is None:
                    raise InvalidArgument(f"CastMap: cannot convert {v!r} to a number")
                parsed.append(m.group(0) if m else v)
            if self.cast_to == "TO_INT64":
                return np.array([int(p) for p in parsed], dtype=np.int64)
            return np.array([float(p) for p in parsed], dtype=np.float32)
        nums = np.array(values, dtype=np.float32)
        if self.cast_to == "TO_FLOAT":
            return nums
        return nums.astype(np.int64)

    def __call__(self, X):
        if not isinstance(X, dict):
            raise InvalidArgument(f"CastMap: input must be a map, got {type(X).__name__}")
        keys = sorted(int(k) for k in X)
        values = [X[k] for k in keys]
        conv = self._convert(values) if values else np.zeros(0, dtype=self._dtype())
        if self.form == "DENSE":
            return conv.reshape(1, -1).astype(self._dtype())
        out = np.zeros((1, self.max_map), dtype=self._dtype()) if self._dtype() != object \
            else np.full((1, self.max_map), "0.f", dtype=object)  # onnxruntime's string pad
        for k, v in zip(keys, conv.tolist()):
            if k < 0 or k >= self.max_map:
                raise InvalidArgument(f"CastMap: key {k} is outside [0, max_map={self.max_map})")
            out[0, k] = v
        return out

    def _dtype(self):
        return {"TO_FLOAT": np.float32, "TO_STRING": object, "TO_INT64": np.int64}[self.cast_to]


def _float_str(v) -> str:
    """A float as onnxruntime writes it (std::to_string: six decimals)."""
    return f"{float(np.float32(v)):f}"
