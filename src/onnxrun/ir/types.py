"""Value types (tensor, sequence, map, optional) and the ONNX <-> NumPy element type tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple, Union

import ml_dtypes
import numpy as np
from onnx import TensorProto, helper

Dim = Union[int, str, None]

# ONNX element type -> the name onnxruntime prints in type strings ('tensor(float)').
ELEM_TYPE_NAMES = {
    TensorProto.FLOAT: "float", TensorProto.UINT8: "uint8", TensorProto.INT8: "int8",
    TensorProto.UINT16: "uint16", TensorProto.INT16: "int16", TensorProto.INT32: "int32",
    TensorProto.INT64: "int64", TensorProto.STRING: "string", TensorProto.BOOL: "bool",
    TensorProto.FLOAT16: "float16", TensorProto.DOUBLE: "double", TensorProto.UINT32: "uint32",
    TensorProto.UINT64: "uint64", TensorProto.COMPLEX64: "complex64",
    TensorProto.COMPLEX128: "complex128", TensorProto.BFLOAT16: "bfloat16",
    TensorProto.FLOAT8E4M3FN: "float8e4m3fn", TensorProto.FLOAT8E4M3FNUZ: "float8e4m3fnuz",
    TensorProto.FLOAT8E5M2: "float8e5m2", TensorProto.FLOAT8E5M2FNUZ: "float8e5m2fnuz",
    TensorProto.UINT4: "uint4", TensorProto.INT4: "int4", TensorProto.FLOAT4E2M1: "float4e2m1",
}
for _name, _attr in (("float8e8m0", "FLOAT8E8M0"), ("uint2", "UINT2"), ("int2", "INT2"),
                     ("float6e2m3", "FLOAT6E2M3"), ("float6e3m2", "FLOAT6E3M2")):
    if hasattr(TensorProto, _attr):
        ELEM_TYPE_NAMES[getattr(TensorProto, _attr)] = _name


def _np_dtype(elem: int) -> np.dtype:
    if elem == TensorProto.STRING:
        return np.dtype(object)
    return np.dtype(helper.tensor_dtype_to_np_dtype(elem))


ELEM_TO_DTYPE = {}
for _elem in ELEM_TYPE_NAMES:
    try:
        ELEM_TO_DTYPE[_elem] = _np_dtype(_elem)
    except Exception:  # an element type this onnx/ml_dtypes pair cannot express
        pass
DTYPE_TO_ELEM = {dt: elem for elem, dt in ELEM_TO_DTYPE.items()}

#: The narrow float and int types NumPy lacks, provided by ml_dtypes.
NARROW_DTYPES = frozenset(dt for dt in DTYPE_TO_ELEM if dt.type.__module__.startswith("ml_dtypes"))
BFLOAT16 = np.dtype(ml_dtypes.bfloat16)


def dtype_of(elem: int) -> np.dtype:
    """NumPy dtype of an ONNX element type (strings are ``object``)."""
    try:
        return ELEM_TO_DTYPE[elem]
    except KeyError:
        raise ValueError(f"unsupported ONNX element type {elem}") from None


def elem_of(dtype) -> int:
    """ONNX element type of a NumPy dtype (``object`` and unicode mean string)."""
    dt = np.dtype(dtype)
    if dt.kind in "OUS":
        return TensorProto.STRING
    try:
        return DTYPE_TO_ELEM[dt]
    except KeyError:
        raise ValueError(f"NumPy dtype {dt} has no ONNX element type") from None


class TypeInfo:
    """Base of the value types; ``str(t)`` is onnxruntime's type string."""

    def type_string(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.type_string()


@dataclass(frozen=True)
class TensorType(TypeInfo):
    elem: int
    shape: Optional[Tuple[Dim, ...]] = None  # None: rank unknown

    def type_string(self) -> str:
        return f"tensor({ELEM_TYPE_NAMES.get(self.elem, 'undefined')})"

    @property
    def dtype(self) -> np.dtype:
        return dtype_of(self.elem)


@dataclass(frozen=True)
class SparseTensorType(TypeInfo):
    elem: int
    shape: Optional[Tuple[Dim, ...]] = None

    def type_string(self) -> str:
        return f"sparse_tensor({ELEM_TYPE_NAMES.get(self.elem, 'undefined')})"


@dataclass(frozen=True)
class SequenceType(TypeInfo):
    elem: Optional[TypeInfo]

    def type_string(self) -> str:
        return f"seq({self.elem.type_string() if self.elem else 'undefined'})"


@dataclass(frozen=True)
class MapType(TypeInfo):
    key: int
    value: Optional[TypeInfo]

    def type_string(self) -> str:
        inner = self.value.type_string() if self.value else "undefined"
        return f"map({ELEM_TYPE_NAMES.get(self.key, 'undefined')},{inner})"


@dataclass(frozen=True)
class OptionalType(TypeInfo):
    elem: Optional[TypeInfo]

    def type_string(self) -> str:
        return f"optional({self.elem.type_string() if self.elem else 'undefined'})"


def type_from_proto(tp) -> Optional[TypeInfo]:
    """Convert an ``onnx.TypeProto`` (``None`` when it carries no type)."""
    if tp is None:
        return None
    kind = tp.WhichOneof("value")
    if kind == "tensor_type":
        t = tp.tensor_type
        shape = _shape_from_proto(t) if t.HasField("shape") else None
        return TensorType(t.elem_type, shape)
    if kind == "sparse_tensor_type":
        t = tp.sparse_tensor_type
        shape = _shape_from_proto(t) if t.HasField("shape") else None
        return SparseTensorType(t.elem_type, shape)
    if kind == "sequence_type":
        return SequenceType(type_from_proto(tp.sequence_type.elem_type)
                            if tp.sequence_type.HasField("elem_type") else None)
    if kind == "map_type":
        return MapType(tp.map_type.key_type, type_from_proto(tp.map_type.value_type))
    if kind == "optional_type":
        return OptionalType(type_from_proto(tp.optional_type.elem_type)
                            if tp.optional_type.HasField("elem_type") else None)
    return None


def _shape_from_proto(t) -> Tuple[Dim, ...]:
    """Dims: ints, symbolic names, or None for unknown. A negative ``dim_value`` (PaddlePaddle
    and some other exporters write -1 for a dynamic size) is unknown, as in onnxruntime."""
    dims = []
    for d in t.shape.dim:
        which = d.WhichOneof("value")
        if which == "dim_value" and d.dim_value >= 0:
            dims.append(int(d.dim_value))
        elif which == "dim_param":
            dims.append(d.dim_param)
        else:
            dims.append(None)
    return tuple(dims)


def type_of_value(v) -> str:
    """onnxruntime's type string for a runtime value (array, list, dict, None)."""
    if v is None:
        return "optional"
    if isinstance(v, list):
        return f"seq({type_of_value(v[0]) if v else 'tensor(float)'})"
    if isinstance(v, dict):
        key = next(iter(v), "")
        kt = "string" if isinstance(key, str) else "int64"
        return f"map({kt},tensor(float))"
    arr = np.asarray(v)
    try:
        return f"tensor({ELEM_TYPE_NAMES[elem_of(arr.dtype)]})"
    except ValueError:
        return f"tensor({arr.dtype})"
