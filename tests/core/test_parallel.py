"""ORT_PARALLEL: the cost-model decision, the concurrent path's results, hooks and errors."""

import threading

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxrun
from onnxrun.framework.cost import critical_path, parallel_gain

F = TensorProto.FLOAT
RNG = np.random.default_rng(5)


def _branchy(branches=4, n=128):
    """x -> `branches` independent MatMul/Tanh branches -> Sum."""
    nodes, inits = [], []
    for b in range(branches):
        w = RNG.standard_normal((n, n)).astype(np.float32) / np.sqrt(n)
        inits.append(numpy_helper.from_array(w, f"w{b}"))
        nodes += [helper.make_node("MatMul", ["x", f"w{b}"], [f"m{b}"], name=f"mm{b}"),
                  helper.make_node("Tanh", [f"m{b}"], [f"t{b}"], name=f"tanh{b}"),
                  helper.make_node("MatMul", [f"t{b}", f"w{b}"], [f"o{b}"], name=f"mm2_{b}")]
    nodes.append(helper.make_node("Sum", [f"o{b}" for b in range(branches)], ["y"]))
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, [n, n])],
                          [helper.make_tensor_value_info("y", F, [n, n])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _chain(n=128):
    w = numpy_helper.from_array(RNG.standard_normal((n, n)).astype(np.float32), "w")
    nodes = [helper.make_node("MatMul", ["x", "w"], ["a"]), helper.make_node("Tanh", ["a"], ["b"]),
             helper.make_node("MatMul", ["b", "w"], ["y"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, [n, n])],
                          [helper.make_tensor_value_info("y", F, [n, n])], [w])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _session(model, parallel=True, min_gain=None, threads=2):
    so = onnxrun.SessionOptions()
    so.graph_optimization_level = onnxrun.GraphOptimizationLevel.ORT_DISABLE_ALL
    if parallel:
        so.execution_mode = onnxrun.ExecutionMode.ORT_PARALLEL
        so.inter_op_num_threads = threads
    if min_gain is not None:
        so.add_session_config_entry("session.parallel_min_gain", str(min_gain))
    return onnxrun.InferenceSession(model, so)


def test_cost_model_bounds():
    # a diamond: 0 -> (1, 2) -> 3, the branches equally heavy
    deps = [[], [0], [0], [1, 2]]
    costs = [1.0, 4.0, 4.0, 1.0]
    assert critical_path(costs, deps) == [6.0, 5.0, 5.0, 1.0]
    assert parallel_gain(costs, deps, 2) == pytest.approx(10 / 6)
    assert parallel_gain(costs, [[], [0], [1], [2]], 2) == 1.0  # a chain
    assert parallel_gain(costs, deps, 1) == 1.0


def test_chain_runs_sequentially_branches_run_concurrently():
    assert _session(_chain())._core.parallel.sequential
    par = _session(_branchy())._core.parallel
    assert not par.sequential and par.gain > 1.5
    # the most urgent step (start of the longest path) comes first in every successor list
    assert all(par.priority[a] >= par.priority[b]
               for users in par.users for a, b in zip(users, users[1:]))


@pytest.mark.parametrize("threads", [2, 3, 8])
def test_concurrent_path_matches_sequential(threads):
    m = _branchy()
    seq = _session(m, parallel=False)
    par = _session(m, min_gain=0, threads=threads)
    assert not par._core.parallel.sequential
    for _ in range(5):
        x = RNG.standard_normal((128, 128)).astype(np.float32)
        np.testing.assert_allclose(par.run(None, {"x": x})[0], seq.run(None, {"x": x})[0],
                                   rtol=1e-5, atol=1e-5)


def test_concurrent_callers_and_hooks():
    m = _branchy(branches=3)
    seq = _session(m, parallel=False)
    par = _session(m, min_gain=0)
    xs = [RNG.standard_normal((128, 128)).astype(np.float32) for _ in range(6)]
    want = [seq.run(None, {"x": x})[0] for x in xs]
    bad = []

    def call(i):
        for _ in range(5):
            if not np.allclose(par.run(None, {"x": xs[i]})[0], want[i], rtol=1e-5, atol=1e-5):
                bad.append(i)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bad == []
    with onnxrun.Tracer(par) as tr:
        par.run(None, {"x": xs[0]})
    assert sorted(r.name for r in tr.records) == sorted(n.name for n in par._core.graph.nodes)


def test_terminate_and_errors_on_concurrent_path():
    par = _session(_branchy(), min_gain=0)
    ro = onnxrun.RunOptions()
    ro.terminate = True
    with pytest.raises(onnxrun.Fail, match="terminate"):
        par.run(None, {"x": np.zeros((128, 128), np.float32)}, ro)
    with pytest.raises(onnxrun.InvalidArgument, match="session.parallel_min_gain"):
        _session(_branchy(), min_gain="fast")
    # still usable
    assert par.run(None, {"x": np.zeros((128, 128), np.float32)})[0].shape == (128, 128)
