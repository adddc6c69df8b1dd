"""SparseTensor (COO and CSR(C) formats) with onnxruntime's Python API.

Values and indices are kept as given (read-only views are handed out). Kernels see a sparse
tensor densified (``to_dense``), with the dense size checked before anything is allocated.
"""

from __future__ import annotations

import enum
import math
from typing import List, Sequence

import numpy as np

from ..errors import InvalidArgument
from ..ir.types import ELEM_TYPE_NAMES
from .devices import CPU_DEVICE, CDevice, device_name, require_cpu

#: the largest dense form a sparse feed may expand to (bytes)
MAX_DENSE_BYTES = 4 * 1024 ** 3


class OrtSparseFormat(enum.IntEnum):
    ORT_SPARSE_UNDEFINED = 0
    ORT_SPARSE_COO = 1
    ORT_SPARSE_CSRC = 2
    ORT_SPARSE_BLOCK_SPARSE = 4


def _readonly(arr: np.ndarray) -> np.ndarray:
    view = arr.view()
    view.flags.writeable = False
    return view


def _index_array(arr, what: str) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype != np.int64:
        raise InvalidArgument(f"{what} must be an int64 numpy array, got {arr.dtype}")
    return np.ascontiguousarray(arr)


class SparseCooView:
    """COO indices: linear (nnz,) or coordinates (nnz, rank)."""

    def __init__(self, indices: np.ndarray) -> None:
        self._indices = indices

    def indices(self) -> np.ndarray:
        return _readonly(self._indices)


class SparseCsrView:
    """CSR(C) indices: inner (column of each value) and outer (row starts, rows + 1)."""

    def __init__(self, inner: np.ndarray, outer: np.ndarray) -> None:
        self._inner, self._outer = inner, outer

    def inner(self) -> np.ndarray:
        return _readonly(self._inner)

    def outer(self) -> np.ndarray:
        return _readonly(self._outer)


class CSparseTensor:
    """The native-module SparseTensor (``onnxrun.capi._pybind_state.SparseTensor``)."""

    def __init__(self, fmt: OrtSparseFormat, dense_shape: Sequence[int], values: np.ndarray,
                 indices: tuple, device: CDevice = CPU_DEVICE) -> None:
        self.format = fmt
        self._shape = [int(d) for d in dense_shape]
        self._values = values
        self._indices = indices
        self._device = device

    @staticmethod
    def _values(values) -> np.ndarray:
        values = np.asarray(values)
        if values.ndim != 1:
            raise InvalidArgument(f"sparse values must be 1-D, got shape {values.shape}")
        return values.astype(object) if values.dtype.kind in "US" else np.ascontiguousarray(values)

    @staticmethod
    def sparse_coo_from_numpy(dense_shape: Sequence[int], values: np.ndarray,
                              coo_indices: np.ndarray, device: CDevice = CPU_DEVICE) -> "CSparseTensor":
        require_cpu(device, "sparse_coo_from_numpy")
        shape = _shape(dense_shape)
        values = CSparseTensor._values(values)
        idx = _index_array(coo_indices, "COO indices")
        nnz = len(values)
        if idx.shape not in ((nnz,), (nnz, len(shape))):
            raise InvalidArgument(f"COO indices of shape {list(idx.shape)} do not fit {nnz} values "
                                  f"of a {len(shape)}-D tensor: expected [{nnz}] or "
                                  f"[{nnz}, {len(shape)}]")
        if idx.ndim == 1 and nnz and (idx.min() < 0 or idx.max() >= math.prod(shape)):
            raise InvalidArgument(f"COO linear index out of range for dense shape {shape}")
        if idx.ndim == 2 and nnz and (np.any(idx < 0) or np.any(idx >= np.array(shape))):
            raise InvalidArgument(f"COO index out of range for dense shape {shape}")
        return CSparseTensor(OrtSparseFormat.ORT_SPARSE_COO, shape, values, (idx,), device)

    @staticmethod
    def sparse_csr_from_numpy(dense_shape: Sequence[int], values: np.ndarray,
                              inner_indices: np.ndarray, outer_indices: np.ndarray,
                              device: CDevice = CPU_DEVICE) -> "CSparseTensor":
        require_cpu(device, "sparse_csr_from_numpy")
        shape = _shape(dense_shape)
        if len(shape) != 2:
            raise InvalidArgument(f"CSR format needs a 2-D dense shape, got {shape}")
        values = CSparseTensor._values(values)
        inner = _index_array(inner_indices, "CSR inner indices")
        outer = _index_array(outer_indices, "CSR outer indices")
        nnz = len(values)
        if inner.shape != (nnz,) or outer.shape != (shape[0] + 1,):
            raise InvalidArgument(f"CSR indices: inner must have {nnz} entries and outer "
                                  f"{shape[0] + 1} (rows + 1); got {len(inner)} and {len(outer)}")
        if outer[0] != 0 or outer[-1] != nnz or np.any(np.diff(outer) < 0):
            raise InvalidArgument("CSR outer indices must start at 0, not decrease and end at the "
                                  "number of values")
        if nnz and (inner.min() < 0 or inner.max() >= shape[1]):
            raise InvalidArgument(f"CSR inner index out of range for {shape[1]} columns")
        return CSparseTensor(OrtSparseFormat.ORT_SPARSE_CSRC, shape, values, (inner, outer), device)

    @staticmethod
    def from_dense(dense: np.ndarray) -> "CSparseTensor":
        """COO form (linear indices) of the nonzero entries of a dense array."""
        flat = dense.reshape(-1)
        idx = np.flatnonzero(flat != (0 if flat.dtype != object else ""))
        return CSparseTensor(OrtSparseFormat.ORT_SPARSE_COO, dense.shape, flat[idx].copy(),
                             (idx.astype(np.int64),))

    def values(self) -> np.ndarray:
        return _readonly(self._values)

    def get_coo_data(self) -> SparseCooView:
        self._expect(OrtSparseFormat.ORT_SPARSE_COO)
        return SparseCooView(self._indices[0])

    def get_csrc_data(self) -> SparseCsrView:
        self._expect(OrtSparseFormat.ORT_SPARSE_CSRC)
        return SparseCsrView(*self._indices)

    def get_blocksparse_data(self):
        self._expect(OrtSparseFormat.ORT_SPARSE_BLOCK_SPARSE)

    def _expect(self, fmt: OrtSparseFormat) -> None:
        if self.format != fmt:
            raise RuntimeError(f"This sparse tensor is in {self.format.name} format, not "
                               f"{fmt.name}")

    def dense_shape(self) -> List[int]:
        return list(self._shape)

    def device_name(self) -> str:
        return device_name(self._device)

    def data_type(self) -> str:
        from .ortvalue import _elem_of_array
        return f"sparse_tensor({ELEM_TYPE_NAMES[_elem_of_array(self._values)]})"

    def to_cuda(self, device: CDevice) -> "CSparseTensor":
        raise RuntimeError("to_cuda: CUDA is not available (onnxrun runs on the CPU only)")

    def to_dense(self) -> np.ndarray:
        """The dense array (size checked against MAX_DENSE_BYTES first)."""
        itemsize = self._values.dtype.itemsize if self._values.dtype != object else 8
        nbytes = math.prod(self._shape) * itemsize
        if nbytes > MAX_DENSE_BYTES:
            raise InvalidArgument(f"sparse tensor of dense shape {self._shape} would need {nbytes}"
                                  f" bytes as a dense tensor (limit {MAX_DENSE_BYTES})")
        fill = "" if self._values.dtype == object else 0
        dense = np.full(self._shape, fill, dtype=self._values.dtype)
        if self.format == OrtSparseFormat.ORT_SPARSE_COO:
            idx = self._indices[0]
            if idx.ndim == 1:
                dense.reshape(-1)[idx] = self._values
            else:
                dense[tuple(idx.T)] = self._values
        else:
            inner, outer = self._indices
            rows = np.repeat(np.arange(self._shape[0]), np.diff(outer))
            dense[rows, inner] = self._values
        return dense


