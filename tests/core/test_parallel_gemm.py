"""GEMMs split on the intra-op pool (kernels/_parallel.py): the same products as one BLAS call,
aligned blocks, a caller that never waits for blocks nobody took, and runs that use one BLAS
thread per calling thread."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxrun
from onnxrun.framework import threads
from onnxrun.framework.intra_op import IntraOpPool
from onnxrun.kernels import _parallel


@pytest.mark.parametrize("shape", [(1, 4096, 1000), (128, 768, 3072), (96, 32, 12544),
                                   (7, 64, 20000), (3, 50, 40)])
def test_split_matmul_matches_one_call(shape):
    M, K, N = shape
    rng = np.random.default_rng(0)
    a = rng.standard_normal((M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    pool = IntraOpPool(2)
    np.testing.assert_allclose(_parallel.matmul(a, b, pool), a @ b, rtol=1e-5, atol=1e-4)
    batched = rng.standard_normal((8, 64, K)).astype(np.float32)
    np.testing.assert_allclose(_parallel.matmul(batched, b, pool), batched @ b, rtol=1e-5,
                               atol=1e-4)


def test_blocks_are_aligned_and_cover_the_axis():
    for extent in (1, 15, 16, 17, 33, 100, 1000, 3136):
        for t in (1, 2, 4, 16):
            e = _parallel._edges(extent, t)
            assert e[0] == 0 and e[-1] == extent and all(x < y for x, y in zip(e, e[1:]))
            assert all(x % _parallel.MIN_BLOCK == 0 for x in e[:-1])


def test_no_wait_for_workers_that_never_run(monkeypatch):
    """A pool whose workers are never scheduled (a busy machine, at worst) still finishes a
    split GEMM: the caller takes every block itself."""
    pool = IntraOpPool(4)
    monkeypatch.setattr(pool, "_ensure_started", lambda: None)
    rng = np.random.default_rng(1)
    a = rng.standard_normal((512, 256)).astype(np.float32)
    b = rng.standard_normal((256, 256)).astype(np.float32)
    np.testing.assert_allclose(_parallel.matmul(a, b, pool), a @ b, rtol=1e-5, atol=1e-4)


def _mlp():
    rng = np.random.default_rng(1)
    w = numpy_helper.from_array(rng.standard_normal((256, 256)).astype(np.float32), "w")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 256])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


@pytest.mark.skipif(not threads.available(), reason="NumPy's BLAS has no per-thread setting")
def test_runs_use_one_blas_thread_and_restore_the_callers_setting():
    seen = []

    def hook(event):
        previous = threads.set_local(1)
        seen.append(previous)

    so = onnxrun.SessionOptions()
    so.intra_op_num_threads = 2
    sess = onnxrun.InferenceSession(_mlp().SerializeToString(), so)
    ro = onnxrun.RunOptions()
    ro.hooks.append(hook)
    before = threads.set_local(2)
    x = np.ones((512, 256), np.float32)
    y = sess.run(None, {"x": x}, ro)[0]
    after = threads.set_local(before)
    assert seen == [1]  # inside the run: one BLAS thread
    assert after == 2  # the caller's own setting is back
    w = numpy_helper.to_array(_mlp().graph.initializer[0])
    np.testing.assert_allclose(y, x @ w, rtol=1e-5, atol=1e-4)
