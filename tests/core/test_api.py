"""The public API against onnxruntime's: construction, introspection, options, errors."""

import os

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import onnxrun
from onnxrun.capi.onnxruntime_pybind11_state import (Fail, InvalidArgument, InvalidGraph,
                                                     InvalidProtobuf, NoSuchFile)

from .models import mlp

X = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "mlp.onnx"
    onnx.save(mlp(), str(path))
    return str(path)


def _ref(model):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("source", ["path", "pathlike", "bytes", "proto"])
def test_session_sources(model_path, source):
    from pathlib import Path
    src = {"path": model_path, "pathlike": Path(model_path),
           "bytes": open(model_path, "rb").read(), "proto": onnx.load(model_path)}[source]
    sess = onnxrun.InferenceSession(src)
    expected = _ref(mlp()).run(None, {"x": X})
    got = sess.run(None, {"x": X})
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-5, atol=1e-6)


def test_wrong_source_type():
    with pytest.raises(TypeError, match="Unable to load from type"):
        onnxrun.InferenceSession(3)


def test_missing_file_and_bad_bytes(tmp_path):
    with pytest.raises(NoSuchFile, match=r"\[ONNXRuntimeError\] : 3 : NO_SUCHFILE"):
        onnxrun.InferenceSession(str(tmp_path / "absent.onnx"))
    with pytest.raises(InvalidProtobuf, match="protobuf parsing failed"):
        onnxrun.InferenceSession(b"\xff\xff garbage")
    with pytest.raises(InvalidArgument, match="No graph was found"):
        onnxrun.InferenceSession(b"")


def test_node_args_match_onnxruntime():
    m = mlp()
    ours, ref = onnxrun.InferenceSession(m), _ref(m)
    for a, b in zip(ours.get_inputs() + ours.get_outputs(), ref.get_inputs() + ref.get_outputs()):
        assert (a.name, a.type, a.shape) == (b.name, b.type, b.shape)
    assert ours.get_overridable_initializers() == [] and ref.get_overridable_initializers() == []


@pytest.mark.parametrize("ir_version", [3, 4, 8])
def test_overridable_initializers(ir_version):
    m = mlp(ir_version=ir_version)
    m.graph.input.extend([onnx.helper.make_tensor_value_info("w2", onnx.TensorProto.FLOAT, [8, 3])])
    ours, ref = onnxrun.InferenceSession(m), _ref(m)
    assert [(a.name, a.type, a.shape) for a in ours.get_overridable_initializers()] == \
        [(a.name, a.type, a.shape) for a in ref.get_overridable_initializers()]
    if ir_version < 4:
        assert ours.get_overridable_initializers() == []
        return
    w2 = np.ones((8, 3), np.float32)
    np.testing.assert_allclose(ours.run(None, {"x": X, "w2": w2})[0],
                               ref.run(None, {"x": X, "w2": w2})[0], rtol=1e-5)
    np.testing.assert_allclose(ours.run(None, {"x": X})[0], ref.run(None, {"x": X})[0], rtol=1e-5)


def test_model_metadata():
    m = mlp()
    a, b = onnxrun.InferenceSession(m).get_modelmeta(), _ref(m).get_modelmeta()
    for field in ("producer_name", "graph_name", "domain", "description", "graph_description",
                  "version", "custom_metadata_map"):
        assert getattr(a, field) == getattr(b, field), field


def test_providers_and_options():
    sess = onnxrun.InferenceSession(mlp(), providers=["CPUExecutionProvider"])
    assert sess.get_providers() == ["CPUExecutionProvider"]
    assert sess.get_provider_options() == {"CPUExecutionProvider": {}}
    sess.set_providers(["CPUExecutionProvider"])
    assert sess.run(None, {"x": X})[0].shape == (5, 3)
    assert onnxrun.get_available_providers()[-1] == "CPUExecutionProvider"
    assert "CUDAExecutionProvider" in onnxrun.get_all_providers()
    assert onnxrun.get_device() == "CPU"
    assert onnxrun.get_version_string() == onnxrun.__version__
    so = sess.get_session_options()
    assert isinstance(so, onnxrun.SessionOptions)


def test_session_options_attributes():
    so = onnxrun.SessionOptions()
    ref = ort.SessionOptions()
    for name in ("graph_optimization_level", "execution_mode", "intra_op_num_threads",
                 "inter_op_num_threads", "log_severity_level", "log_verbosity_level", "logid",
                 "enable_profiling", "profile_file_prefix", "optimized_model_filepath",
                 "enable_cpu_mem_arena", "enable_mem_pattern", "enable_mem_reuse"):
        assert hasattr(so, name)
        if name not in ("profile_file_prefix",):
            assert int(getattr(so, name)) == int(getattr(ref, name)) if not isinstance(
                getattr(ref, name), str) else getattr(so, name) == getattr(ref, name), name
    so.add_session_config_entry("session.some_key", "1")
    assert so.get_session_config_entry("session.some_key") == "1"
    so.add_free_dimension_override_by_name("N", 5)
    sess = onnxrun.InferenceSession(mlp(), so)
    assert sess.get_inputs()[0].shape == [5, 4]


def test_add_initializer_overrides_weights():
    so = onnxrun.SessionOptions()
    w1 = np.zeros((4, 8), np.float32)
    so.add_initializer("w1", w1)
    out = onnxrun.InferenceSession(mlp(), so).run(None, {"x": X})[0]
    np.testing.assert_array_equal(out, np.zeros((5, 3), np.float32))


