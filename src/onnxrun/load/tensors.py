"""TensorProto -> NumPy, with sizes checked before anything is allocated.

Every check raises :class:`onnxrun.errors.Fail`, the class onnxruntime uses for malformed
initializers and external data. Sizes are computed with Python ints (``math.prod``), so a
hostile ``dims`` cannot overflow into a small number.
"""

from __future__ import annotations

import math
import sys
from typing import Optional

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

from ..errors import Fail
from ..ir.types import dtype_of
from .external_data import read_external_bytes
from .inline_data import InlineData

_SUB_BYTE_BITS = {TensorProto.UINT4: 4, TensorProto.INT4: 4, TensorProto.FLOAT4E2M1: 4}
for _attr, _bits in (("UINT2", 2), ("INT2", 2), ("FLOAT6E2M3", 6), ("FLOAT6E3M2", 6)):
    if hasattr(TensorProto, _attr):
        _SUB_BYTE_BITS[getattr(TensorProto, _attr)] = _bits
#: Sub-byte types whose typed field (int32_data) holds one element per entry, not packed.
_UNPACKED_TYPED = {getattr(TensorProto, a) for a in ("FLOAT6E2M3", "FLOAT6E3M2")
                   if hasattr(TensorProto, a)}


def expected_nbytes(elem: int, numel: int) -> int:
    """Bytes of raw data a tensor of ``numel`` elements must have (-1: variable, strings)."""
    if elem == TensorProto.STRING:
        return -1
    bits = _SUB_BYTE_BITS.get(elem)
    if bits:
        return (numel * bits + 7) // 8
    return numel * dtype_of(elem).itemsize


#: Default cap on the bytes of one tensor built from a model (the session config entry
#: ``session.max_tensor_bytes`` overrides it; see ``onnxrun.options``).
DEFAULT_MAX_BYTES = 4 * 1024 ** 3


class TensorDecoder:
    """Decodes tensors of one model; external data is read from ``base_dir`` only.

    ``max_bytes`` caps tensors whose size is not backed by bytes already in the model: external
    data (read from disk) and sparse tensors (densified here). It should be the session's
    ``max_tensor_bytes``.
    """

    def __init__(self, base_dir: Optional[str] = None, max_bytes: Optional[int] = None,
                 inline: Optional[InlineData] = None) -> None:
        self.base_dir = base_dir
        self.max_bytes = int(max_bytes) if max_bytes is not None else DEFAULT_MAX_BYTES
        self.inline = inline  # large raw_data the loader left in the model's bytes

    def __call__(self, tensor: TensorProto, what: str = "tensor") -> np.ndarray:
        fast = _quick_decode(tensor)  # every plain numeric tensor whose size is right
        if fast is not None:
            return fast
        name = tensor.name or "<unnamed>"

        def fail(why: str) -> Fail:
            return Fail(f"{what} '{name}': {why}")

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
            raw = self.inline.take(tensor) if self.inline is not None else None
            if raw is not None:  # raw_data read from the model's own bytes
                if nbytes >= 0 and len(raw) != nbytes:
                    raise fail(_raw_size_error(len(raw), dims, tensor.data_type, nbytes))
            elif tensor.data_type == TensorProto.STRING:
                raise fail("string tensors cannot use external data")
            elif nbytes > self.max_bytes:
                raise fail(f"{nbytes} bytes of external data exceed the limit of "
                           f"{self.max_bytes} bytes (session config entry "
                           f"'session.max_tensor_bytes')")
            else:
                raw = read_external_bytes(tensor, self.base_dir, nbytes)
            if tensor.data_type not in _SUB_BYTE_BITS and sys.byteorder == "little":
                # the common case, without copying the bytes again through a TensorProto
                return np.frombuffer(raw, dtype=dtype_of(tensor.data_type)).reshape(dims)
            proto = TensorProto()
            proto.name = tensor.name
            proto.data_type = tensor.data_type
            proto.dims.extend(dims)
            proto.raw_data = bytes(raw)
            tensor = proto
        elif tensor.HasField("raw_data") and nbytes >= 0 and len(tensor.raw_data) != nbytes:
            raise fail(_raw_size_error(len(tensor.raw_data), dims, tensor.data_type, nbytes))
        elif not tensor.HasField("raw_data"):
            count = _typed_count(tensor)
            want = _typed_expected(tensor.data_type, numel)
            if count is not None and count != want:
                raise fail(f"holds {count} values but dims {dims} need {want}")
        elif tensor.data_location not in (TensorProto.DEFAULT,):
            raise fail(f"unknown data_location {tensor.data_location}")
        try:
            arr = numpy_helper.to_array(tensor)
        except Exception as exc:  # malformed content that passed the size checks
            raise fail(f"cannot decode: {type(exc).__name__}: {exc}") from None
        if arr.shape != tuple(dims):
            raise fail(f"decoded shape {arr.shape} does not match dims {dims}")
        if tensor.data_type == TensorProto.STRING:
            arr = _decode_strings(arr)
        return arr


