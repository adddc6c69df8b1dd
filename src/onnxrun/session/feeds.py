"""Feed validation and conversion, with onnxruntime's checks and messages."""

from __future__ import annotations

import warnings
from typing import Any, List, Optional

import numpy as np

from ..errors import InvalidArgument
from ..ir.types import (ELEM_TYPE_NAMES, MapType, OptionalType, SequenceType, TensorType,
                        TypeInfo, dtype_of, elem_of)
from .ortvalue import COrtValue, OrtValue, payload


class FeedSpec:
    """What one graph input accepts; checks are precomputed at initialization."""

    __slots__ = ("name", "type", "dtype", "rank", "fixed", "optional", "type_string")

    def __init__(self, name: str, type_info: Optional[TypeInfo], optional: bool = False) -> None:
        self.name = name
        self.type = type_info
        self.optional = optional or isinstance(type_info, OptionalType)
        self.type_string = type_info.type_string() if type_info is not None else ""
        inner = type_info.elem if isinstance(type_info, OptionalType) else type_info
        self.dtype = None
        self.rank = None
        self.fixed = ()
        if isinstance(inner, TensorType):
            try:
                self.dtype = dtype_of(inner.elem)
            except ValueError:
                self.dtype = None
            if inner.shape is not None:
                self.rank = len(inner.shape)
                self.fixed = tuple((i, d) for i, d in enumerate(inner.shape) if isinstance(d, int))

    def convert(self, value: Any):
        """The value as the runtime holds it, or an InvalidArgument saying what is wrong."""
        t = self.type
        if isinstance(t, OptionalType):
            if value is None:
                return None
            t = t.elem
        if isinstance(t, SequenceType):
            if not isinstance(value, (list, tuple)):
                raise InvalidArgument(f"Input '{self.name}' expects a sequence "
                                      f"({self.type_string}), got {type(value).__name__}")
            element = FeedSpec(f"{self.name}[]", t.elem)
            out = []
            for v in value:
                if not isinstance(v, np.ndarray):
                    raise InvalidArgument(f"Input '{self.name}': sequence elements must be "
                                          f"numpy arrays ({self.type_string}), got "
                                          f"{type(v).__name__}")
                out.append(element.convert(v) if t.elem is not None else v)
            return out
        if isinstance(t, MapType):
            if not isinstance(value, dict):
                raise InvalidArgument(f"Input '{self.name}' expects a map ({self.type_string}), "
                                      f"got {type(value).__name__}")
            _check_map_keys(self.name, t, value)
            return value
        return self._tensor(value)

    def _tensor(self, value):
        if not isinstance(value, np.ndarray):
            if isinstance(value, (OrtValue, COrtValue)):
                value = payload(value)
                if not isinstance(value, np.ndarray):
                    raise InvalidArgument(f"Input '{self.name}' expects a tensor "
                                          f"({self.type_string}), the OrtValue holds "
                                          f"{type(value).__name__}")
                return self._tensor(value)
            natural = np.asarray(value) if not isinstance(value, (list, tuple)) else None
            if natural is not None and natural.dtype.kind in "cfiub" and self.dtype is not None \
                    and self.dtype.kind in "fiub" and _kind_narrows(natural.dtype, self.dtype):
                raise InvalidArgument(
                    f"Unexpected input data type. Actual: ({_tensor_type_string(natural)}) , "
                    f"expected: ({self.type_string})")
            if self.dtype is not None:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("error")  # lossy conversions are refused
                        value = np.asarray(value, dtype=self.dtype)
                except (TypeError, ValueError, OverflowError, Warning) as exc:
                    raise InvalidArgument(f"Input '{self.name}': cannot convert "
                                          f"{type(value).__name__} to {self.type_string}: "
                                          f"{exc}") from None
            else:
                value = np.asarray(value)
        if self.dtype is not None and value.dtype != self.dtype:
            if self.dtype == object and value.dtype.kind in "US":
                value = value.astype(object)
            elif self.dtype == object and value.dtype.kind == "V":  # bytes given as np.void
                value = np.array([bytes(v).decode("utf-8", errors="surrogateescape")
                                  for v in value.reshape(-1)], dtype=object).reshape(value.shape)
            else:
                raise InvalidArgument(
                    f"Unexpected input data type. Actual: ({_tensor_type_string(value)}) , "
                    f"expected: ({self.type_string})")
        if self.rank is not None:
            if value.ndim != self.rank:
                raise InvalidArgument(
                    f"Invalid rank for input: {self.name} Got: {value.ndim} Expected: "
                    f"{self.rank} Please fix either the inputs/outputs or the model.")
            bad = [(i, value.shape[i], d) for i, d in self.fixed if value.shape[i] != d]
            if bad:
                lines = "".join(f" index: {i} Got: {g} Expected: {e}\n" for i, g, e in bad)
                raise InvalidArgument(f"Got invalid dimensions for input: {self.name} for the "
                                      f"following indices\n{lines} Please fix either the "
                                      "inputs/outputs or the model.")
        return value


def _check_map_keys(name: str, t: MapType, value: dict) -> None:
    """A map feed's keys and values have the map's types. As onnxruntime: the first key
    decides the map's type (a mismatch is an InvalidArgument naming both types); a later key
    or a value that does not fit is a plain RuntimeError."""
    is_str = ELEM_TYPE_NAMES.get(t.key) == "string"
    c_type = "std::string" if is_str else f"{ELEM_TYPE_NAMES.get(t.key)}_t"
    str_values = ELEM_TYPE_NAMES.get(getattr(t.value, "elem", None)) == "string"
    for pos, (k, v) in enumerate(value.items()):
        ok = isinstance(k, str) if is_str else \
            isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))
        if not ok:
            if pos == 0:
                actual = "string" if isinstance(k, str) else "int64" if isinstance(
                    k, (int, np.integer)) else type(k).__name__
                inner = t.value.type_string() if t.value else "undefined"
                raise InvalidArgument(f"Unexpected input data type. Actual: ((map({actual},"
                                      f"{inner}))) , expected: (({t.type_string()}))")
            raise RuntimeError(f"Unexpected key type  {type(k)}, it cannot be linked to C type "
                               f"{c_type} for input '{name}'.")
        if (not isinstance(v, str)) if str_values else \
                (not isinstance(v, (int, float, np.number)) or isinstance(v, (bool, np.bool_))):
            raise RuntimeError(f"Unexpected value type  {type(v)}, it cannot be linked to C type "
                               f"{c_type} for input '{name}'.")


def _kind_narrows(src: np.dtype, dst: np.dtype) -> bool:
    """A scalar of ``src`` would lose its kind in ``dst`` (complex -> real, float -> int)."""
    order = "biufc"
    return order.index(src.kind) > order.index(dst.kind) and not (src.kind == "u" and
                                                                  dst.kind == "i")


def _tensor_type_string(arr: np.ndarray) -> str:
    try:
        return f"tensor({ELEM_TYPE_NAMES[elem_of(arr.dtype)]})"
    except (ValueError, KeyError):
        return f"tensor({arr.dtype})"


def check_names(feed_names: List[str], known: dict, required: List[str]) -> None:
    missing = [n for n in required if n not in feed_names]
    if missing:
        raise ValueError(f"Required inputs ({missing}) are missing from input feed "
                         f"({list(feed_names)}).")
    for n in feed_names:
        if n not in known:
            raise InvalidArgument(f"Invalid input name: {n}")
