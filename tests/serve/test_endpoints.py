"""Every endpoint over real HTTP, JSON and binary tensors, outputs equal to a direct run."""

import json

import numpy as np

import onnxrun
from onnxrun.serve.protocol import HEADER_LENGTH

from .helpers import binary_body, json_input, json_outputs, read_binary_response
from .models import echo_types, scorer


def _feeds(n, seed=0):
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal((n, 4)).astype(np.float32),
            "idx": rng.integers(0, 5, n).astype(np.int64)}


def _direct(model, feeds, names=None):
    sess = onnxrun.InferenceSession(model)
    names = names or [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


def test_health_and_server_metadata(scorer_server):
    _, c = scorer_server
    assert c.get("/v2/health/live").json() == {"live": True}
    assert c.get("/v2/health/ready").json() == {"ready": True}
    meta = c.get("/v2").json()
    assert meta["name"] == "onnxrun" and "binary_tensor_data" in meta["extensions"]


def test_model_metadata_and_ready(scorer_server):
    _, c = scorer_server
    meta = c.get("/v2/models/scorer").json()
    assert meta["name"] == "scorer" and meta["versions"] == ["1"]
    assert meta["inputs"] == [{"name": "x", "datatype": "FP32", "shape": [-1, 4]},
                              {"name": "idx", "datatype": "INT64", "shape": [-1]}]
    assert meta["outputs"] == [{"name": "y", "datatype": "FP32", "shape": [-1, 3]},
                               {"name": "cls", "datatype": "INT64", "shape": [-1]}]
    assert meta["parameters"]["dynamic_batching"] is True
    assert c.get("/v2/models/scorer/versions/1").json() == meta
    assert c.get("/v2/models/scorer/ready").json() == {"name": "scorer", "ready": True}
    assert c.get("/v2/models/scorer/versions/1/ready").status_code == 200
    for path in ("/v2/models/other", "/v2/models/scorer/versions/2", "/v2/models/other/ready"):
        r = c.get(path)
        assert r.status_code == 404 and "error" in r.json(), path
    r = c.post("/v2/models/other/infer", json={})
    assert r.status_code == 404 and "unknown model 'other'" in r.json()["error"]


def test_fixed_batch_model_says_it_does_not_batch():
    from .conftest import serving
    with serving(scorer(batch=2), "fixed") as (app, c):
        params = c.get("/v2/models/fixed").json()["parameters"]
        assert params["dynamic_batching"] is False
        assert "fixed leading dimension 2" in params["batching"]
        assert not app.state.server.batcher.batching


def test_infer_json_equals_direct_run(scorer_server):
    _, c = scorer_server
    feeds = _feeds(3)
    r = c.post("/v2/models/scorer/infer",
               json={"id": "r1", "inputs": [json_input(k, v) for k, v in feeds.items()]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == "r1" and body["model_name"] == "scorer" and body["model_version"] == "1"
    got = json_outputs(r)
    for name, want in _direct(scorer(), feeds).items():
        assert got[name].dtype == want.dtype
        np.testing.assert_array_equal(got[name], want)


def test_infer_nested_json_data_and_output_selection(scorer_server):
    _, c = scorer_server
    feeds = _feeds(2, seed=1)
    inputs = [json_input(k, v) for k, v in feeds.items()]
    inputs[0]["data"] = feeds["x"].tolist()  # nested rows instead of a flat list
    r = c.post("/v2/models/scorer/versions/1/infer",
               json={"inputs": inputs, "outputs": [{"name": "cls"}]})
    assert r.status_code == 200, r.text
    assert [o["name"] for o in r.json()["outputs"]] == ["cls"]
    np.testing.assert_array_equal(json_outputs(r)["cls"], _direct(scorer(), feeds, ["cls"])["cls"])


def test_infer_binary_in_and_out(scorer_server):
    _, c = scorer_server
    feeds = _feeds(5, seed=2)
    body, headers = binary_body(list(feeds.items()), parameters={"binary_data_output": True})
    r = c.post("/v2/models/scorer/infer", content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/octet-stream"
    got = read_binary_response(r)
    for name, want in _direct(scorer(), feeds).items():
        np.testing.assert_array_equal(got[name], want)


def test_binary_for_one_output_only(scorer_server):
    _, c = scorer_server
    feeds = _feeds(2, seed=3)
    r = c.post("/v2/models/scorer/infer", json={
        "inputs": [json_input(k, v) for k, v in feeds.items()],
        "outputs": [{"name": "y", "parameters": {"binary_data": True}}, {"name": "cls"}]})
    assert r.status_code == 200, r.text
    got = read_binary_response(r)
    outs = {o["name"]: o for o in json.loads(r.content[:int(r.headers[HEADER_LENGTH])])["outputs"]}
    assert "data" in outs["cls"] and outs["y"]["parameters"]["binary_data_size"] == 2 * 3 * 4
    want = _direct(scorer(), feeds)
    np.testing.assert_array_equal(got["y"], want["y"])
    np.testing.assert_array_equal(got["cls"], want["cls"])


def test_bytes_bool_fp16_json_and_binary(echo_server):
    _, c = echo_server
    feeds = {"s": np.array(["a", "", "héllo"], dtype=object),
             "b": np.array([True, False, True]),
             "h": np.array([[0.5, -1], [2, 3], [65504, 1e-3]], dtype=np.float16)}
    r = c.post("/v2/models/echo/infer",
               json={"inputs": [json_input(k, v) for k, v in feeds.items()]})
    assert r.status_code == 200, r.text
    got = json_outputs(r)
    for k, v in feeds.items():
        np.testing.assert_array_equal(got[k + "_out"], v)
    body, headers = binary_body(list(feeds.items()), parameters={"binary_data_output": True})
    r = c.post("/v2/models/echo/infer", content=body, headers=headers)
    assert r.status_code == 200, r.text
    got = read_binary_response(r)
    want = _direct(echo_types(), feeds)
    for k in feeds:
        assert got[k + "_out"].dtype == want[k + "_out"].dtype
        np.testing.assert_array_equal(got[k + "_out"], want[k + "_out"])


def test_metrics_text_format(scorer_server):
    _, c = scorer_server
    c.get("/v2/health/live")
    r = c.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'onnxrun_requests_total{endpoint="live",status="200"}' in text
    for name in ("onnxrun_request_duration_seconds", "onnxrun_queue_duration_seconds",
                 "onnxrun_run_duration_seconds", "onnxrun_batch_size"):
        assert f"# TYPE {name} histogram" in text
        assert f'{name}_bucket{{le="+Inf"}}' in text and f"{name}_count" in text
