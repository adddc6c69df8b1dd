"""The seed model, mutations and the pass/fail rule shared by the fuzz test and
scripts/fuzz_atheris.py."""

from __future__ import annotations

import math
import threading
from typing import Dict, Optional

import numpy as np
import onnx
from onnx import TensorProto, helper

import onnxrun
from onnxrun.errors import OnnxRuntimeError

FUZZ_CAP = 1 << 20  # session.max_tensor_bytes while fuzzing: mutated shapes stay small
RUN_SECONDS = 2.0   # a run still going after this is terminated (RunOptions.terminate)

ELEM_TYPES = [TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.INT64, TensorProto.INT32,
              TensorProto.BOOL, TensorProto.FLOAT16, TensorProto.UINT8, TensorProto.INT8,
              TensorProto.STRING]


def seed_model() -> onnx.ModelProto:
    """A small model touching initializers, attributes, a Constant, a subgraph and a
    data-dependent shape: mutations of it reach the loader, converter, optimizer and kernels."""
    f = TensorProto.FLOAT
    rng = np.random.default_rng(0)
    w = onnx.numpy_helper.from_array(rng.standard_normal((3, 4)).astype(np.float32), "W")
    b = onnx.numpy_helper.from_array(rng.standard_normal((4,)).astype(np.float32), "B")
    idx = onnx.numpy_helper.from_array(np.array([0, 2], np.int64), "idx")
    then = helper.make_graph([helper.make_node("Relu", ["H"], ["T"], name="then_relu")], "then",
                             [], [helper.make_tensor_value_info("T", f, ["N", 4])])
    other = helper.make_graph([helper.make_node("Neg", ["H"], ["E"], name="else_neg")], "else",
                              [], [helper.make_tensor_value_info("E", f, ["N", 4])])
    nodes = [
        helper.make_node("MatMul", ["X", "W"], ["P"], name="mm"),
        helper.make_node("Add", ["P", "B"], ["H"], name="add"),
        helper.make_node("ReduceSum", ["H"], ["S"], name="rsum", keepdims=0),
        helper.make_node("Constant", [], ["zero"], name="const",
                         value=helper.make_tensor("z", f, [], [0.0])),
        helper.make_node("Greater", ["S", "zero"], ["C"], name="gt"),
        helper.make_node("If", ["C"], ["Y0"], name="if", then_branch=then, else_branch=other),
        helper.make_node("Gather", ["Y0", "idx"], ["G"], name="gather", axis=1),
        helper.make_node("Softmax", ["G"], ["Y"], name="softmax", axis=-1),
        helper.make_node("Transpose", ["X"], ["XT"], name="tr", perm=[1, 0]),
        helper.make_node("Shape", ["XT"], ["shp"], name="shape"),
        helper.make_node("ConstantOfShape", ["shp"], ["Z"], name="cos",
                         value=helper.make_tensor("v", f, [1], [1.0])),
    ]
    g = helper.make_graph(nodes, "seed", [helper.make_tensor_value_info("X", f, ["N", 3])],
                          [helper.make_tensor_value_info("Y", f, ["N", 2]),
                           helper.make_tensor_value_info("Z", f, [3, "N"])], [w, b, idx])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 10
    return m


def allowed(exc: BaseException) -> bool:
    """Errors a hostile model or feed may cause: onnxrun's classes, and the ValueError /
    TypeError onnxruntime itself raises for feeds (missing inputs, unconvertible values)."""
    if isinstance(exc, OnnxRuntimeError):
        return True
    if type(exc) is ValueError and str(exc).startswith("Required inputs"):
        return True
    return False


def feeds_for(sess, rng: np.random.Generator) -> Optional[Dict[str, np.ndarray]]:
    """Plausible feeds from the declared inputs (None when a declared shape is too big)."""
    feeds = {}
    for arg in sess.get_inputs():
        t = arg.type
        if not (isinstance(t, str) and t.startswith("tensor(")):
            return None
        shape = [d if isinstance(d, int) and d >= 0 else 2 for d in (arg.shape or [])]
        if math.prod(shape) > 4096:
            return None
        elem = t[len("tensor("):-1]
        if elem == "string":
            feeds[arg.name] = np.full(shape, "a", dtype=object)
            continue
        try:
            dtype = np.dtype({"float": "float32", "double": "float64", "float16": "float16",
                              "bool": "bool"}.get(elem, elem))
        except TypeError:
            return None
        feeds[arg.name] = (rng.standard_normal(shape) * 3).astype(dtype)
    return feeds


def options() -> onnxrun.SessionOptions:
    so = onnxrun.SessionOptions()
    so.add_session_config_entry("session.max_tensor_bytes", str(FUZZ_CAP))
    return so


def run_guarded(sess, feeds) -> None:
    """Run with a watchdog that sets RunOptions.terminate after RUN_SECONDS."""
    ro = onnxrun.RunOptions()
    timer = threading.Timer(RUN_SECONDS, lambda: setattr(ro, "terminate", True))
    timer.daemon = True
    timer.start()
    try:
        sess.run(None, feeds, ro)
    finally:
        timer.cancel()


def load_and_run(data, rng: np.random.Generator) -> None:
    """Load ``data`` (bytes or ModelProto) and run it once on plausible feeds; raise what
    onnxrun raises."""
    sess = onnxrun.InferenceSession(data, options(), providers=["CPUExecutionProvider"])
    feeds = feeds_for(sess, rng)
    if feeds is not None:
        run_guarded(sess, feeds)


def check(data, rng: np.random.Generator) -> Optional[BaseException]:
    """None when ``data`` loads and runs or fails with an allowed error; else the exception."""
    try:
        load_and_run(data, rng)
    except Exception as exc:  # noqa: BLE001 - the point of a fuzzer
        if not allowed(exc):
            return exc
    return None