def _shape(dense_shape) -> List[int]:
    shape = [int(d) for d in dense_shape]
    if any(d < 0 for d in shape):
        raise InvalidArgument(f"dense shape {shape} has a negative dimension")
    return shape


class SparseTensor:
    """A sparse tensor: ``SparseTensor.sparse_coo_from_numpy(shape, values, indices, device)``."""

    def __init__(self, sparse_tensor: CSparseTensor) -> None:
        if not isinstance(sparse_tensor, CSparseTensor):
            raise TypeError("`Provided object` needs to be of type "
                            "`onnxruntime.capi._pybind_state.SparseTensor`")
        self._tensor = sparse_tensor

    def _get_c_tensor(self) -> CSparseTensor:
        return self._tensor

    @staticmethod
    def sparse_coo_from_numpy(dense_shape, values, coo_indices, ort_device) -> "SparseTensor":
        return SparseTensor(CSparseTensor.sparse_coo_from_numpy(
            dense_shape, values, coo_indices, ort_device._get_c_device()))

    @staticmethod
    def sparse_csr_from_numpy(dense_shape, values, inner_indices, outer_indices,
                              ort_device) -> "SparseTensor":
        return SparseTensor(CSparseTensor.sparse_csr_from_numpy(
            dense_shape, values, inner_indices, outer_indices, ort_device._get_c_device()))

    def values(self) -> np.ndarray:
        return self._tensor.values()

    def as_coo_view(self) -> SparseCooView:
        return self._tensor.get_coo_data()

    def as_csrc_view(self) -> SparseCsrView:
        return self._tensor.get_csrc_data()

    def as_blocksparse_view(self):
        return self._tensor.get_blocksparse_data()

    def to_cuda(self, ort_device) -> "SparseTensor":
        return SparseTensor(self._tensor.to_cuda(ort_device._get_c_device()))

    def format(self) -> OrtSparseFormat:
        return self._tensor.format

    def dense_shape(self) -> List[int]:
        return self._tensor.dense_shape()

    def data_type(self) -> str:
        return self._tensor.data_type()

    def device_name(self) -> str:
        return self._tensor.device_name()
