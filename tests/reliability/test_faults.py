"""Faults a session must survive: failed runs, concurrent runs, termination from another thread,
and NaN/Inf data (which flows through as the math says, with no NumPy warnings)."""

from __future__ import annotations

import threading
import time
import warnings

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import onnxrun
from onnxrun.errors import Fail, InvalidArgument, OnnxRuntimeError

from ._util import F, I64, cap_options, make_model, needs, ort_session, session, vi


def _gather_model():
    """Y = Relu(Gather(W, I) @ M + B): a kernel error (bad index) mid-graph, and state worth
    checking afterwards."""
    rng = np.random.default_rng(1)
    inits = [onnx.numpy_helper.from_array(rng.standard_normal((10, 8)).astype(np.float32), "W"),
             onnx.numpy_helper.from_array(rng.standard_normal((8, 4)).astype(np.float32), "M"),
             onnx.numpy_helper.from_array(rng.standard_normal((4,)).astype(np.float32), "B")]
    nodes = [helper.make_node("Gather", ["W", "I"], ["G"], name="gather"),
             helper.make_node("MatMul", ["G", "M"], ["P"], name="mm"),
             helper.make_node("Add", ["P", "B"], ["Q"], name="add"),
             helper.make_node("Relu", ["Q"], ["Y"], name="relu")]
    return make_model(nodes, [vi("I", I64, ["N"])], [vi("Y", F, ["N", 4])], inits)


def test_failed_run_leaves_session_usable():
    needs("Gather", "MatMul", "Add", "Relu")
    model = _gather_model()
    sess = session(model)
    good = {"I": np.array([0, 3, 9], np.int64)}
    expected = sess.run(None, good)[0]
    for bad in ({"I": np.array([0, 10], np.int64)},      # kernel error
                {"I": np.array([[1]], np.int64)},        # wrong rank
                {"I": np.array([1], np.int32)},          # wrong dtype
                {"J": np.array([1], np.int64)}):         # wrong name
        with pytest.raises((OnnxRuntimeError, ValueError)):
            sess.run(None, bad)
        np.testing.assert_array_equal(sess.run(None, good)[0], expected)
    np.testing.assert_allclose(expected, ort_session(model).run(None, good)[0], rtol=1e-5,
                               atol=1e-6)


def test_failed_run_in_parallel_mode_leaves_session_usable():
    needs("Gather", "MatMul", "Add", "Relu")
    so = onnxrun.SessionOptions()
    so.execution_mode = onnxrun.ExecutionMode.ORT_PARALLEL
    so.add_session_config_entry("session.parallel_min_gain", "0")  # concurrent path always
    sess = session(_gather_model(), so)
    good = {"I": np.array([2, 5], np.int64)}
    expected = sess.run(None, good)[0]
    for _ in range(3):
        with pytest.raises(InvalidArgument):
            sess.run(None, {"I": np.array([-11], np.int64)})
        np.testing.assert_array_equal(sess.run(None, good)[0], expected)


def test_refused_size_bomb_at_run_leaves_session_usable():
    needs("ConstantOfShape")
    model = make_model([helper.make_node("ConstantOfShape", ["S"], ["Y"], name="cos")],
                       [vi("S", I64, [2])], [vi("Y")])
    sess = session(model, cap_options(1 << 20))
    with pytest.raises(InvalidArgument):
        sess.run(None, {"S": np.array([1 << 20, 1 << 20], np.int64)})
    assert sess.run(None, {"S": np.array([2, 3], np.int64)})[0].shape == (2, 3)


