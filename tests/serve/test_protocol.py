"""Protocol decoding and encoding without a server: the datatypes HTTP tests do not reach."""

import json
import struct

import ml_dtypes
import numpy as np
import pytest

from onnxrun.serve.protocol import BadRequest, encode_response, parse_request

from .helpers import binary_body


def _parse(body_headers):
    body, headers = body_headers
    return parse_request(body, headers.get("Inference-Header-Content-Length"))


def test_every_numeric_datatype_round_trips_binary_and_json():
    for dtype in (np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.int32,
                  np.int64, np.float16, np.float32, np.float64, ml_dtypes.bfloat16, np.bool_):
        x = (np.arange(6).reshape(2, 3) % 2 if dtype is np.bool_ else
             np.arange(6).reshape(2, 3)).astype(dtype)
        got = _parse(binary_body([("x", x)])).inputs["x"]
        assert got.dtype == x.dtype and np.array_equal(got, x), dtype
        content, n = encode_response("m", "1", None, [("x", x, False)])
        assert n is None
        out = json.loads(content)["outputs"][0]
        req = {"inputs": [dict(out, name="x")]}
        again = parse_request(json.dumps(req).encode()).inputs["x"]
        assert again.dtype == x.dtype and np.array_equal(again, x), dtype
        content, n = encode_response("m", "1", "i", [("x", x, True)])
        assert np.array_equal(np.frombuffer(content[n:], dtype=x.dtype).reshape(2, 3), x)


def test_bytes_binary_encoding():
    s = np.array(["ab", "", "ü"], dtype=object)
    content, n = encode_response("m", "1", None, [("s", s, True)])
    blob = content[n:]
    assert blob == b"".join(struct.pack("<I", len(t.encode())) + t.encode() for t in s)
    bad = struct.pack("<I", 2) + b"\xff\xfe"
    head = json.dumps({"inputs": [{"name": "s", "shape": [1], "datatype": "BYTES",
                                   "parameters": {"binary_data_size": len(bad)}}]}).encode()
    with pytest.raises(BadRequest, match="not UTF-8"):
        parse_request(head + bad, str(len(head)))
    cut = struct.pack("<I", 9) + b"abc"
    head = json.dumps({"inputs": [{"name": "s", "shape": [1], "datatype": "BYTES",
                                   "parameters": {"binary_data_size": len(cut)}}]}).encode()
    with pytest.raises(BadRequest, match="runs past the data"):
        parse_request(head + cut, str(len(head)))


def test_bool_bytes_must_be_0_or_1():
    body, headers = binary_body([("b", np.array([True, False]))])
    with pytest.raises(BadRequest, match="0 or 1"):
        parse_request(body[:-1] + b"\x02", headers["Inference-Header-Content-Length"])


def test_non_tensor_output_is_an_error():
    with pytest.raises(TypeError, match="not a tensor"):
        encode_response("m", "1", None, [("seq", [np.zeros(2)], False)])
