"""DLPack interchange through NumPy, and a look inside DLPack capsules (``ctypes``).

NumPy produces and consumes DLPack tensors (zero copy, ``bool`` included); this module adds
what onnxruntime's API has beyond that: accepting a bare capsule, and telling a capsule's
element type without consuming it.
"""

from __future__ import annotations

import ctypes
from typing import Tuple

import numpy as np

KDL_CPU = 1
_KDL_UINT = 1

_get_name = ctypes.pythonapi.PyCapsule_GetName
_get_name.restype = ctypes.c_char_p
_get_name.argtypes = [ctypes.py_object]
_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_get_pointer.restype = ctypes.c_void_p
_get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


class _DLTensorHead(ctypes.Structure):
    """The leading fields of DLPack's DLTensor (data, device, ndim, dtype)."""

    _fields_ = [("data", ctypes.c_void_p), ("device_type", ctypes.c_int32),
                ("device_id", ctypes.c_int32), ("ndim", ctypes.c_int32),
                ("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


#: DLManagedTensorVersioned puts version (2 x uint32), manager_ctx, deleter and flags (uint64)
#: before its DLTensor; DLManagedTensor starts with it.
_VERSIONED_OFFSET = 8 + 2 * ctypes.sizeof(ctypes.c_void_p) + 8


def is_capsule(obj) -> bool:
    return type(obj).__name__ == "PyCapsule"


def capsule_head(capsule) -> _DLTensorHead:
    """The DLTensor header of an unconsumed DLPack capsule."""
    name = _get_name(capsule)
    if name not in (b"dltensor", b"dltensor_versioned"):
        raise ValueError(f"expected an unconsumed DLPack capsule ('dltensor'), got "
                         f"{name.decode() if name else 'a used or unnamed capsule'}")
    address = _get_pointer(capsule, name)
    if name == b"dltensor_versioned":
        address += _VERSIONED_OFFSET
    return _DLTensorHead.from_address(address)


def is_uint8_capsule(capsule) -> bool:
    """onnxruntime's ``is_dlpack_uint8_tensor``: the capsule holds 8-bit unsigned integers."""
    head = capsule_head(capsule)
    return head.code == _KDL_UINT and head.bits == 8 and head.lanes == 1


class _CapsuleHolder:
    """Presents a bare capsule through the ``__dlpack__`` protocol NumPy consumes."""

    def __init__(self, capsule) -> None:
        self._capsule = capsule

    def __dlpack__(self, stream=None, **kwargs):
        if kwargs.get("max_version") is None and _get_name(self._capsule) == \
                b"dltensor_versioned":
            raise BufferError("versioned DLPack capsule offered to an old consumer")
        return self._capsule

    def __dlpack_device__(self) -> Tuple[int, int]:
        head = capsule_head(self._capsule)
        return head.device_type, head.device_id


def array_from_dlpack(obj) -> np.ndarray:
    """A NumPy array sharing memory with ``obj`` (an object with ``__dlpack__``, or a capsule)."""
    if is_capsule(obj):
        obj = _CapsuleHolder(obj)
    elif not hasattr(obj, "__dlpack__"):
        raise TypeError(f"from_dlpack expects a DLPack capsule or an object with __dlpack__, "
                        f"got {type(obj).__name__}")
    return np.from_dlpack(obj)


def to_capsule(arr: np.ndarray):
    """A DLPack capsule for a host array (NumPy's exporter)."""
    return arr.__dlpack__()
