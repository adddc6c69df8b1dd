"""OrtValue: a value the runtime holds (tensor, sparse tensor or sequence), as onnxruntime's
Python API shows it.

Two layers, as in onnxruntime: :class:`COrtValue` is the object of the native module
(``onnxrun.capi._pybind_state.OrtValue``) and :class:`OrtValue` the public wrapper
(``onnxrun.OrtValue``, holding the native object as ``_ortvalue``). A tensor's data is a
C-contiguous NumPy array in host memory; ``numpy()`` returns a view of it, not a copy.
"""

from __future__ import annotations

import ctypes
import math
from typing import Any, List, Optional, Sequence

import numpy as np

from ..errors import Fail, InvalidArgument
from ..ir.types import ELEM_TYPE_NAMES, dtype_of, elem_of
from . import dlpack
from .devices import CPU_DEVICE, CDevice, device_from_name, device_name, require_cpu

_STRING = 8


def _elem_of_array(arr: np.ndarray) -> int:
    if arr.dtype.kind in "OUS":
        return _STRING
    try:
        return elem_of(arr.dtype)
    except (ValueError, KeyError):
        raise InvalidArgument(f"Unsupported numpy dtype for an OrtValue: {arr.dtype}") from None


def _host_array(arr, what: str) -> np.ndarray:
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{what} expects a numpy array, got {type(arr).__name__}")
    if arr.dtype.kind in "US":
        return arr.astype(object)
    _elem_of_array(arr)
    return np.ascontiguousarray(arr)


def _dtype_for(element_type) -> np.dtype:
    """A NumPy dtype from a NumPy type or an ONNX TensorProto element type number."""
    if isinstance(element_type, (int, np.integer)) and not isinstance(element_type, bool):
        try:
            return np.dtype(dtype_of(int(element_type)))
        except (ValueError, KeyError):
            raise InvalidArgument(f"Unsupported ONNX element type {element_type}") from None
    dt = np.dtype(element_type)
    _elem_of_array(np.empty(0, dt))
    return dt


def _checked_shape(shape) -> tuple:
    dims = tuple(int(d) for d in shape)
    if any(d < 0 for d in dims):
        raise InvalidArgument(f"shape {list(dims)} has a negative dimension")
    return dims


