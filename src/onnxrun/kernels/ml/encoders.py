"""OneHotEncoder, LabelEncoder (ai.onnx.ml 1, 2, 4) and CategoryMapper (ai.onnx.ml 1)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import ML


def _map_strings(X: np.ndarray, table: dict, default, out_dtype) -> np.ndarray:
    """Map every string of X through ``table`` (missing: default), looking up each distinct
    value once."""
    if X.size == 0:
        return np.empty(X.shape, dtype=out_dtype)
    flat = X.ravel()
    uniq, inv = np.unique(flat.astype(str) if flat.dtype != object else flat, return_inverse=True)
    mapped = np.array([table.get(u, default) for u in uniq.tolist()], dtype=out_dtype)
    return mapped[inv.ravel()].reshape(X.shape)


def _check_strings(X: np.ndarray, op: str) -> None:
    if X.dtype != object and X.dtype.kind not in "US":
        raise InvalidArgument(f"{op}: expected a string tensor, got {X.dtype}")


@kernel("OneHotEncoder", since=1, domain=ML, fresh=True)
class OneHotEncoder(OpKernel):
    """Append a one-hot axis over the categories (strings or int64; numbers are truncated
    to int64 first). Unknown categories give all zeros when zeros=1, else an error."""

    def __init__(self, info):
        super().__init__(info)
        self.cats_s = list(info.attr("cats_strings", []) or [])
        self.cats_i = np.asarray(info.attr("cats_int64s", []) or [], dtype=np.int64)
        self.zeros = int(info.attr("zeros", 1))
        if not self.cats_s and len(self.cats_i) == 0:
            raise InvalidArgument("OneHotEncoder needs cats_strings or cats_int64s")
        if self.cats_s and len(self.cats_i):
            raise InvalidArgument("OneHotEncoder: only one of cats_strings and cats_int64s "
                                  "may be set")
        self.table_s = {}
        for i, c in enumerate(self.cats_s):
            self.table_s.setdefault(c, i)
        if len(self.cats_i):
            order = np.argsort(self.cats_i, kind="stable")
            self.sorted_i = self.cats_i[order]
            self.sorted_pos = order

    def __call__(self, X):
        X = np.asarray(X)
        if X.dtype == object or X.dtype.kind in "US":
            if not self.cats_s:
                raise InvalidArgument("OneHotEncoder: string input but no cats_strings")
            pos = _map_strings(X, self.table_s, -1, np.int64)
            n = len(self.cats_s)
        else:
            if X.dtype not in (np.int64, np.int32, np.float32, np.float64):
                raise InvalidArgument(f"OneHotEncoder: unsupported input type {X.dtype}")
            if len(self.cats_i) == 0:
                raise InvalidArgument("OneHotEncoder: numeric input but no cats_int64s")
            v = X.astype(np.int64) if X.dtype.kind == "f" else X.astype(np.int64, copy=False)
            n = len(self.cats_i)
            k = np.searchsorted(self.sorted_i, v).clip(0, n - 1)
            found = self.sorted_i[k] == v
            if X.dtype.kind == "f":
                found &= np.isfinite(X)
            pos = np.where(found, self.sorted_pos[k], -1)
        if not self.zeros and (pos < 0).any():
            raise InvalidArgument("OneHotEncoder: an input value is not among the categories "
                                  "(zeros=0 forbids unknown values)")
        out = (pos[..., None] == np.arange(n)).astype(np.float32)
        return out


_DTYPES = {"strings": object, "int64s": np.int64, "floats": np.float32}


@kernel("LabelEncoder", since=1, until=1, domain=ML, fresh=True)
class LabelEncoderV1(OpKernel):
    """Strings to their index in classes_strings, or int64 indices to those strings."""

    def __init__(self, info):
        super().__init__(info)
        self.classes = list(info.attr("classes_strings", []) or [])
        self.default_s = info.attr("default_string", "_Unused")
        self.default_i = int(info.attr("default_int64", -1))
        self.table = {}
        for i, c in enumerate(self.classes):
            self.table.setdefault(c, i)
        self.arr = np.array(self.classes + [self.default_s], dtype=object)

    def __call__(self, X):
        X = np.asarray(X)
        if X.dtype == object or X.dtype.kind in "US":
            return _map_strings(X, self.table, self.default_i, np.int64)
        if X.dtype != np.int64:
            raise InvalidArgument(f"LabelEncoder: input must be string or int64, got {X.dtype}")
        n = len(self.classes)
        idx = np.where((X >= 0) & (X < n), X, n)
        return self.arr.take(idx)


@kernel("LabelEncoder", since=2, domain=ML, fresh=True)
class LabelEncoder(OpKernel):
    """Map every element through keys -> values (keys_*/values_* or, since version 4,
    keys_tensor/values_tensor); missing keys give the default. NaN keys match NaN inputs
    (version 4)."""

    def __init__(self, info):
        super().__init__(info)
        keys = self._pick(info, "keys")
        values = self._pick(info, "values")
        if keys is None or values is None:
            raise InvalidArgument("LabelEncoder needs one keys_* and one values_* attribute")
        if len(keys) != len(values):
            raise InvalidArgument(f"LabelEncoder: {len(keys)} keys but {len(values)} values")
        self.keys, self.values = keys, values
        self.key_dtype = keys.dtype
        self.val_dtype = values.dtype
        dt = info.attr("default_tensor")
        if dt is not None:
            dt = np.asarray(dt).ravel()
            if dt.size != 1:
                raise InvalidArgument("LabelEncoder: default_tensor must hold one value")
            self.default = dt.astype(self.val_dtype)[0]
        elif self.val_dtype == object:
            self.default = info.attr("default_string", "_Unused")
        elif self.val_dtype.kind == "f":
            self.default = self.val_dtype.type(info.attr("default_float", -0.0))
        else:
            self.default = self.val_dtype.type(info.attr("default_int64", -1))
        # A repeated key: the first occurrence wins, as in onnxruntime (the version-4 text says
        # the last one does). NaN keys match NaN inputs since version 4 only (onnxruntime).
        if self.key_dtype == object:
            self.table = {}
            for k, v in zip(keys.tolist(), values.tolist()):
                self.table.setdefault(k, v)
        else:
            uk, first = np.unique(keys, return_index=True)
            self.sorted_keys = uk
            self.sorted_vals = values[first]
            self.nan_value = None
            if keys.dtype.kind == "f" and np.isnan(keys).any():
                if info.since_version >= 4:
                    self.nan_value = values[np.flatnonzero(np.isnan(keys))[0]]
                keep = ~np.isnan(uk)
                self.sorted_keys, self.sorted_vals = uk[keep], self.sorted_vals[keep]

    @staticmethod
    def _pick(info, kind):
        found = []
        for suffix, dt in _DTYPES.items():
            v = info.attr(f"{kind}_{suffix}")
            if v is not None and len(v) > 0:
                found.append(np.array(list(v), dtype=dt))
        t = info.attr(f"{kind}_tensor")
        if t is not None:
            found.append(np.asarray(t).ravel())
        if len(found) > 1:
            raise InvalidArgument(f"LabelEncoder: only one {kind}_* attribute may be set")
        return found[0] if found else None

    def __call__(self, X):
        X = np.asarray(X)
        if self.key_dtype == object:
            _check_strings(X, "LabelEncoder")
            return _map_strings(X, self.table, self.default, self.val_dtype)
        if X.dtype != self.key_dtype:
            raise InvalidArgument(f"LabelEncoder: input type {X.dtype} does not match the keys' "
                                  f"type {self.key_dtype}")
        out = np.empty(X.shape, dtype=self.val_dtype)
        out[...] = self.default
        n = len(self.sorted_keys)
        if n:
            k = np.searchsorted(self.sorted_keys, X).clip(0, n - 1)
            hit = self.sorted_keys[k] == X
            out[hit] = self.sorted_vals[k[hit]]
        if self.nan_value is not None:
            out[np.isnan(X)] = self.nan_value
        return out


@kernel("CategoryMapper", since=1, domain=ML, fresh=True)
class CategoryMapper(OpKernel):
    """Strings to int64 (cats_strings -> cats_int64s, default_int64) or int64 to strings."""

    def __init__(self, info):
        super().__init__(info)
        strs = list(info.attr("cats_strings", []) or [])
        ints = [int(i) for i in (info.attr("cats_int64s", []) or [])]
        if len(strs) != len(ints):
            raise InvalidArgument(f"CategoryMapper: {len(strs)} cats_strings but {len(ints)} "
                                  f"cats_int64s")
        self.s2i = dict(zip(strs, ints))
        self.i2s = dict(zip(ints, strs))
        self.default_i = int(info.attr("default_int64", -1))
        self.default_s = info.attr("default_string", "_Unused")
        keys = np.array(sorted(self.i2s), dtype=np.int64)
        self.int_keys = keys
        self.int_vals = np.array([self.i2s[k] for k in keys.tolist()] + [self.default_s],
                                 dtype=object)

    def __call__(self, X):
        X = np.asarray(X)
        if X.dtype == object or X.dtype.kind in "US":
            return _map_strings(X, self.s2i, self.default_i, np.int64)
        if X.dtype != np.int64:
            raise InvalidArgument(f"CategoryMapper: input must be string or int64, got {X.dtype}")
        n = len(self.int_keys)
        if n == 0:
            return self.int_vals.take(np.zeros(X.shape, dtype=np.intp))
        k = np.searchsorted(self.int_keys, X).clip(0, n - 1)
        hit = self.int_keys[k] == X
        return self.int_vals.take(np.where(hit, k, n))
