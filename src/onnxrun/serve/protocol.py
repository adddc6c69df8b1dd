"""Open Inference Protocol (KServe v2) REST messages: tensors in JSON and the binary-data
extension, decoded to NumPy and encoded back. No web framework here.

Request body: a JSON object, optionally followed by binary tensor data; the header
``Inference-Header-Content-Length`` then gives the JSON part's length. An input whose
``parameters`` hold ``binary_data_size`` takes that many bytes of the binary part, in the order
of the inputs (little-endian, row major; BOOL one byte; BYTES a 4-byte length then the bytes).
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import ml_dtypes
import numpy as np

from ..errors import InvalidArgument

HEADER_LENGTH = "Inference-Header-Content-Length"

#: protocol datatype -> NumPy dtype (BYTES elements are Python str or bytes)
DATATYPES: Dict[str, np.dtype] = {
    "BOOL": np.dtype(np.bool_), "UINT8": np.dtype(np.uint8), "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32), "UINT64": np.dtype(np.uint64), "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16), "INT32": np.dtype(np.int32), "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16), "FP32": np.dtype(np.float32), "FP64": np.dtype(np.float64),
    "BF16": np.dtype(ml_dtypes.bfloat16), "BYTES": np.dtype(object),
}
_DATATYPE_OF = {dt: name for name, dt in DATATYPES.items()}

#: ONNX tensor element type name (as in ``NodeArg.type``) -> protocol datatype
ONNX_TO_DATATYPE = {
    "bool": "BOOL", "uint8": "UINT8", "uint16": "UINT16", "uint32": "UINT32", "uint64": "UINT64",
    "int8": "INT8", "int16": "INT16", "int32": "INT32", "int64": "INT64", "float16": "FP16",
    "float": "FP32", "double": "FP64", "bfloat16": "BF16", "string": "BYTES",
}

#: JSON element kinds each datatype accepts (NumPy kind letters of ``np.asarray(data)``)
_JSON_KINDS = {"b": "b", "i": "iu", "u": "iu", "f": "iuf", "V": "iuf"}


class BadRequest(InvalidArgument):
    """A request the protocol or the model cannot accept (HTTP 400)."""


@dataclass
class InferRequest:
    """A decoded inference request."""

    id: Optional[str]
    inputs: Dict[str, np.ndarray]
    #: requested outputs (name, as binary); empty: every output, binary or not by ``binary_all``
    outputs: List[Tuple[str, bool]] = field(default_factory=list)
    binary_all: bool = False


def datatype_of(dtype: np.dtype) -> str:
    """The protocol datatype of a NumPy dtype (BadRequest if it has none)."""
    try:
        return _DATATYPE_OF[np.dtype(dtype)]
    except KeyError:
        raise BadRequest(f"tensors of dtype {dtype} have no Open Inference Protocol "
                         "datatype") from None


def split_body(body: bytes, header_length: Optional[str]) -> Tuple[bytes, memoryview]:
    """The JSON part and the binary part of a request body."""
    if header_length is None:
        return body, memoryview(b"")
    try:
        n = int(header_length)
    except ValueError:
        raise BadRequest(f"{HEADER_LENGTH} '{header_length}' is not an integer") from None
    if not 0 < n <= len(body):
        raise BadRequest(f"{HEADER_LENGTH} {n} is outside the body's {len(body)} bytes")
    view = memoryview(body)
    return bytes(view[:n]), view[n:]


def parse_request(body: bytes, header_length: Optional[str] = None) -> InferRequest:
    """Decode an inference request body into NumPy inputs (BadRequest when malformed)."""
    text, binary = split_body(body, header_length)
    try:
        msg = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed JSON in the request: {exc}") from None
    if not isinstance(msg, dict):
        raise BadRequest("the request must be a JSON object")
    req_id = msg.get("id")
    if req_id is not None and not isinstance(req_id, str):
        raise BadRequest("'id' must be a string")
    params = _params(msg, "the request")
    if "classification" in params:
        raise BadRequest("the classification extension is not supported")
    raw_inputs = msg.get("inputs")
    if not isinstance(raw_inputs, list) or not raw_inputs:
        raise BadRequest("'inputs' must be a non-empty list")
    inputs: Dict[str, np.ndarray] = {}
    offset = 0
    for item in raw_inputs:
        name, value, offset = _decode_input(item, binary, offset)
        if name in inputs:
            raise BadRequest(f"input '{name}' is given twice")
        inputs[name] = value
    if offset != len(binary):
        raise BadRequest(f"the body has {len(binary) - offset} bytes of binary data that no "
                         "input's binary_data_size accounts for")
    outputs = []
    raw_outputs = msg.get("outputs", [])
    if not isinstance(raw_outputs, list):
        raise BadRequest("'outputs' must be a list")
    binary_all = _flag(params, "binary_data_output", "the request")
    for item in raw_outputs:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise BadRequest("each requested output must be an object with a string 'name'")
        oparams = _params(item, f"output '{item['name']}'")
        if "classification" in oparams:
            raise BadRequest("the classification extension is not supported")
        as_binary = _flag(oparams, "binary_data", f"output '{item['name']}'")
        outputs.append((item["name"], binary_all if as_binary is None else as_binary))
    return InferRequest(req_id, inputs, outputs, bool(binary_all))


def _params(obj: dict, where: str) -> dict:
    params = obj.get("parameters", {})
    if not isinstance(params, dict):
        raise BadRequest(f"'parameters' of {where} must be an object")
    return params


def _flag(params: dict, key: str, where: str) -> Optional[bool]:
    value = params.get(key)
    if value is not None and not isinstance(value, bool):
        raise BadRequest(f"parameter '{key}' of {where} must be a boolean")
    return value


def _decode_input(item: Any, binary: memoryview, offset: int):
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise BadRequest("each input must be an object with a string 'name'")
    name = item["name"]
    datatype = item.get("datatype")
    if datatype not in DATATYPES:
        raise BadRequest(f"input '{name}': unknown datatype {datatype!r} "
                         f"(expected one of {', '.join(DATATYPES)})")
    shape = item.get("shape")
    if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise BadRequest(f"input '{name}': 'shape' must be a list of non-negative integers")
    count = math.prod(shape)
    params = _params(item, f"input '{name}'")
    size = params.get("binary_data_size")
    if size is not None:
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise BadRequest(f"input '{name}': binary_data_size must be a non-negative integer")
        if "data" in item:
            raise BadRequest(f"input '{name}' has both 'data' and binary_data_size")
        if offset + size > len(binary):
            raise BadRequest(f"input '{name}': binary_data_size {size} runs past the "
                             f"{len(binary)} bytes of binary data in the body")
        chunk = binary[offset:offset + size]
        value = _from_binary(name, datatype, chunk, count)
        offset += size
    else:
        if "data" not in item:
            raise BadRequest(f"input '{name}' has neither 'data' nor binary_data_size")
        value = _from_json(name, datatype, item["data"], count)
    return name, value.reshape(shape), offset


def _from_binary(name: str, datatype: str, chunk: memoryview, count: int) -> np.ndarray:
    dtype = DATATYPES[datatype]
    if datatype == "BYTES":
        return _unpack_bytes(name, chunk, count)
    if len(chunk) != count * dtype.itemsize:
        raise BadRequest(f"input '{name}': {len(chunk)} bytes of binary data, expected "
                         f"{count * dtype.itemsize} ({count} elements of {datatype})")
    value = np.frombuffer(chunk, dtype=dtype.newbyteorder("<")).astype(dtype, copy=True)
    if datatype == "BOOL" and value.view(np.uint8).max(initial=0) > 1:
        raise BadRequest(f"input '{name}': BOOL bytes must be 0 or 1")
    return value


def _unpack_bytes(name: str, chunk: memoryview, count: int) -> np.ndarray:
    items, pos, data = [], 0, bytes(chunk)
    while pos < len(data):
        if pos + 4 > len(data):
            raise BadRequest(f"input '{name}': BYTES element length cut off at byte {pos}")
        (n,) = struct.unpack_from("<I", data, pos)
        if pos + 4 + n > len(data):
            raise BadRequest(f"input '{name}': BYTES element of {n} bytes runs past the data")
        items.append(data[pos + 4:pos + 4 + n])
        pos += 4 + n
    if len(items) != count:
        raise BadRequest(f"input '{name}': {len(items)} BYTES elements, expected {count}")
    return _string_array(name, items)


def _string_array(name: str, items: List[Any]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    for i, s in enumerate(items):
        if isinstance(s, (bytes, bytearray)):
            try:
                s = bytes(s).decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest(f"input '{name}': BYTES element {i} is not UTF-8 text") from None
        elif not isinstance(s, str):
            raise BadRequest(f"input '{name}': BYTES data must be strings, element {i} is "
                             f"{type(s).__name__}")
        out[i] = s
    return out


def _from_json(name: str, datatype: str, data: Any, count: int) -> np.ndarray:
    if not isinstance(data, list):
        data = [data]
    if datatype == "BYTES":
        flat = _flatten(name, data)
        if len(flat) != count:
            raise BadRequest(f"input '{name}': {len(flat)} elements of data, shape needs {count}")
        return _string_array(name, flat)
    dtype = DATATYPES[datatype]
    try:
        raw = np.asarray(data)
    except ValueError:
        raise BadRequest(f"input '{name}': 'data' is a ragged nested list") from None
    if raw.size != count:
        raise BadRequest(f"input '{name}': {raw.size} elements of data, shape needs {count}")
    kinds = _JSON_KINDS[dtype.kind]
    if raw.size and raw.dtype.kind not in kinds:
        raise BadRequest(f"input '{name}': data of JSON type {_json_kind(raw)} cannot be "
                         f"{datatype}")
    if dtype.kind in "iu" and raw.size:
        info = np.iinfo(dtype)
        if raw.min() < info.min or raw.max() > info.max:
            raise BadRequest(f"input '{name}': values outside the range of {datatype}")
    return raw.reshape(-1).astype(dtype)


def _flatten(name: str, data: list) -> list:
    out = []
    stack = [iter(data)]
    while stack:
        for x in stack[-1]:
            if isinstance(x, list):
                stack.append(iter(x))
                break
            out.append(x)
        else:
            stack.pop()
    return out


def _json_kind(raw: np.ndarray) -> str:
    return {"b": "boolean", "i": "integer", "u": "integer", "f": "number"}.get(
        raw.dtype.kind, "string or mixed")


# ---- responses ----------------------------------------------------------------------------------
def encode_response(model_name: str, model_version: str, req_id: Optional[str],
                    outputs: List[Tuple[str, np.ndarray, bool]]) -> Tuple[bytes, Optional[int]]:
    """The response body and, when some outputs are binary, the JSON part's length."""
    records, blobs = [], []
    for name, value, as_binary in outputs:
        if not isinstance(value, np.ndarray):
            raise TypeError(f"output '{name}' is a {type(value).__name__}, not a tensor; the "
                            "protocol carries tensors only")
        rec = {"name": name, "datatype": datatype_of(value.dtype), "shape": list(value.shape)}
        if as_binary:
            blob = _to_binary(value)
            rec["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        else:
            rec["data"] = _to_json(value)
        records.append(rec)
    msg = {"model_name": model_name, "model_version": model_version, "outputs": records}
    if req_id is not None:
        msg["id"] = req_id
    head = json.dumps(msg, separators=(",", ":")).encode()
    if not blobs:
        return head, None
    return b"".join([head] + blobs), len(head)


def _to_binary(value: np.ndarray) -> bytes:
    if value.dtype == object:
        parts = []
        for s in value.reshape(-1):
            b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
            parts.append(struct.pack("<I", len(b)) + b)
        return b"".join(parts)
    return np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<")).tobytes()


def _to_json(value: np.ndarray) -> list:
    flat = value.reshape(-1)
    if value.dtype == object:
        return [s.decode("utf-8", "replace") if isinstance(s, bytes) else str(s) for s in flat]
    if value.dtype.kind == "V" or value.dtype == DATATYPES["BF16"]:
        flat = flat.astype(np.float32)
    return flat.tolist()


def encode_error(message: str) -> bytes:
    """The protocol's error body."""
    return json.dumps({"error": message}).encode()
