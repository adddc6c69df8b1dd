"""Concurrent requests are stacked into one run and split back, with the direct run's values.

A stacked run's floats may differ from a run of the request alone in the last bit (BLAS picks
other kernels for other row counts), so float outputs are compared to 1e-6."""

import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import onnxrun

from .conftest import serving
from .helpers import json_input, json_outputs
from .models import scorer


def _requests(n):
    rng = np.random.default_rng(5)
    return [{"x": rng.standard_normal((1 + i % 3, 4)).astype(np.float32),
             "idx": rng.integers(0, 5, 1 + i % 3).astype(np.int64)} for i in range(n)]


def _send_all(client, feeds_list):
    def one(feeds):
        return client.post("/v2/models/scorer/infer",
                           json={"inputs": [json_input(k, v) for k, v in feeds.items()]})
    with ThreadPoolExecutor(len(feeds_list)) as pool:
        return list(pool.map(one, feeds_list))


def _histogram(text, name):
    """{le: cumulative count} of a histogram in Prometheus text."""
    return {m.group(1): int(m.group(2)) for m in
            re.finditer(rf'^{name}_bucket{{le="([^"]+)"}} (\d+)$', text, re.M)}


def _check_outputs(responses, feeds_list):
    sess = onnxrun.InferenceSession(scorer())
    for r, feeds in zip(responses, feeds_list):
        assert r.status_code == 200, r.text
        got = json_outputs(r)
        for name, want in zip(["y", "cls"], sess.run(None, feeds)):
            _close(got[name], want)


def _close(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_concurrent_requests_are_batched():
    feeds_list = _requests(12)
    with serving(scorer(), "scorer", max_batch=64, max_delay_ms=300) as (app, c):
        responses = _send_all(c, feeds_list)
        text = c.get("/metrics").text
    _check_outputs(responses, feeds_list)
    requests = _histogram(text, "onnxrun_batch_requests")
    runs = requests["+Inf"]
    assert runs < len(feeds_list), text  # fewer runs than requests
    assert requests["1"] < runs  # some run merged several requests
    rows = _histogram(text, "onnxrun_batch_size")
    assert rows["+Inf"] == runs and rows["2"] < runs
    queue = _histogram(text, "onnxrun_queue_duration_seconds")
    assert queue["+Inf"] == len(feeds_list)


def test_max_batch_bounds_rows_and_one_disables_batching():
    feeds_list = _requests(9)
    with serving(scorer(), "scorer", max_batch=4, max_delay_ms=300) as (_, c):
        responses = _send_all(c, feeds_list)
        rows = _histogram(c.get("/metrics").text, "onnxrun_batch_size")
    _check_outputs(responses, feeds_list)
    assert rows["4"] == rows["+Inf"]  # no run above 4 rows
    with serving(scorer(), "scorer", max_batch=1, max_delay_ms=300) as (_, c):
        assert c.get("/v2/models/scorer").json()["parameters"]["dynamic_batching"] is False
        responses = _send_all(c, feeds_list)
        requests = _histogram(c.get("/metrics").text, "onnxrun_batch_requests")
    _check_outputs(responses, feeds_list)
    assert requests["1"] == requests["+Inf"] == len(feeds_list)


def test_failing_request_in_a_batch_fails_alone():
    feeds_list = _requests(6)
    bad = {"x": np.ones((1, 4), np.float32), "idx": np.array([7], np.int64)}
    with serving(scorer(), "scorer", max_batch=64, max_delay_ms=300) as (_, c):
        responses = _send_all(c, feeds_list + [bad])
        requests = _histogram(c.get("/metrics").text, "onnxrun_batch_requests")
    assert requests["1"] < requests["+Inf"]  # a batched run was tried
    assert responses[-1].status_code == 500 and "Gather" in responses[-1].json()["error"]
    _check_outputs(responses[:-1], feeds_list)


def test_different_shapes_are_not_mixed():
    rng = np.random.default_rng(1)
    feeds_list = [{"x": rng.standard_normal((2, 4)).astype(np.float32),
                   "idx": np.array([1, 2], np.int64)} for _ in range(4)]
    # requests asking for different outputs form different batches
    with serving(scorer(), "scorer", max_batch=64, max_delay_ms=300) as (_, c):
        def one(i):
            outputs = [{"name": "cls"}] if i % 2 else []
            return c.post("/v2/models/scorer/infer", json={
                "inputs": [json_input(k, v) for k, v in feeds_list[i].items()],
                "outputs": outputs})
        with ThreadPoolExecutor(4) as pool:
            responses = list(pool.map(one, range(4)))
    sess = onnxrun.InferenceSession(scorer())
    for i, r in enumerate(responses):
        assert r.status_code == 200, r.text
        got = json_outputs(r)
        assert sorted(got) == (["cls"] if i % 2 else ["cls", "y"])
        want = dict(zip(["y", "cls"], sess.run(None, feeds_list[i])))
        for name in got:
            _close(got[name], want[name])