class COrtValue:
    """The native-module OrtValue (``onnxrun.capi._pybind_state.OrtValue``)."""

    __slots__ = ("_value", "_device", "__weakref__")

    def __init__(self, value: Any = None, device: CDevice = CPU_DEVICE) -> None:
        self._value = value
        self._device = device

    # ---- construction ---------------------------------------------------------------------
    @staticmethod
    def ortvalue_from_numpy(arr: np.ndarray, device: CDevice = CPU_DEVICE) -> "COrtValue":
        require_cpu(device, "ortvalue_from_numpy")
        return COrtValue(_host_array(arr, "ortvalue_from_numpy"), device)

    @staticmethod
    def ortvalue_from_numpy_with_onnx_type(arr: np.ndarray, onnx_element_type: int) -> "COrtValue":
        arr = _host_array(arr, "ortvalue_from_numpy_with_onnx_type")
        want = _dtype_for(int(onnx_element_type))
        if arr.dtype != want:
            if arr.dtype.itemsize != want.itemsize:
                raise InvalidArgument(f"numpy array of {arr.dtype} cannot hold ONNX element type "
                                      f"{onnx_element_type} ({want}): item sizes differ")
            arr = arr.view(want)  # same bytes, read as the ONNX type (e.g. uint16 -> bfloat16)
        return COrtValue(arr)

    @staticmethod
    def ortvalue_from_shape_and_type(shape: Sequence[int], element_type,
                                     device: CDevice = CPU_DEVICE) -> "COrtValue":
        require_cpu(device, "ortvalue_from_shape_and_type")
        dt = _dtype_for(element_type)
        dims = _checked_shape(shape)
        _check_alloc(dims, dt)
        return COrtValue(np.empty(dims, dt) if dt != object else np.full(dims, "", object), device)

    ortvalue_from_shape_and_onnx_type = ortvalue_from_shape_and_type

    @staticmethod
    def ort_value_from_sparse_tensor(sparse_tensor) -> "COrtValue":
        from .sparse import CSparseTensor
        st = getattr(sparse_tensor, "_tensor", sparse_tensor)
        if not isinstance(st, CSparseTensor):
            raise TypeError("ort_value_from_sparse_tensor expects a SparseTensor")
        return COrtValue(st)

    @staticmethod
    def from_dlpack(data, is_bool_tensor: bool = False) -> "COrtValue":
        arr = dlpack.array_from_dlpack(data)
        if is_bool_tensor and arr.dtype == np.uint8:
            arr = arr.view(np.bool_)
        return COrtValue(arr)

    # ---- introspection --------------------------------------------------------------------
    def _tensor(self, what: str) -> np.ndarray:
        if not isinstance(self._value, np.ndarray):
            raise Fail(f"{what}: the OrtValue is not a tensor ({self._kind()})")
        return self._value

    def _kind(self) -> str:
        v = self._value
        if v is None:
            return "no value"
        if isinstance(v, np.ndarray):
            return "tensor"
        if isinstance(v, list):
            return "sequence"
        if isinstance(v, dict):
            return "map"
        return "sparse tensor"

    def has_value(self) -> bool:
        return self._value is not None

    def is_tensor(self) -> bool:
        return isinstance(self._value, np.ndarray)

    def is_sparse_tensor(self) -> bool:
        return self._kind() == "sparse tensor"

    def is_tensor_sequence(self) -> bool:
        return isinstance(self._value, list)

    def device_name(self) -> str:
        return device_name(self._device)

    def shape(self) -> List[int]:
        v = self._value
        if self.is_sparse_tensor():
            return list(v.dense_shape())
        return list(self._tensor("shape").shape)

    def element_type(self) -> int:
        v = self._value
        if isinstance(v, list):
            if not v:
                raise Fail("element_type: empty sequence")
            v = v[0]
        if isinstance(v, np.ndarray):
            return _elem_of_array(v)
        if self.is_sparse_tensor():
            return _elem_of_array(v.values())
        raise Fail(f"element_type: the OrtValue is not a tensor or sequence ({self._kind()})")

    def data_type(self) -> str:
        v = self._value
        if isinstance(v, np.ndarray):
            return f"tensor({ELEM_TYPE_NAMES[_elem_of_array(v)]})"
        if isinstance(v, list):
            inner = f"tensor({ELEM_TYPE_NAMES[_elem_of_array(v[0])]})" if v else "tensor(undefined)"
            return f"seq({inner})"
        if self.is_sparse_tensor():
            return v.data_type()
        return "undefined"

    def tensor_size_in_bytes(self) -> int:
        arr = self._tensor("tensor_size_in_bytes")
        if arr.dtype == object:
            return int(arr.size) * 32  # onnxruntime counts std::string objects
        return int(arr.nbytes)

    def data_ptr(self) -> int:
        arr = self._tensor("data_ptr")
        return int(arr.ctypes.data) if arr.dtype != object else id(arr)

    # ---- data -------------------------------------------------------------------------------
    def numpy(self) -> Any:
        """The tensor as a NumPy array sharing the value's memory (strings: a copy); a
        sequence as a list of arrays; a sparse tensor raises, as in onnxruntime."""
        v = self._value
        if isinstance(v, np.ndarray):
            return v.copy() if v.dtype == object else v.view()
        if isinstance(v, list):
            return [x.view() for x in v]
        if v is None:
            return None
        raise Fail(f"numpy(): the OrtValue holds a {self._kind()}; use as_sparse_tensor()")

    def update_inplace(self, arr: np.ndarray) -> None:
        """Copy ``arr`` into the value's memory (same number of elements)."""
        dst = self._tensor("update_inplace")
        src = np.asarray(arr)
        if src.size != dst.size:
            raise InvalidArgument(f"update_inplace: got {src.size} elements, the OrtValue has "
                                  f"{dst.size}")
        dst.reshape(-1)[...] = src.reshape(-1).astype(dst.dtype, copy=False)

    def as_sparse_tensor(self):
        from .sparse import SparseTensor
        if not self.is_sparse_tensor():
            raise Fail(f"as_sparse_tensor: the OrtValue holds a {self._kind()}, not a sparse "
                       "tensor")
        return SparseTensor(self._value)

    def to_dlpack(self):
        return dlpack.to_capsule(self._tensor("to_dlpack"))

    def __dlpack__(self, stream=None, **kwargs):
        return self._tensor("__dlpack__").__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return (dlpack.KDL_CPU, self._device.device_id())

    def __array__(self, dtype=None, copy=None):
        arr = self._tensor("__array__")
        if dtype is not None and np.dtype(dtype) != arr.dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __repr__(self) -> str:
        return f"OrtValue({self._kind()}, {self.data_type()})"


def _check_alloc(dims: tuple, dt: np.dtype, limit: int = 1 << 34) -> None:
    nbytes = math.prod(dims) * max(dt.itemsize, 1)
    if nbytes > limit:
        raise InvalidArgument(f"refusing to allocate {nbytes} bytes for shape {list(dims)}")


def c_value(value) -> COrtValue:
    """The native OrtValue behind an OrtValue (or the value itself)."""
    if isinstance(value, OrtValue):
        return value._ortvalue
    if isinstance(value, COrtValue):
        return value
    raise TypeError(f"expected an OrtValue, got {type(value).__name__}")


def payload(value) -> Any:
    """What the runtime holds for an OrtValue given as a feed: an array (sparse tensors
    densified), a list for a sequence."""
    v = c_value(value)._value
    if v is None or isinstance(v, (np.ndarray, list)):
        return v
    return v.to_dense()


