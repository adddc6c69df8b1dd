"""TensorProto -> NumPy, with sizes checked before anything is allocated."""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

from ..errors import InvalidGraph
from ..ir.types import dtype_of
from .external_data import read_external_bytes

_SUB_BYTE_BITS = {TensorProto.UINT4: 4, TensorProto.INT4: 4, TensorProto.FLOAT4E2M1: 4}
for _attr, _bits in (("UINT2", 2), ("INT2", 2)):
    if hasattr(TensorProto, _attr):
        _SUB_BYTE_BITS[getattr(TensorProto, _attr)] = _bits


def expected_nbytes(elem: int, numel: int) -> int:
    """Bytes of raw data a tensor of ``numel`` elements must have (-1: variable, strings)."""
    if elem == TensorProto.STRING:
        return -1
    bits = _SUB_BYTE_BITS.get(elem)
    if bits:
        return (numel * bits + 7) // 8
    return numel * dtype_of(elem).itemsize


class TensorDecoder:
    """Decodes tensors of one model; external data is read from ``base_dir`` only."""

    def __init__(self, base_dir: Optional[str] = None) -> None:
        self.base_dir = base_dir

    def __call__(self, tensor: TensorProto, what: str = "tensor") -> np.ndarray:
        name = tensor.name or "<unnamed>"

        def fail(why: str) -> InvalidGraph:
            return InvalidGraph(f"{what} '{name}': {why}")

        dims = list(tensor.dims)
        if any(d < 0 for d in dims):
            raise fail(f"negative dimension in dims {dims}")
        numel = math.prod(dims)  # Python ints: no silent overflow
        try:
            dtype_of(tensor.data_type)
        except ValueError:
            raise fail(f"unsupported data_type {tensor.data_type}") from None
        nbytes = expected_nbytes(tensor.data_type, numel)
        if tensor.data_location == TensorProto.EXTERNAL:
            raw = read_external_bytes(tensor, self.base_dir, nbytes)
            proto = TensorProto()
            proto.CopyFrom(tensor)
            del proto.external_data[:]
            proto.data_location = TensorProto.DEFAULT
            proto.raw_data = raw
            tensor = proto
        elif tensor.HasField("raw_data") and nbytes >= 0 and len(tensor.raw_data) != nbytes:
            raise fail(f"raw_data has {len(tensor.raw_data)} bytes but dims {dims} of type "
                       f"{onnx.helper.tensor_dtype_to_string(tensor.data_type)} need {nbytes}")
        elif not tensor.HasField("raw_data"):
            count = _typed_count(tensor)
            if count is not None and count != numel and not _complex_ok(tensor, count, numel):
                raise fail(f"holds {count} values but dims {dims} need {numel}")
        try:
            arr = numpy_helper.to_array(tensor)
        except Exception as exc:  # malformed content that passed the size checks
            raise fail(f"cannot decode: {exc}") from None
        if tensor.data_type == TensorProto.STRING:
            arr = _decode_strings(arr)
        return arr


def _typed_count(tensor: TensorProto):
    field = numpy_helper_field(tensor.data_type)
    if field is None:
        return None
    return len(getattr(tensor, field))


def _complex_ok(tensor, count, numel) -> bool:
    return tensor.data_type in (TensorProto.COMPLEX64, TensorProto.COMPLEX128) and count == 2 * numel


def numpy_helper_field(elem: int) -> Optional[str]:
    try:
        return onnx.helper.tensor_dtype_to_field(elem)
    except Exception:
        return None


def _decode_strings(arr: np.ndarray) -> np.ndarray:
    out = np.empty(arr.shape, dtype=object)
    flat_in, flat_out = arr.reshape(-1), out.reshape(-1)
    for i, s in enumerate(flat_in):
        flat_out[i] = s.decode("utf-8", errors="surrogateescape") if isinstance(s, bytes) else s
    return out


def sparse_to_dense(sparse, decode: TensorDecoder) -> np.ndarray:
    """A SparseTensorProto as a dense array, indices checked against the shape."""
    name = sparse.values.name or "<sparse>"
    dims = list(sparse.dims)
    if any(d < 0 for d in dims):
        raise InvalidGraph(f"sparse tensor '{name}': negative dimension in {dims}")
    values = decode(sparse.values, "sparse tensor values").reshape(-1)
    indices = decode(sparse.indices, "sparse tensor indices").astype(np.int64)
    numel = math.prod(dims)
    if indices.ndim == 2:
        if indices.shape[1] != len(dims):
            raise InvalidGraph(f"sparse tensor '{name}': indices of shape {indices.shape} do not "
                               f"match rank {len(dims)}")
        if indices.size and ((indices < 0).any() or (indices >= np.array(dims)).any()):
            raise InvalidGraph(f"sparse tensor '{name}': index out of range for dims {dims}")
        flat = np.ravel_multi_index(indices.T, dims) if indices.size else indices.reshape(-1)
    else:
        flat = indices.reshape(-1)
        if flat.size and ((flat < 0).any() or (flat >= numel).any()):
            raise InvalidGraph(f"sparse tensor '{name}': index out of range for {numel} elements")
    if flat.size != values.size:
        raise InvalidGraph(f"sparse tensor '{name}': {flat.size} indices for {values.size} values")
    dense = np.zeros(numel, dtype=values.dtype)
    dense[flat] = values
    return dense.reshape(dims)
