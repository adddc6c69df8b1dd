"""Every class of bad request gets 400 with {"error": ...}; a kernel failure gets 500; the
server keeps answering."""

import json

import numpy as np
import pytest

from onnxrun.serve.protocol import HEADER_LENGTH

from .helpers import binary_body, json_input

X = np.ones((2, 4), np.float32)
IDX = np.array([0, 1], np.int64)
GOOD = {"inputs": [json_input("x", X), json_input("idx", IDX)]}


def _with(**changes):
    req = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        name, field = key.split("__")
        item = next(i for i in req["inputs"] if i["name"] == name)
        item[field] = value
    return req


BAD_JSON = {
    "unknown input": ({"inputs": GOOD["inputs"] + [json_input("z", X)]}, "unknown input 'z'"),
    "missing input": ({"inputs": GOOD["inputs"][:1]}, "missing inputs: idx"),
    "wrong dtype": (_with(x__datatype="FP64"), "datatype FP64, the model expects FP32"),
    "unknown dtype": (_with(x__datatype="FLOAT"), "unknown datatype 'FLOAT'"),
    "wrong shape": (_with(x__shape=[4, 2]), "shape [4, 2], the model expects [-1, 4]"),
    "wrong rank": (_with(idx__shape=[2, 1]), "input 'idx' has shape [2, 1]"),
    "negative dim": (_with(x__shape=[-2, 4]), "non-negative integers"),
    "data too short": (_with(x__data=[1.0] * 7), "7 elements of data, shape needs 8"),
    "data too long": (_with(x__data=[1.0] * 9), "9 elements of data, shape needs 8"),
    "ragged data": (_with(x__data=[[1.0] * 4, [1.0] * 3]), "ragged"),
    "strings for floats": (_with(x__data=["1"] * 8), "cannot be FP32"),
    "floats for ints": (_with(idx__data=[0.5, 1.0]), "cannot be INT64"),
    "int out of range": (_with(idx__data=[0, 2 ** 70]), "INT64"),
    "no data": ({"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32"}]},
                "neither 'data' nor binary_data_size"),
    "unknown output": (dict(GOOD, outputs=[{"name": "nope"}]), "unknown output 'nope'"),
    "inputs not a list": ({"inputs": {"x": 1}}, "'inputs' must be a non-empty list"),
    "not an object": ([1, 2], "must be a JSON object"),
    "bad parameter": (dict(GOOD, parameters={"binary_data_output": "yes"}), "must be a boolean"),
    "duplicate input": ({"inputs": GOOD["inputs"] + GOOD["inputs"][:1]}, "given twice"),
}


@pytest.mark.parametrize("case", sorted(BAD_JSON))
def test_bad_json_request(scorer_server, case):
    _, c = scorer_server
    req, message = BAD_JSON[case]
    r = c.post("/v2/models/scorer/infer", json=req)
    assert r.status_code == 400, r.text
    assert message in r.json()["error"]


def _post(c, content, headers=None):
    return c.post("/v2/models/scorer/infer", content=content, headers=headers or {})


def test_malformed_json(scorer_server):
    _, c = scorer_server
    for body in (b"{not json", b"", b"\xff\xfe", b'{"inputs": [}'):
        r = _post(c, body)
        assert r.status_code == 400 and "malformed JSON" in r.json()["error"], body


def test_oversized_body(scorer_server):
    _, c = scorer_server  # limit: 64 KiB
    big = np.zeros((20000, 4), np.float32)
    r = c.post("/v2/models/scorer/infer", json={"inputs": [json_input("x", big)]})
    assert r.status_code == 400 and "over the server's limit of 65536 bytes" in r.json()["error"]

    def chunks():  # no Content-Length: the limit applies while reading
        for _ in range(100):
            yield b" " * 1024
    r = _post(c, chunks())
    assert r.status_code == 400 and "limit" in r.json()["error"]


def test_bad_binary_header_and_sizes(scorer_server):
    _, c = scorer_server
    body, headers = binary_body([("x", X), ("idx", IDX)])
    n = int(headers[HEADER_LENGTH])
    cases = {
        "abc": "is not an integer",
        str(len(body) + 1): "outside the body",
        "0": "outside the body",
        str(n - 1): "malformed JSON",
    }
    for value, message in cases.items():
        r = _post(c, body, {HEADER_LENGTH: value})
        assert r.status_code == 400 and message in r.json()["error"], value
    r = _post(c, body + b"\0\0", headers)
    assert r.status_code == 400 and "2 bytes of binary data" in r.json()["error"]
    r = _post(c, body[:-1], headers)
    assert r.status_code == 400 and "runs past" in r.json()["error"]
    bad_size = body.replace(b'"binary_data_size": 32', b'"binary_data_size": 28')
    r = _post(c, bad_size + b"\0" * 0, {HEADER_LENGTH: str(n)})
    assert r.status_code == 400 and "expected 32" in r.json()["error"]


def test_kernel_failure_is_500_and_server_survives(scorer_server):
    _, c = scorer_server
    r = c.post("/v2/models/scorer/infer",
               json={"inputs": [json_input("x", X), json_input("idx", np.array([0, 9]))]})
    assert r.status_code == 500, r.text
    assert "Gather" in r.json()["error"]
    r = c.post("/v2/models/scorer/infer", json=GOOD)
    assert r.status_code == 200


def test_bad_requests_are_counted(scorer_server):
    _, c = scorer_server
    _post(c, b"{")
    text = c.get("/metrics").text
    line = next(l for l in text.splitlines()
                if l.startswith('onnxrun_requests_total{endpoint="infer",status="400"}'))
    assert int(line.split()[-1]) >= 1
