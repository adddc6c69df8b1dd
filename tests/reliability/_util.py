"""Helpers shared by the reliability tests: small models built with onnx.helper, the
onnxruntime oracle, and a guard for ops whose kernels are still being written."""

from __future__ import annotations

from typing import Iterable, Optional, Sequence

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import onnxrun
from onnxrun.errors import OnnxRuntimeError

IR_VERSION = 10  # what the onnxruntime used as oracle accepts
OPSET = 17

F = TensorProto.FLOAT
I64 = TensorProto.INT64


def vi(name: str, elem: int = F, shape: Optional[Sequence] = None):
    """A ValueInfoProto (``shape=None``: unknown rank)."""
    return helper.make_tensor_value_info(name, elem, shape)


def make_model(nodes, inputs, outputs, inits: Iterable = (), opset: int = OPSET,
               extra_opsets: Iterable = (), sparse: Iterable = (), functions: Iterable = ()):
    """A model with IR version 10 (so onnxruntime, the oracle, accepts it)."""
    g = helper.make_graph(list(nodes), "g", list(inputs), list(outputs), list(inits),
                          sparse_initializer=list(sparse))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)] + [
        helper.make_opsetid(d, v) for d, v in extra_opsets], functions=list(functions))
    m.ir_version = IR_VERSION
    return m


def raw_tensor(name: str, elem: int, dims: Sequence[int], raw: bytes) -> TensorProto:
    """A TensorProto with raw_data exactly as given (no size check, unlike onnx.helper)."""
    t = TensorProto()
    t.name = name
    t.data_type = elem
    t.dims.extend(dims)
    t.raw_data = raw
    return t


def needs(*ops: str, domain: str = "") -> None:
    """xfail (not strict) the calling test when a kernel it needs is not written yet."""
    from onnxrun.kernels import REGISTRY, load_all
    load_all()
    missing = [op for op in ops if not REGISTRY.has_op(domain, op)]
    if missing:
        pytest.xfail(f"kernel pending: {', '.join(missing)}")


def session(model, options: Optional[onnxrun.SessionOptions] = None):
    src = model.SerializeToString() if isinstance(model, onnx.ModelProto) else model
    return onnxrun.InferenceSession(src, options, providers=["CPUExecutionProvider"])


def ort_session(model):
    ort = pytest.importorskip("onnxruntime")
    so = ort.SessionOptions()
    so.log_severity_level = 4
    src = model.SerializeToString() if isinstance(model, onnx.ModelProto) else model
    return ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])


def ort_error(fn):
    """(class name, message) of the error onnxruntime raises from ``fn()``, or None."""
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the oracle's error, whatever it is
        return type(exc).__name__, str(exc)
    return None


def our_error(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        return exc
    return None


def expect_error(fn, cls=OnnxRuntimeError, match: Optional[str] = None):
    """Run ``fn`` and check it raises ``cls`` (an onnxrun class) and nothing broader."""
    with pytest.raises(cls, match=match) as info:
        fn()
    assert not isinstance(info.value, RecursionError)
    return info.value


def cap_options(max_bytes: int) -> onnxrun.SessionOptions:
    so = onnxrun.SessionOptions()
    so.add_session_config_entry("session.max_tensor_bytes", str(max_bytes))
    return so


def const_i64(name: str, values) -> TensorProto:
    arr = np.asarray(values, dtype=np.int64)
    return onnx.numpy_helper.from_array(arr, name)
