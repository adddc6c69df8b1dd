"""``onnxruntime.transformers.io_binding_helper.TypeHelper``: the type maps optimum uses to
bind inputs and outputs. torch is imported only by the torch-type helpers (onnxrun does not
depend on it)."""

from __future__ import annotations

from typing import Dict

import numpy as np
from onnx import TensorProto

_NUMPY = {
    "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(float)": np.float32,
    "tensor(float16)": np.float16, "tensor(bool)": bool, "tensor(uint8)": np.uint8,
    "tensor(int8)": np.int8, "tensor(double)": np.float64, "tensor(int16)": np.int16,
    "tensor(uint16)": np.uint16, "tensor(uint32)": np.uint32, "tensor(uint64)": np.uint64,
    "tensor(complex64)": np.complex64, "tensor(complex128)": np.complex128,
}

_ONNX = {
    "tensor(int64)": TensorProto.INT64, "tensor(int32)": TensorProto.INT32,
    "tensor(float)": TensorProto.FLOAT, "tensor(float16)": TensorProto.FLOAT16,
    "tensor(bfloat16)": TensorProto.BFLOAT16, "tensor(bool)": TensorProto.BOOL,
    "tensor(uint8)": TensorProto.UINT8, "tensor(int8)": TensorProto.INT8,
    "tensor(double)": TensorProto.DOUBLE, "tensor(int16)": TensorProto.INT16,
    "tensor(uint16)": TensorProto.UINT16, "tensor(uint32)": TensorProto.UINT32,
    "tensor(uint64)": TensorProto.UINT64, "tensor(complex64)": TensorProto.COMPLEX64,
    "tensor(complex128)": TensorProto.COMPLEX128,
}

#: ONNX type string -> name of the torch dtype attribute
_TORCH = {
    "tensor(int64)": "int64", "tensor(int32)": "int32", "tensor(float)": "float32",
    "tensor(float16)": "float16", "tensor(bfloat16)": "bfloat16", "tensor(bool)": "bool",
    "tensor(uint8)": "uint8", "tensor(int8)": "int8", "tensor(double)": "float64",
    "tensor(int16)": "int16", "tensor(uint16)": "uint16", "tensor(uint32)": "uint32",
    "tensor(uint64)": "uint64", "tensor(complex64)": "complex64",
    "tensor(complex128)": "complex128",
}


def _lookup(table: dict, key, what: str):
    if key not in table:
        raise ValueError(f"{key} not found in map")
    return table[key]


class TypeHelper:
    """Conversions between ONNX type strings, ONNX element types, NumPy and torch dtypes."""

    @staticmethod
    def get_input_type(ort_session, name: str) -> str:
        for i in ort_session.get_inputs():
            if i.name == name:
                return i.type
        raise ValueError(f"input name {name} not found")

    @staticmethod
    def get_output_type(ort_session, name: str) -> str:
        for o in ort_session.get_outputs():
            if o.name == name:
                return o.type
        raise ValueError(f"output name {name} not found")

    @staticmethod
    def ort_type_to_numpy_type(ort_type: str):
        return _lookup(_NUMPY, ort_type, "numpy")

    @staticmethod
    def ort_type_to_onnx_type(ort_type: str) -> int:
        return _lookup(_ONNX, ort_type, "onnx")

    @staticmethod
    def ort_type_to_torch_type(ort_type: str):
        import torch
        return getattr(torch, _lookup(_TORCH, ort_type, "torch"))

    @staticmethod
    def numpy_type_to_torch_type(numpy_type):
        import torch
        name = np.dtype(numpy_type).name
        if name == "bool":
            return torch.bool
        if not hasattr(torch, name):
            raise ValueError(f"{numpy_type} not found in map")
        return getattr(torch, name)

    @staticmethod
    def torch_type_to_numpy_type(torch_type):
        name = str(torch_type).replace("torch.", "")
        try:
            return np.dtype(name).type if name != "bool" else bool
        except TypeError:
            raise ValueError(f"{torch_type} not found in map") from None

    @staticmethod
    def get_io_numpy_type_map(ort_session) -> Dict[str, type]:
        """Input and output name -> NumPy type."""
        out = {}
        for arg in list(ort_session.get_inputs()) + list(ort_session.get_outputs()):
            out[arg.name] = TypeHelper.ort_type_to_numpy_type(arg.type)
        return out

    @staticmethod
    def get_io_onnx_type_map(ort_session) -> Dict[str, int]:
        """Input and output name -> ONNX element type."""
        out = {}
        for arg in list(ort_session.get_inputs()) + list(ort_session.get_outputs()):
            out[arg.name] = TypeHelper.ort_type_to_onnx_type(arg.type)
        return out
