"""Helpers shared by the signal kernels: scalars, output dtypes, complex <-> [..., 2] layout."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ...ir.types import dtype_of


def scalar_int(value, what: str) -> int:
    """The single element of an integer tensor as a Python int."""
    arr = np.asarray(value)
    if arr.size != 1:
        raise InvalidArgument(f"{what} must be a scalar; got shape {list(arr.shape)}")
    return int(arr.reshape(()).item())


def scalar_float(value, what: str) -> float:
    """The single element of a tensor as a Python float."""
    arr = np.asarray(value)
    if arr.size != 1:
        raise InvalidArgument(f"{what} must be a scalar; got shape {list(arr.shape)}")
    return float(arr.reshape(()).astype(np.float64).item())


def output_dtype(elem: int) -> np.dtype:
    """NumPy dtype of the ``output_datatype`` attribute (a TensorProto element type)."""
    try:
        dt = dtype_of(int(elem))
    except ValueError:
        raise InvalidArgument(f"output_datatype {elem} is not a known ONNX element type") from None
    if dt.kind not in "fiu" and dt.kind != "V":
        raise InvalidArgument(f"output_datatype {elem} ({dt}) is not a numeric type")
    return dt


def fft_dtypes(dtype):
    """(real compute dtype, complex compute dtype) used for a tensor of ``dtype``."""
    if np.dtype(dtype) == np.float64:
        return np.dtype(np.float64), np.dtype(np.complex128)
    return np.dtype(np.float32), np.dtype(np.complex64)


def to_complex(x: np.ndarray, what: str = "input") -> np.ndarray:
    """[..., 1] (real) or [..., 2] (real, imag) -> a complex array of shape [...]."""
    if x.ndim < 1 or x.shape[-1] not in (1, 2):
        raise InvalidArgument(f"{what} must end with a dimension of size 1 (real) or 2 "
                              f"(complex); got shape {list(x.shape)}")
    _, cdt = fft_dtypes(x.dtype)
    rdt = np.float64 if cdt == np.complex128 else np.float32
    if x.shape[-1] == 1:
        return x[..., 0].astype(rdt).astype(cdt)
    out = np.empty(x.shape[:-1], cdt)
    out.real = x[..., 0].astype(rdt)
    out.imag = x[..., 1].astype(rdt)
    return out


def from_complex(z: np.ndarray, dtype) -> np.ndarray:
    """A complex array -> [..., 2] (real, imag) of ``dtype``."""
    out = np.empty(z.shape + (2,), dtype)
    out[..., 0] = z.real
    out[..., 1] = z.imag
    return out
