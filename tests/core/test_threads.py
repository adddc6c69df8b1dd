"""run() from many threads on one session gives exactly the single-thread results; terminate
set from another thread stops a run."""

import threading
import time

import numpy as np
import pytest

import onnxrun

from .models import loop_forever, mlp


@pytest.mark.parametrize("mode", list(onnxrun.ExecutionMode))
def test_eight_threads_different_batch_sizes(mode):
    so = onnxrun.SessionOptions()
    so.execution_mode = mode
    sess = onnxrun.InferenceSession(mlp(), so)
    rng = np.random.default_rng(0)
    feeds = [rng.standard_normal((n, 4)).astype(np.float32) for n in (1, 2, 3, 5, 8, 13, 21, 34)]
    expected = [sess.run(None, {"x": x})[0] for x in feeds]
    results = [[] for _ in feeds]
    errors = []

    def work(i):
        try:
            for _ in range(25):
                results[i].append(sess.run(None, {"x": feeds[i]})[0])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(feeds))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, outs in enumerate(results):
        assert len(outs) == 25
        for out in outs:
            np.testing.assert_array_equal(out, expected[i])


def test_terminate_from_another_thread_stops_endless_loop():
    sess = onnxrun.InferenceSession(loop_forever())
    ro = onnxrun.RunOptions()
    timer = threading.Timer(0.3, lambda: setattr(ro, "terminate", True))
    timer.start()
    t0 = time.perf_counter()
    with pytest.raises(onnxrun.Fail, match="terminate flag"):
        sess.run(None, {"v0": np.zeros(1, np.float32)}, ro)
    assert time.perf_counter() - t0 < 1.3
    ro.terminate = False  # reusable once cleared: the session is still healthy
    out = onnxrun.InferenceSession(mlp()).run(None, {"x": np.ones((2, 4), np.float32)}, ro)
    assert out[0].shape == (2, 3)