def _threaded_model():
    """Batch-size-agnostic model with a subgraph: Y = If(c, Softmax(X@W1+b)@W2, ...)."""
    rng = np.random.default_rng(2)
    w1 = rng.standard_normal((16, 32)).astype(np.float32)
    w2 = rng.standard_normal((32, 8)).astype(np.float32)
    b = rng.standard_normal((32,)).astype(np.float32)
    then = helper.make_graph([helper.make_node("MatMul", ["H", "W2"], ["T"], name="mm2")],
                             "then", [], [vi("T", F, ["N", 8])])
    other = helper.make_graph([helper.make_node("ReduceSum", ["H", "ax"], ["E"], name="rs",
                                                keepdims=1),
                               helper.make_node("Expand", ["E", "shape8"], ["E8"], name="ex")],
                              "else", [], [vi("E8", F, ["N", 8])])
    nodes = [helper.make_node("MatMul", ["X", "W1"], ["P"], name="mm1"),
             helper.make_node("Add", ["P", "B"], ["Q"], name="add"),
             helper.make_node("Softmax", ["Q"], ["H"], name="sm", axis=-1),
             helper.make_node("Shape", ["X"], ["xs"], name="shape"),
             helper.make_node("Slice", ["xs", "zero", "one", "zero"], ["n"], name="slice"),
             helper.make_node("Concat", ["n", "eight"], ["shape8"], name="cat", axis=0),
             helper.make_node("If", ["C"], ["Y"], name="if", then_branch=then,
                              else_branch=other)]
    inits = [onnx.numpy_helper.from_array(w1, "W1"), onnx.numpy_helper.from_array(w2, "W2"),
             onnx.numpy_helper.from_array(b, "B"),
             onnx.numpy_helper.from_array(np.array([1], np.int64), "ax"),
             onnx.numpy_helper.from_array(np.array([0], np.int64), "zero"),
             onnx.numpy_helper.from_array(np.array([1], np.int64), "one"),
             onnx.numpy_helper.from_array(np.array([8], np.int64), "eight")]
    return make_model(nodes, [vi("X", F, ["N", 16]), vi("C", TensorProto.BOOL, [])],
                      [vi("Y", F, ["N", 8])], inits)


@pytest.mark.parametrize("mode", ["sequential", "parallel"])
def test_eight_threads_get_single_thread_results(mode):
    needs("MatMul", "Add", "Softmax", "If", "ReduceSum", "Expand", "Shape", "Slice", "Concat")
    so = onnxrun.SessionOptions()
    if mode == "parallel":
        so.execution_mode = onnxrun.ExecutionMode.ORT_PARALLEL
        so.add_session_config_entry("session.parallel_min_gain", "0")
    sess = session(_threaded_model(), so)
    rng = np.random.default_rng(3)
    jobs = []
    for k in range(8):
        x = rng.standard_normal((k + 1, 16)).astype(np.float32)
        c = np.array(k % 2 == 0)
        jobs.append(({"X": x, "C": c}, sess.run(None, {"X": x, "C": c})[0]))
    errors, mismatches = [], []
    start = threading.Barrier(8)

    def worker(k):
        feeds, expected = jobs[k]
        try:
            start.wait()
            for _ in range(15):
                out = sess.run(None, feeds)[0]
                if out.shape != expected.shape or not np.array_equal(out, expected):
                    mismatches.append(k)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert not mismatches, sorted(set(mismatches))


def _endless_loop_model(trip=2 ** 62, with_trip=True):
    body = helper.make_graph(
        [helper.make_node("Add", ["s_in", "one"], ["s_out"], name="body_add"),
         helper.make_node("Identity", ["c_in"], ["c_out"], name="body_id")],
        "body", [vi("i", I64, []), vi("c_in", TensorProto.BOOL, []), vi("s_in", F, [1])],
        [vi("c_out", TensorProto.BOOL, []), vi("s_out", F, [1])],
        [onnx.numpy_helper.from_array(np.ones(1, np.float32), "one")])
    inits = [onnx.numpy_helper.from_array(np.array(True), "C")]
    if with_trip:
        inits.append(onnx.numpy_helper.from_array(np.array(trip, np.int64), "M"))
    node = helper.make_node("Loop", ["M" if with_trip else "", "C", "S"], ["Y"], name="loop",
                            body=body)
    return make_model([node], [vi("S", F, [1])], [vi("Y", F, [1])], inits)