def from_host_pointer(ptr: int, element_type, shape: Sequence[int]) -> np.ndarray:
    """An array over caller-owned host memory at ``ptr`` (the raw-pointer binding form; the
    memory must stay valid and hold the whole tensor, as with onnxruntime)."""
    dt = _dtype_for(element_type)
    if dt == object:
        raise InvalidArgument("string tensors cannot be bound by pointer")
    dims = _checked_shape(shape)
    if not ptr:
        raise InvalidArgument("buffer pointer is null")
    nbytes = math.prod(dims) * dt.itemsize
    if nbytes == 0:
        return np.empty(dims, dt)
    buf = (ctypes.c_char * nbytes).from_address(int(ptr))
    return np.frombuffer(buf, dtype=dt).reshape(dims)


class OrtValue:
    """A value the runtime holds. Build one with ``OrtValue.ortvalue_from_numpy(arr)``."""

    def __init__(self, ortvalue: COrtValue, numpy_obj: Optional[np.ndarray] = None) -> None:
        if not isinstance(ortvalue, COrtValue):
            raise ValueError("`Provided ortvalue` needs to be of type "
                             "`onnxruntime.capi._pybind_state.OrtValue`")
        self._ortvalue = ortvalue
        self._numpy_obj = numpy_obj  # keeps caller memory alive, as onnxruntime does

    def _get_c_value(self) -> COrtValue:
        return self._ortvalue

    @staticmethod
    def ortvalue_from_numpy(numpy_obj: np.ndarray, /, device_type: str = "cpu",
                            device_id: int = 0, vendor_id: int = -1) -> "OrtValue":
        device = device_from_name(device_type, device_id, vendor_id)
        c = COrtValue.ortvalue_from_numpy(numpy_obj, device)
        return OrtValue(c, numpy_obj if c._value is numpy_obj else None)

    @staticmethod
    def ortvalue_from_numpy_with_onnx_type(data: np.ndarray, /, onnx_element_type: int) -> "OrtValue":
        return OrtValue(COrtValue.ortvalue_from_numpy_with_onnx_type(data, onnx_element_type), data)

    @staticmethod
    def ortvalue_from_shape_and_type(shape: Sequence[int], element_type, device_type: str = "cpu",
                                     device_id: int = 0, vendor_id: int = -1) -> "OrtValue":
        device = device_from_name(device_type, device_id, vendor_id)
        return OrtValue(COrtValue.ortvalue_from_shape_and_type(shape, element_type, device))

    @staticmethod
    def ort_value_from_sparse_tensor(sparse_tensor) -> "OrtValue":
        return OrtValue(COrtValue.ort_value_from_sparse_tensor(sparse_tensor))

    @staticmethod
    def from_dlpack(data, /) -> "OrtValue":
        """Wrap a DLPack capsule or an object with ``__dlpack__`` without copying (bool kept)."""
        if isinstance(data, OrtValue):
            data = data._ortvalue
        return OrtValue(COrtValue.from_dlpack(data))

    def as_sparse_tensor(self):
        return self._ortvalue.as_sparse_tensor()

    def data_ptr(self) -> int:
        return self._ortvalue.data_ptr()

    def device_name(self) -> str:
        return self._ortvalue.device_name()

    def shape(self) -> List[int]:
        return self._ortvalue.shape()

    def data_type(self) -> str:
        return self._ortvalue.data_type()

    def element_type(self) -> int:
        return self._ortvalue.element_type()

    def has_value(self) -> bool:
        return self._ortvalue.has_value()

    def is_tensor(self) -> bool:
        return self._ortvalue.is_tensor()

    def is_sparse_tensor(self) -> bool:
        return self._ortvalue.is_sparse_tensor()

    def is_tensor_sequence(self) -> bool:
        return self._ortvalue.is_tensor_sequence()

    def tensor_size_in_bytes(self) -> int:
        return self._ortvalue.tensor_size_in_bytes()

    def numpy(self):
        return self._ortvalue.numpy()

    def update_inplace(self, np_arr: np.ndarray) -> None:
        self._ortvalue.update_inplace(np_arr)

    def to_dlpack(self):
        return self._ortvalue.to_dlpack()

    def __dlpack__(self, *, stream=None, **kwargs):
        return self._ortvalue.__dlpack__(stream, **kwargs)

    def __dlpack_device__(self):
        return self._ortvalue.__dlpack_device__()

    def __array__(self, dtype=None, copy=None):
        return self._ortvalue.__array__(dtype, copy)

    def __repr__(self) -> str:
        return repr(self._ortvalue)


class OrtValueVector(list):
    """A list of native OrtValues (``run_with_ort_values`` and ``get_outputs`` return one)."""

    def push_back(self, value) -> None:
        self.append(c_value(value))

    def reserve(self, n: int) -> None:
        """Accepted for compatibility (a Python list grows as needed)."""

    def shrink_to_fit(self) -> None:
        """Accepted for compatibility."""

    def element_type_at(self, idx: int) -> int:
        return self[idx].element_type()

    def dlpack_at(self, idx: int):
        return self[idx].to_dlpack()

    def to_dlpacks(self, to_tensor) -> list:
        return [to_tensor(v.to_dlpack()) for v in self]