def test_enums_match_onnxruntime():
    for name in ("ORT_DISABLE_ALL", "ORT_ENABLE_BASIC", "ORT_ENABLE_EXTENDED", "ORT_ENABLE_LAYOUT",
                 "ORT_ENABLE_ALL"):
        assert int(getattr(onnxrun.GraphOptimizationLevel, name)) == int(
            getattr(ort.GraphOptimizationLevel, name))
    for name in ("ORT_SEQUENTIAL", "ORT_PARALLEL"):
        assert int(getattr(onnxrun.ExecutionMode, name)) == int(getattr(ort.ExecutionMode, name))


def test_run_options():
    ro = onnxrun.RunOptions()
    ro.run_tag = "tag"
    ro.log_severity_level = 3
    ro.add_run_config_entry("k", "v")
    assert ro.get_run_config_entry("k") == "v"
    assert ro.terminate is False
    out = onnxrun.InferenceSession(mlp()).run(None, {"x": X}, ro)
    assert out[0].shape == (5, 3)
    ro.terminate = True
    with pytest.raises(Fail, match="terminate flag"):
        onnxrun.InferenceSession(mlp()).run(None, {"x": X}, ro)
    ro.terminate = False
    assert onnxrun.InferenceSession(mlp()).run(None, {"x": X}, ro)[0].shape == (5, 3)


def test_module_functions():
    onnxrun.set_default_logger_severity(3)
    onnxrun.disable_telemetry_events()
    onnxrun.enable_telemetry_events()
    with pytest.raises(ValueError):
        onnxrun.set_default_logger_severity(9)
    onnxrun.set_default_logger_severity(2)


def test_exception_classes_and_codes():
    for name in ("Fail", "InvalidArgument", "NoSuchFile", "NoModel", "EngineError",
                 "RuntimeException", "InvalidProtobuf", "ModelLoaded", "NotImplemented",
                 "InvalidGraph", "EPFail"):
        ours = getattr(onnxrun.capi.onnxruntime_pybind11_state, name)
        assert issubclass(ours, Exception)
        assert getattr(onnxrun, name) is ours
    assert str(InvalidArgument("x")) == "[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : x"
    assert str(InvalidGraph("y")).startswith("[ONNXRuntimeError] : 10 : INVALID_GRAPH")


def test_unknown_op_and_missing_kernel():
    m = mlp()
    m.graph.node[1].op_type = "NoSuchOp"
    with pytest.raises(InvalidGraph, match="No Op registered for NoSuchOp"):
        onnxrun.InferenceSession(m)
    with pytest.raises(Exception) as ref_err:
        _ref(m)
    assert "NoSuchOp" in str(ref_err.value)


def test_fetch_intermediate_values():
    sess = onnxrun.InferenceSession(mlp())
    h, y = sess.run(["h", "y"], {"x": X})
    ref = _ref(mlp())
    np.testing.assert_allclose(y, ref.run(None, {"x": X})[0], rtol=1e-5)
    w1 = onnx.numpy_helper.to_array(mlp().graph.initializer[0])
    np.testing.assert_allclose(h, X @ w1, rtol=1e-5)
    with pytest.raises(InvalidArgument, match="Invalid output name:nope"):
        sess.run(["nope"], {"x": X})


def test_outputs_are_owned_by_caller():
    m = mlp()
    m.graph.output.append(onnx.helper.make_tensor_value_info("w1", onnx.TensorProto.FLOAT, [4, 8]))
    sess = onnxrun.InferenceSession(m)
    _, w = sess.run(None, {"x": X})
    w[:] = 0
    _, w_again = sess.run(None, {"x": X})
    assert np.abs(w_again).sum() > 0


@pytest.mark.parametrize("level", list(onnxrun.GraphOptimizationLevel))
@pytest.mark.parametrize("mode", list(onnxrun.ExecutionMode))
def test_levels_and_modes(level, mode):
    so = onnxrun.SessionOptions()
    so.graph_optimization_level = level
    so.execution_mode = mode
    out = onnxrun.InferenceSession(mlp(), so).run(None, {"x": X})[0]
    np.testing.assert_allclose(out, _ref(mlp()).run(None, {"x": X})[0], rtol=1e-5, atol=1e-6)


def test_optimized_model_filepath(tmp_path):
    so = onnxrun.SessionOptions()
    so.optimized_model_filepath = str(tmp_path / "opt.onnx")
    onnxrun.InferenceSession(mlp(), so)
    saved = onnx.load(so.optimized_model_filepath)
    out = onnxrun.InferenceSession(saved).run(None, {"x": X})[0]
    np.testing.assert_allclose(out, _ref(mlp()).run(None, {"x": X})[0], rtol=1e-5, atol=1e-6)


def test_profiling(tmp_path):
    so = onnxrun.SessionOptions()
    so.enable_profiling = True
    so.profile_file_prefix = str(tmp_path / "prof")
    sess = onnxrun.InferenceSession(mlp(), so)
    sess.run(None, {"x": X})
    path = sess.end_profiling()
    import json
    events = json.load(open(path))
    ops = {e["args"].get("op_name") for e in events if e["cat"] == "Node"}
    assert {"Gemm", "Relu"} <= ops
    assert any(e["name"] == "session_initialization" for e in events)