@pytest.mark.parametrize("with_trip", [True, False], ids=["trip_2_62", "no_trip_count"])
def test_terminate_from_another_thread_ends_endless_loop(with_trip):
    needs("Loop", "Add", "Identity")
    sess = session(_endless_loop_model(with_trip=with_trip))
    ro = onnxrun.RunOptions()
    stamp = {}

    def stopper():
        time.sleep(0.3)
        stamp["set"] = time.perf_counter()
        ro.terminate = True

    t = threading.Thread(target=stopper)
    t.start()
    try:
        with pytest.raises(Fail, match="Exiting due to terminate flag being set to true"):
            sess.run(None, {"S": np.zeros(1, np.float32)}, ro)
        ended = time.perf_counter()
    finally:
        ro.terminate = True  # never leave the loop running if the assertion fails
        t.join()
    assert ended - stamp["set"] < 1.0
    # a preset flag fails at once, clearing it makes the options reusable
    t0 = time.perf_counter()
    with pytest.raises(Fail, match="Exiting due to terminate flag being set to true"):
        sess.run(None, {"S": np.zeros(1, np.float32)}, ro)
    assert time.perf_counter() - t0 < 0.5
    ro.terminate = False
    small = session(_endless_loop_model(trip=5))
    np.testing.assert_array_equal(small.run(None, {"S": np.zeros(1, np.float32)}, ro)[0], [5.0])


def test_preset_terminate_message_matches_onnxruntime():
    needs("Loop", "Add", "Identity")
    ort = pytest.importorskip("onnxruntime")
    model = _endless_loop_model(trip=3)
    ro = onnxrun.RunOptions()
    ro.terminate = True
    with pytest.raises(Fail) as ours:
        session(model).run(None, {"S": np.zeros(1, np.float32)}, ro)
    oro = ort.RunOptions()
    oro.terminate = True
    with pytest.raises(Exception) as theirs:
        ort_session(model).run(None, {"S": np.zeros(1, np.float32)}, oro)
    assert str(ours.value) == str(theirs.value)
    assert type(theirs.value).__name__ == "Fail"


def test_terminate_in_parallel_mode():
    needs("Loop", "Add", "Identity")
    so = onnxrun.SessionOptions()
    so.execution_mode = onnxrun.ExecutionMode.ORT_PARALLEL
    sess = session(_endless_loop_model(), so)
    ro = onnxrun.RunOptions()
    timer = threading.Timer(0.2, lambda: setattr(ro, "terminate", True))
    timer.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(Fail, match="terminate"):
            sess.run(None, {"S": np.zeros(1, np.float32)}, ro)
    finally:
        ro.terminate = True
        timer.join()
    assert time.perf_counter() - t0 < 2.0


# ---- NaN and Inf -----------------------------------------------------------------------------

UNARY = ["Log", "Sqrt", "Exp", "Reciprocal", "Sigmoid", "Tanh", "Erf", "Asin", "Acos", "Acosh",
         "Atanh", "Softplus", "Softsign", "Relu", "Abs", "Neg", "Floor", "Ceil", "Round", "Sign",
         "IsNaN", "IsInf", "Cos", "Sin", "Tan", "Cosh", "Sinh", "Elu", "Selu", "HardSigmoid",
         "Mish", "LeakyRelu", "ThresholdedRelu", "Celu", "HardSwish"]
BINARY = [("Div", {}), ("Mul", {}), ("Sub", {}), ("Add", {}), ("Pow", {}), ("Max", {}),
          ("Min", {}), ("Mod", {"fmod": 1}), ("Greater", {}), ("Equal", {})]
REDUCING = [("Softmax", {}), ("LogSoftmax", {}), ("ReduceMean", {"keepdims": 0}),
            ("ReduceLogSumExp", {"keepdims": 0}), ("ReduceMax", {"keepdims": 0}),
            ("ReduceProd", {"keepdims": 0}), ("ReduceL2", {"keepdims": 0}), ("ArgMax", {}),
            ("LpNormalization", {}), ("MeanVarianceNormalization", {"axes": [1]})]


