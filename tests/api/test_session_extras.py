"""InferenceSession behaviour beyond run: async runs, EP assignment, options read from the
model, dimension overrides, external initializers, logging, thread pools, errors."""

import os
import threading

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

import onnxrun
from onnxrun.session import logging_callback, model_config

from ._models import add_mul_add, model, mul_model, vi

X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float32)
MUL = mul_model().SerializeToString()


def test_run_async_calls_back_with_results_and_errors():
    sess = onnxrun.InferenceSession(MUL)
    done = threading.Event()
    seen = []

    def callback(results, data, err):
        seen.append((results, data, err))
        done.set()
    sess.run_async(["Y"], {"X": X}, callback, "user")
    assert done.wait(10)
    results, data, err = seen[0]
    assert data == "user" and err == ""
    np.testing.assert_array_equal(results[0], X * X)
    done.clear()
    sess.run_async(["Y"], {"X": X[:2]}, callback, None)
    assert done.wait(10)
    assert seen[1][0] is None and "Got invalid dimensions" in seen[1][2]


def test_provider_graph_assignment_info():
    so = onnxrun.SessionOptions()
    so.add_session_config_entry("session.record_ep_graph_assignment_info", "1")
    subgraphs = onnxrun.InferenceSession(add_mul_add().SerializeToString(), so) \
        .get_provider_graph_assignment_info()
    assert [s.ep_name for s in subgraphs] == ["CPUExecutionProvider"] * 3
    ids = sorted(f"{n.domain}:{n.op_type}/{n.name}" for s in subgraphs for n in s.get_nodes())
    assert ids == [":Add/add_0", ":Add/add_1", ":Mul/mul_0"]
    with pytest.raises(onnxrun.Fail, match="must be set to \"1\""):
        onnxrun.InferenceSession(MUL).get_provider_graph_assignment_info()


def test_options_from_model_metadata(monkeypatch):
    m = mul_model()
    h.set_model_props(m, {"ort_config": '{"session_options": {"inter_op_num_threads": 5, '
                                        '"intra_op_num_threads": 2, "execution_mode": 1}}'})
    data = m.SerializeToString()
    assert onnxrun.InferenceSession(data).get_session_options().inter_op_num_threads == 0
    monkeypatch.setenv("ORT_LOAD_CONFIG_FROM_MODEL", "1")
    opts = onnxrun.InferenceSession(data).get_session_options()
    ref = ort.InferenceSession(data).get_session_options()
    assert (opts.inter_op_num_threads, opts.intra_op_num_threads, int(opts.execution_mode)) == \
        (ref.inter_op_num_threads, ref.intra_op_num_threads, int(ref.execution_mode)) == (5, 2, 1)
    h.set_model_props(m, {"ort_config": '{"session_options": {"intra_op_num_threads": "2"}}'})
    with pytest.raises(onnxrun.InvalidArgument, match="must be an integer"):
        onnxrun.InferenceSession(m.SerializeToString())


def test_free_dimension_override_by_denotation():
    x = vi("x", T.FLOAT, ["N", "C", 5])
    x.type.tensor_type.shape.dim[0].denotation = "DATA_BATCH"
    x.type.tensor_type.shape.dim[1].denotation = "DATA_CHANNEL"
    m = model([h.make_node("Abs", ["x"], ["y"])], [x], [vi("y", T.FLOAT, ["N", "C", 5])])
    so = onnxrun.SessionOptions()
    so.add_free_dimension_override_by_denotation("DATA_BATCH", 3)
    sess = onnxrun.InferenceSession(m.SerializeToString(), so)
    assert sess.get_inputs()[0].shape == [3, "C", 5]
    with pytest.raises(onnxrun.InvalidArgument, match="index: 0 Got: 4 Expected: 3"):
        sess.run(None, {"x": np.ones((4, 2, 5), np.float32)})


def ext_model(location="weights_not_on_disk.bin"):
    t = numpy_helper.from_array(np.array([0, 0, 1, 1], np.int64), "P")
    t.ClearField("raw_data")
    t.data_location = T.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", "32")):
        e = t.external_data.add()
        e.key, e.value = k, v
    return model([h.make_node("Add", ["X", "P"], ["Y"])], [vi("X", T.INT64, [4])],
                 [vi("Y", T.INT64, [4])], [t])


def test_supplied_external_initializers(tmp_path):
    path = str(tmp_path / "m.onnx")
    onnx.save(ext_model(), path)
    x = {"X": np.arange(4, dtype=np.int64)}
    with pytest.raises(onnxrun.OnnxRuntimeError):
        onnxrun.InferenceSession(path)
    so = onnxrun.SessionOptions()
    so.add_external_initializers(["P"], [onnxrun.OrtValue.ortvalue_from_numpy(
        np.array([5, 6, 7, 8], np.int64))])
    np.testing.assert_array_equal(onnxrun.InferenceSession(path, so).run(None, x)[0], [5, 7, 9, 11])
    so.add_external_initializers(["Q"], [onnxrun.OrtValue.ortvalue_from_numpy(np.zeros(4))])
    with pytest.raises(onnxrun.InvalidArgument, match=r"\['Q'\] are not initializers"):
        onnxrun.InferenceSession(path, so)
    so = onnxrun.SessionOptions()
    data = np.array([0, 0, 1, 1], np.int64).tobytes()
    so.add_external_initializers_from_files_in_memory(["weights_not_on_disk.bin"], [data],
                                                      [len(data)])
    np.testing.assert_array_equal(onnxrun.InferenceSession(path, so).run(None, x)[0], [0, 1, 3, 4])
    so = onnxrun.SessionOptions()
    so.add_external_initializers_from_files_in_memory(["weights_not_on_disk.bin"], [data[:8]], [8])
    with pytest.raises(onnxrun.InvalidArgument, match="8 bytes"):
        onnxrun.InferenceSession(path, so)


