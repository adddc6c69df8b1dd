"""Tracing and intermediate values through the public API."""

import numpy as np
import pytest

import onnxrun
from onnxrun.tools.tracing import Tracer

from .models import chain, conv_relu, relu_log


def _session(m, level=onnxrun.GraphOptimizationLevel.ORT_ENABLE_ALL):
    opts = onnxrun.SessionOptions()
    opts.graph_optimization_level = level
    return onnxrun.InferenceSession(m.SerializeToString(), opts)


def test_intermediate_value_hidden_by_fusion():
    m = conv_relu()
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 8)).astype(np.float32)
    ref = _session(m, onnxrun.GraphOptimizationLevel.ORT_DISABLE_ALL)
    fused = _session(m)
    want_conv, want_y = ref.run(["conv_out", "y"], {"x": x})
    assert (want_conv < 0).any()  # the Relu after it changes something
    conv, y = fused.run(["conv_out", "y"], {"x": x})
    np.testing.assert_allclose(conv, want_conv, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(y, want_y, rtol=1e-5, atol=1e-6)
    # plain outputs still come from the fused plan
    np.testing.assert_allclose(fused.run(None, {"x": x})[0], want_y, rtol=1e-5, atol=1e-6)


def test_tracer_context_manager_records_nodes():
    sess = _session(chain(), onnxrun.GraphOptimizationLevel.ORT_DISABLE_ALL)
    x = np.ones((3, 4), np.float32)
    with Tracer(sess) as t:
        sess.run(None, {"x": x})
    assert [r.op_type for r in t.records] == ["Add", "Tanh", "Mul", "Sigmoid", "Neg"]
    add = t.records[0]
    assert add.name == "add" and add.provider == "CPUExecutionProvider"
    assert add.input_names == ["x", "c"] and add.output_names == ["a"]
    assert add.input_shapes == [(3, 4), (4,)] and add.output_shapes == [(3, 4)]
    assert add.input_dtypes == ["float32", "float32"] and add.output_dtypes == ["float32"]
    assert all(r.duration >= 0 for r in t.records) and t.runs == 1
    assert "Tanh" in t.summary()
    assert t.by_op_type()[0][2] == 1
    # detached after the block
    sess.run(None, {"x": x})
    assert len(t.records) == 5


def test_tracer_as_run_option_hook():
    sess = _session(chain())
    tracer = onnxrun.Tracer()
    ro = onnxrun.RunOptions()
    ro.hooks.append(tracer)
    sess.run(None, {"x": np.zeros((2, 4), np.float32)}, ro)
    assert tracer.records and all(r.output_shapes[0] == (2, 4) for r in tracer.records)
    assert tracer.records[0].as_dict()["op_type"]


def test_check_finite_names_first_node():
    sess = _session(relu_log())
    x = np.array([-1.0, 1.0, 2.0], np.float32)
    with pytest.raises(onnxrun.Fail) as info:
        with Tracer(sess, check_finite=True):
            sess.run(None, {"x": x})
    msg = str(info.value)
    assert "'log'" in msg and "Log" in msg and "'l'" in msg and "Inf" in msg
    # finite inputs pass
    with Tracer(sess, check_finite=True) as t:
        sess.run(None, {"x": np.array([1.0, 2.0, 3.0], np.float32)})
    # Relu and Log run as one fused chain node at this level
    assert [r.op_type for r in t.records] == ["ElementwiseChain", "Add"]
    # the session works normally again
    assert np.isinf(sess.run(None, {"x": x})[0][0])


def test_nested_tracers():
    sess = _session(chain(), onnxrun.GraphOptimizationLevel.ORT_DISABLE_ALL)
    feeds = {"x": np.ones((1, 4), np.float32)}
    with Tracer(sess) as outer:
        with Tracer(sess) as inner:
            sess.run(None, feeds)
        sess.run(None, feeds)
    sess.run(None, feeds)
    assert len(inner.records) == 5 and len(outer.records) == 10
    assert "_hooks" not in vars(sess)