def _nan_model():
    nodes, outs = [], []

    def add(op, ins, attrs=None, name=None):
        name = name or op
        nodes.append(helper.make_node(op, ins, [f"o_{name}"], name=name, **(attrs or {})))
        outs.append(helper.make_empty_tensor_value_info(f"o_{name}"))

    for op in UNARY:
        add(op, ["X"])
    for op, attrs in BINARY:
        add(op, ["X", "Z"], attrs)
    for op, attrs in REDUCING:
        add(op, ["X"], attrs)
    add("CumSum", ["X", "ax"])
    add("Clip", ["X", "lo", "hi"])
    add("MatMul", ["X", "Zt"])
    add("Cast", ["X"], {"to": TensorProto.FLOAT16}, name="Cast16")
    add("Cast", ["X"], {"to": TensorProto.INT32}, name="CastInt")  # undefined values: not compared
    nodes.append(helper.make_node("Transpose", ["Z"], ["Zt"], name="tr"))
    inits = [onnx.numpy_helper.from_array(np.array(0, np.int64), "ax"),
             onnx.numpy_helper.from_array(np.array(-1, np.float32), "lo"),
             onnx.numpy_helper.from_array(np.array(1, np.float32), "hi")]
    ops = {n.op_type for n in nodes}
    return make_model(nodes, [vi("X", F, [2, 8]), vi("Z", F, [2, 8])], outs, inits,
                      opset=20), ops


X_NAN = np.array([[np.nan, np.inf, -np.inf, 0.0, -1.0, 1e38, -0.0, 2.0],
                  [1.0, 2.0, 3.0, np.inf, 5.0, -np.inf, 7.0, 8.0]], np.float32)
Z_NAN = np.array([[0.0, 0.0, 0.0, 0.0, 0.0, 1e-38, -0.0, np.inf],
                  [np.nan, -0.0, 0.0, np.inf, -np.inf, 3.0, 0.5, -2.0]], np.float32)


@pytest.mark.parametrize("mode", ["sequential", "parallel"])
def test_nan_inf_flow_like_onnxruntime_without_warnings(mode, recwarn):
    model, ops = _nan_model()
    needs(*sorted(ops))
    so = onnxrun.SessionOptions()
    if mode == "parallel":
        so.execution_mode = onnxrun.ExecutionMode.ORT_PARALLEL
    warnings.simplefilter("always")
    sess = session(model, so)
    ours = sess.run(None, {"X": X_NAN, "Z": Z_NAN})
    assert not [str(w.message) for w in recwarn.list]
    theirs = ort_session(model).run(None, {"X": X_NAN, "Z": Z_NAN})
    names = [o.name for o in model.graph.output]
    for name, a, b in zip(names, ours, theirs):
        assert a.dtype == b.dtype and a.shape == b.shape, name
        if name == "o_CastInt":
            continue
        if a.dtype.kind == "f":
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=name)
            np.testing.assert_array_equal(np.isinf(a) * np.sign(a), np.isinf(b) * np.sign(b),
                                          err_msg=name)
            np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=2e-6,
                                       atol=0, equal_nan=True, err_msg=name)
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_no_warnings_at_load_when_folding_nan_constants(recwarn):
    needs("Log", "Div", "Sqrt")
    warnings.simplefilter("always")
    c = onnx.numpy_helper.from_array(np.array([-1.0, 0.0, np.nan], np.float32), "c")
    nodes = [helper.make_node("Log", ["c"], ["l"], name="log"),
             helper.make_node("Div", ["l", "c"], ["d"], name="div"),
             helper.make_node("Sqrt", ["d"], ["s"], name="sqrt"),
             helper.make_node("Add", ["s", "X"], ["Y"], name="add")]
    sess = session(make_model(nodes, [vi("X", F, [3])], [vi("Y", F, [3])], [c]))
    out = sess.run(None, {"X": np.zeros(3, np.float32)})[0]
    assert np.isnan(out).all()
    assert not [str(w.message) for w in recwarn.list]


