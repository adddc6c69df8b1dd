"""Request builders for the server tests."""

import json
import struct

import numpy as np

from onnxrun.serve.protocol import HEADER_LENGTH, datatype_of


def json_input(name, arr):
    data = arr.reshape(-1).tolist()
    return {"name": name, "shape": list(arr.shape), "datatype": datatype_of(arr.dtype),
            "data": data}


def to_bytes(arr):
    if arr.dtype == object:
        return b"".join(struct.pack("<I", len(s.encode())) + s.encode() for s in arr.ravel())
    return arr.tobytes()


def binary_body(inputs, outputs=None, parameters=None):
    """(body, headers) of a binary-data request with every input as binary."""
    head = {"inputs": [], "outputs": outputs or []}
    if parameters:
        head["parameters"] = parameters
    blobs = []
    for name, arr in inputs:
        blob = to_bytes(arr)
        blobs.append(blob)
        head["inputs"].append({"name": name, "shape": list(arr.shape),
                               "datatype": datatype_of(arr.dtype),
                               "parameters": {"binary_data_size": len(blob)}})
    text = json.dumps(head).encode()
    return text + b"".join(blobs), {HEADER_LENGTH: str(len(text)),
                                    "Content-Type": "application/octet-stream"}


def read_binary_response(response):
    """{name: array} from a response with binary outputs (JSON ones decoded too)."""
    from onnxrun.serve.protocol import DATATYPES
    n = int(response.headers[HEADER_LENGTH])
    head = json.loads(response.content[:n])
    rest = response.content[n:]
    out, pos = {}, 0
    for o in head["outputs"]:
        dtype = DATATYPES[o["datatype"]]
        size = o.get("parameters", {}).get("binary_data_size")
        if size is None:
            out[o["name"]] = np.array(o["data"], dtype=dtype).reshape(o["shape"])
            continue
        blob, pos = rest[pos:pos + size], pos + size
        if dtype == object:
            items, i = [], 0
            while i < len(blob):
                (k,) = struct.unpack_from("<I", blob, i)
                items.append(blob[i + 4:i + 4 + k].decode())
                i += 4 + k
            out[o["name"]] = np.array(items, dtype=object).reshape(o["shape"])
        else:
            out[o["name"]] = np.frombuffer(blob, dtype=dtype).reshape(o["shape"])
    assert pos == len(rest)
    return out


def json_outputs(response):
    from onnxrun.serve.protocol import DATATYPES
    body = response.json()
    return {o["name"]: np.array(o["data"], dtype=DATATYPES[o["datatype"]]).reshape(o["shape"])
            for o in body["outputs"]}
