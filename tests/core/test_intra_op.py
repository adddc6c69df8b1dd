"""The per-session intra-op thread pool (framework/intra_op.py)."""

from __future__ import annotations

import contextvars
import gc
import threading
import time

import numpy as np
import pytest

import onnxrun
from onnxrun.framework.intra_op import IntraOpPool, physical_cores, resolve_threads

from .models import mlp


def _record(pool, n, blocks=None):
    """Indices seen and thread names; every block waits for all the others, so the blocks
    must run at the same time, on as many threads."""
    seen, names, lock = [], set(), threading.Lock()
    parts = min(n, blocks or pool.num_threads)
    barrier = threading.Barrier(1 if pool.num_threads == 1 else parts, timeout=20)

    def fn(a, b):
        with lock:
            seen.extend(range(a, b))
            names.add(threading.current_thread().name)
        barrier.wait()

    pool.parallel_for(n, fn, blocks)
    return sorted(seen), names


@pytest.mark.parametrize("threads,n", [(1, 10), (2, 1), (2, 7), (3, 100), (4, 3)])
def test_blocks_cover_the_range_once(threads, n):
    pool = IntraOpPool(threads)
    seen, names = _record(pool, n)
    assert seen == list(range(n))
    assert len(names) == min(threads, n)
    pool.close()


def test_block_counts_and_empty_range():
    pool = IntraOpPool(4)
    seen, names = _record(pool, 50, blocks=1)
    assert seen == list(range(50)) and names == {threading.current_thread().name}
    got = []
    pool.parallel_for(50, lambda a, b: got.append((a, b)), blocks=7)  # more blocks than threads
    assert sorted(got) == [(50 * k // 7, 50 * (k + 1) // 7) for k in range(7)]
    pool.parallel_for(0, lambda a, b: 1 / 0)
    pool.close()
    one = IntraOpPool(1)
    one.parallel_for(10, lambda a, b: got.append((a, b)), blocks=5)  # one thread: one call
    assert got[-1] == (0, 10)


def test_exception_reaches_the_caller_after_all_blocks():
    pool = IntraOpPool(3)
    finished = []

    def fn(a, b):
        if a == 0:
            raise KeyError("block zero")
        time.sleep(0.02)
        finished.append(a)

    with pytest.raises(KeyError, match="block zero"):
        pool.parallel_for(3, fn)
    assert len(finished) == 2
    seen, _ = _record(pool, 9)  # the pool still works
    assert seen == list(range(9))
    pool.close()


def test_many_callers_and_nested_jobs():
    pool = IntraOpPool(3)
    results = {}

    def caller(i):
        out = np.zeros(40, np.int64)

        def outer(a, b):
            def inner(c, d):
                out[c:d] += i
            for _ in range(a, b):
                pool.parallel_for(40, inner)

        pool.parallel_for(5, outer)
        results[i] = out

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    for i in range(6):
        np.testing.assert_array_equal(results[i], np.full(40, 5 * i))
    pool.close()


def test_context_variables_reach_the_workers():
    var = contextvars.ContextVar("v", default="unset")
    var.set("caller's")
    pool = IntraOpPool(2)
    got = set()
    pool.parallel_for(2, lambda a, b: (got.add(var.get()), time.sleep(0.01)))
    assert got == {"caller's"}
    pool.close()


def test_workers_idle_without_spinning_and_stop_with_the_pool():
    pool = IntraOpPool(3)
    _record(pool, 6)
    workers = list(pool._workers.threads)
    assert len(workers) == 2 and all(t.is_alive() for t in workers)
    t0 = time.process_time()
    time.sleep(0.3)
    assert time.process_time() - t0 < 0.1  # waiting workers take no CPU
    del pool
    gc.collect()
    for t in workers:
        t.join(timeout=5)
    assert not any(t.is_alive() for t in workers)


def test_threads_follow_the_session_option():
    assert resolve_threads(3) == 3
    assert resolve_threads(0) == physical_cores() >= 1
    with pytest.raises(onnxrun.errors.InvalidArgument, match="intra_op_num_threads"):
        resolve_threads(-1)
    for n in (1, 2):
        so = onnxrun.SessionOptions()
        so.intra_op_num_threads = n
        sess = onnxrun.InferenceSession(mlp(), so, providers=["CPUExecutionProvider"])
        assert sess._ctx.intra_op.num_threads == n
        info = onnxrun.kernels.base.OpKernelInfo(sess._core.graph.nodes[0], sess._core.graph,
                                                 sess._ctx)
        assert info.intra_op is sess._ctx.intra_op