# ---- errors raised inside kernels ------------------------------------------------------------

_DOMAIN = "test.reliability"


def _register_failing_ops():
    from onnxrun.kernels.registry import REGISTRY
    if REGISTRY.has_op(_DOMAIN, "Boom"):
        return

    @onnxrun.custom_op(_DOMAIN, "Boom")
    def boom(x, *, kind="zero"):
        if kind == "zero":
            return 1 // (x.size - x.size)
        if kind == "memory":
            raise MemoryError("pretend the allocation failed")
        if kind == "key":
            return {}["missing"]
        if kind == "ok":
            return x
        raise InvalidArgument("kernel says the data is bad")


@pytest.mark.parametrize("kind,cls,text", [
    ("zero", Fail, "integer division or modulo by zero"),
    ("memory", Fail, "pretend the allocation failed"),
    ("key", Fail, "missing"),
    ("invalid", InvalidArgument, "kernel says the data is bad"),
])
def test_kernel_exception_reported_like_onnxruntime(kind, cls, text):
    _register_failing_ops()
    model = make_model([helper.make_node("Boom", ["X"], ["Y"], name="my_boom", domain=_DOMAIN,
                                         kind=kind)],
                       [vi("X", F, [2])], [vi("Y", F, [2])], extra_opsets=[(_DOMAIN, 1)])
    so = onnxrun.SessionOptions()
    so.graph_optimization_level = onnxrun.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = session(model, so)
    with pytest.raises(cls) as info:
        sess.run(None, {"X": np.ones(2, np.float32)})
    msg = str(info.value)
    assert msg.startswith(f"[ONNXRuntimeError] : {cls.code} : {cls.code_name} : Non-zero status "
                          "code returned while running Boom node. Name:'my_boom' Status "
                          "Message: "), msg
    assert text in msg


_RACE = r"""
import importlib, json, sys, threading, time
import numpy as np, onnx
from onnx import helper as h
real = importlib.import_module
def slow(name, *a, **k):  # widen the window in which first-use initialisation can interleave
    time.sleep(0.005)
    return real(name, *a, **k)
importlib.import_module = slow
import onnxrun
from onnxrun.kernels import load_all
load_all()
nodes = [h.make_node("MatMul", ["X", "W"], ["P"]), h.make_node("Add", ["P", "B"], ["Q"]),
         h.make_node("Relu", ["Q"], ["Y"])]
g = h.make_graph(nodes, "g", [h.make_tensor_value_info("X", 1, ["N", 4])],
                 [h.make_tensor_value_info("Y", 1, None)],
                 [onnx.numpy_helper.from_array(np.ones((4, 4), np.float32), "W"),
                  onnx.numpy_helper.from_array(np.ones(4, np.float32), "B")])
m = h.make_model(g, opset_imports=[h.make_opsetid("", 17)])
m.ir_version = 10
data = m.SerializeToString()
res = [None] * 8
bar = threading.Barrier(8)
def go(k):
    bar.wait()
    s = onnxrun.InferenceSession(data, providers=["CPUExecutionProvider"])
    res[k] = [n.op_type for n in s._core.graph.nodes]
ts = [threading.Thread(target=go, args=(k,)) for k in range(8)]
[t.start() for t in ts]
[t.join() for t in ts]
from onnxrun.optimizer import transformers
names = [t.NAME for t in transformers()]
print(json.dumps({"graphs": sorted(set(map(tuple, res))), "names": names}))
"""


def test_concurrent_first_sessions_get_the_same_optimized_graph():
    import json
    import os
    import subprocess
    import sys
    needs("MatMul", "Add", "Relu")
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    env = dict(os.environ, PYTHONPATH=os.path.join(root, "src"))
    proc = subprocess.run([sys.executable, "-c", _RACE], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(out["graphs"]) == 1, out["graphs"]
    assert len(out["names"]) == len(set(out["names"])), out["names"]