def test_optimized_model_external_initializers_file(tmp_path):
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((16, 16)).astype(np.float32), "W")
    b = numpy_helper.from_array(rng.standard_normal(16).astype(np.float32), "B")
    m = model([h.make_node("MatMul", ["X", "W"], ["t"]), h.make_node("Add", ["t", "B"], ["Y"])],
              [vi("X", T.FLOAT, [2, 16])], [vi("Y", T.FLOAT, [2, 16])], [w, b])
    so = onnxrun.SessionOptions()
    so.optimized_model_filepath = str(tmp_path / "opt.onnx")
    so.add_session_config_entry("session.optimized_model_external_initializers_file_name",
                                "opt.bin")
    so.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes",
                                "100")
    onnxrun.InferenceSession(m.SerializeToString(), so)
    assert os.path.getsize(tmp_path / "opt.bin") >= 1024  # W (1 KiB) moved, B (64 B) kept
    x = rng.standard_normal((2, 16)).astype(np.float32)
    expected = ort.InferenceSession(m.SerializeToString()).run(None, {"X": x})[0]
    got = onnxrun.InferenceSession(str(tmp_path / "opt.onnx")).run(None, {"X": x})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_string_feeds_as_void_and_outputs_with_base():
    m = model([h.make_node("Identity", ["s"], ["t"])], [vi("s", T.STRING, [2, 2])],
              [vi("t", T.STRING, [2, 2])]).SerializeToString()
    x = np.array([b"must", b"have", b"same", b"size"], dtype=np.void).reshape(2, 2)
    for rt in (onnxrun, ort):
        out = rt.InferenceSession(m, providers=["CPUExecutionProvider"]).run(None, {"s": x})[0]
        assert out.tolist() == [["must", "have"], ["same", "size"]]
    out = onnxrun.InferenceSession(MUL).run(None, {"X": X})[0]
    assert out.base is not None


def test_plain_runtime_errors_where_onnxruntime_raises_them():
    with pytest.raises(RuntimeError, match="does not have configuration with key: k"):
        onnxrun.SessionOptions().get_session_config_entry("k")
    with pytest.raises(RuntimeError, match="does not have configuration with key: k"):
        onnxrun.RunOptions().get_run_config_entry("k")
    sess = onnxrun.InferenceSession(MUL)
    with pytest.raises(RuntimeError, match="Unknown Provider Type: InvalidProvider"):
        sess.set_providers(["InvalidProvider"])
    assert onnxrun.get_build_info().startswith("ORT Build Info")


def test_map_feed_with_wrong_key_type():
    node = h.make_node("DictVectorizer", ["m"], ["y"], domain="ai.onnx.ml",
                       int64_vocabulary=[1, 2, 3])
    m_in = h.make_value_info("m", h.make_map_type_proto(T.INT64, h.make_tensor_type_proto(T.FLOAT, [])))
    m = model([node], [m_in], [vi("y", T.FLOAT, None)], extra=[("ai.onnx.ml", 1)]).SerializeToString()
    for rt in (onnxrun, ort):
        sess = rt.InferenceSession(m, providers=["CPUExecutionProvider"])
        np.testing.assert_array_equal(sess.run(None, {"m": {2: 4.0, np.int64(3): 1.0}})[0],
                                      [[0, 4, 1]])
        with pytest.raises(Exception, match=r"Actual: \(\(map\(string,tensor\(float\)\)\)\)"):
            sess.run(None, {"m": {"2": 4.0}})
        for bad in ({2: 4.0, "3": 1.0}, {2: 1.0, 2.5: 1.0}, {2: "x"}):
            with pytest.raises(RuntimeError, match="Unexpected (key|value) type"):
                sess.run(None, {"m": bad})


def test_logger_callback_records_session_creation():
    records = []
    try:
        onnxrun.set_default_logger_callback(lambda *r: records.append(r), severity=0)
        onnxrun.InferenceSession(MUL)
        assert records and all(isinstance(r[0], int) and all(isinstance(f, str) for f in r[1:])
                               for r in records)

        def raising(*r):
            raise ValueError("ignored")
        onnxrun.set_default_logger_callback(raising, severity=0)
        onnxrun.InferenceSession(MUL)
        for bad in (5, -1):
            with pytest.raises(RuntimeError):
                onnxrun.set_default_logger_callback(raising, severity=bad)
        with pytest.raises(RuntimeError):
            onnxrun.set_default_logger_callback("not callable")
    finally:
        onnxrun.set_default_logger_callback(None)
        onnxrun.set_default_logger_severity(2)
    count = len(records)
    onnxrun.InferenceSession(MUL)
    assert len(records) == count and not logging_callback.enabled(4)


def test_global_thread_pool():
    try:
        onnxrun.set_global_thread_pool_sizes(2, 2)
        so = onnxrun.SessionOptions()
        with pytest.raises(RuntimeError, match="use_per_session_threads must be false"):
            onnxrun.InferenceSession(MUL, so)
        so.use_per_session_threads = False
        sess = onnxrun.InferenceSession(MUL, so)
        assert sess.get_session_options().intra_op_num_threads == 2
        np.testing.assert_array_equal(sess.run(None, {"X": X})[0], X * X)
    finally:
        model_config._global_threads = None