def _raw_size_error(size: int, dims, elem: int, nbytes: int) -> str:
    return (f"raw_data has {size} bytes but dims {dims} of type "
            f"{onnx.helper.tensor_dtype_to_string(elem)} need {nbytes}")


_RAW_FAST = {e: dtype_of(e) for e in (
    TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.INT8,
    TensorProto.INT16, TensorProto.INT32, TensorProto.INT64, TensorProto.UINT8,
    TensorProto.UINT16, TensorProto.UINT32, TensorProto.UINT64, TensorProto.BOOL)}
_TYPED_FAST = {TensorProto.FLOAT: "float_data", TensorProto.DOUBLE: "double_data",
               TensorProto.INT32: "int32_data", TensorProto.INT64: "int64_data"}


def _quick_decode(tensor: TensorProto) -> Optional[np.ndarray]:
    """The most common tensor (raw little-endian data of a plain numeric type, or a typed
    field, whose size matches its dims) without the general path's bookkeeping; None for
    anything else, which the general path decodes or refuses with its errors."""
    if tensor.data_location != TensorProto.DEFAULT or sys.byteorder != "little":
        return None
    dt = _RAW_FAST.get(tensor.data_type)
    if dt is None:
        return None
    dims = tensor.dims
    if any(d < 0 for d in dims):
        return None
    numel = math.prod(dims)
    if tensor.HasField("raw_data"):
        raw = tensor.raw_data
        if len(raw) != numel * dt.itemsize:
            return None
        return np.frombuffer(raw, dtype=dt).reshape(dims)
    field = _TYPED_FAST.get(tensor.data_type)
    if field is None:
        return None
    values = getattr(tensor, field)
    if len(values) != numel:
        return None
    return np.array(values, dtype=dt).reshape(dims)


def _typed_count(tensor: TensorProto):
    field = numpy_helper_field(tensor.data_type)
    if field is None:
        return None
    return len(getattr(tensor, field))


def _typed_expected(elem: int, numel: int) -> int:
    """Entries of the typed data field a tensor of ``numel`` elements must have: sub-byte types
    are packed one byte per entry, complex numbers take two entries."""
    bits = _SUB_BYTE_BITS.get(elem)
    if bits and elem not in _UNPACKED_TYPED:
        return (numel * bits + 7) // 8
    if elem in (TensorProto.COMPLEX64, TensorProto.COMPLEX128):
        return 2 * numel
    return numel


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


def sparse_to_dense(sparse, decode: TensorDecoder, max_bytes: Optional[int] = None) -> np.ndarray:
    """A SparseTensorProto as a dense array, indices checked against the shape.

    The dense size is checked against ``max_bytes`` (default: the decoder's cap) before
    anything is allocated: a few bytes of sparse tensor may describe terabytes of zeros."""
    name = sparse.values.name or "<sparse>"
    dims = list(sparse.dims)

    def fail(why: str) -> Fail:
        return Fail(f"sparse tensor '{name}': {why}")

    if any(d < 0 for d in dims):
        raise fail(f"negative dimension in {dims}")
    numel = math.prod(dims)
    cap = int(max_bytes) if max_bytes is not None else getattr(decode, "max_bytes",
                                                               DEFAULT_MAX_BYTES)
    try:
        itemsize = dtype_of(sparse.values.data_type).itemsize
    except ValueError:
        raise fail(f"unsupported data_type {sparse.values.data_type}") from None
    dense_bytes = numel * itemsize
    if dense_bytes > cap:
        raise fail(f"dense shape {dims} needs {dense_bytes} bytes, more than the limit of {cap} "
                   "bytes (session config entry 'session.max_tensor_bytes')")
    values = decode(sparse.values, "sparse tensor values").reshape(-1)
    indices = decode(sparse.indices, "sparse tensor indices")
    if indices.dtype.kind not in "iu":
        raise fail(f"indices must be integers, got {indices.dtype}")
    indices = indices.astype(np.int64)
    if indices.ndim == 2:
        if indices.shape[1] != len(dims):
            raise fail(f"indices of shape {indices.shape} do not match rank {len(dims)}")
        if indices.size and ((indices < 0).any() or (indices >= np.array(dims, np.int64)).any()):
            raise fail(f"index out of range for dims {dims}")
        flat = (np.ravel_multi_index(tuple(indices.T), dims) if indices.size
                else indices.reshape(-1))
    elif indices.ndim <= 1:
        flat = indices.reshape(-1)
        if flat.size and ((flat < 0).any() or (flat >= numel).any()):
            raise fail(f"index out of range for {numel} elements")
    else:
        raise fail(f"indices must be 1-D or 2-D, got shape {indices.shape}")
    if flat.size != values.size:
        raise fail(f"{flat.size} indices for {values.size} values")
    dense = np.zeros(numel, dtype=values.dtype)
    dense[flat] = values
    return dense.reshape(dims)
