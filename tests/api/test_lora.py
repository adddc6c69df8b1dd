"""LoRA adapters: onnxruntime's adapter file format both ways, and runs with active adapters."""

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

import onnxrun

from ._models import model, vi

PARAMS = {"param_1": np.arange(10, dtype=np.float32).reshape(5, 2),
          "param_2": np.arange(10, dtype=np.int64).reshape(2, 5),
          "empty": np.zeros((4, 0), np.float32)}


def export(rt, path, params, adapter_version=3, model_version=4):
    a = rt.AdapterFormat()
    a.set_adapter_version(adapter_version)
    a.set_model_version(model_version)
    a.set_parameters({k: rt.OrtValue.ortvalue_from_numpy(v) for k, v in params.items()})
    a.export_adapter(str(path))


@pytest.mark.parametrize("writer,reader", [(onnxrun, ort), (ort, onnxrun), (onnxrun, onnxrun)],
                         ids=["onnxrun->onnxruntime", "onnxruntime->onnxrun", "onnxrun->onnxrun"])
def test_adapter_files_interoperate(tmp_path, writer, reader):
    path = tmp_path / "a.onnx_adapter"
    export(writer, path, PARAMS)
    read = reader.AdapterFormat.read_adapter(str(path))
    assert (read.get_adapter_version(), read.get_model_version()) == (3, 4)
    got = read.get_parameters()
    assert set(got) == set(PARAMS)
    for name, arr in PARAMS.items():
        assert got[name].shape() == list(arr.shape)
        np.testing.assert_array_equal(got[name].numpy(), arr)


def lora_model():
    w = numpy_helper.from_array(np.arange(1, 17, dtype=np.float32).reshape(4, 4), "w")
    a = numpy_helper.from_array(np.zeros((4, 0), np.float32), "lora_a")
    b = numpy_helper.from_array(np.zeros((0, 4), np.float32), "lora_b")
    nodes = [h.make_node("MatMul", ["x", "w"], ["xw"]), h.make_node("MatMul", ["x", "lora_a"], ["xa"]),
             h.make_node("MatMul", ["xa", "lora_b"], ["xab"]), h.make_node("Add", ["xw", "xab"], ["y"])]
    return model(nodes, [vi("x", T.FLOAT, [4, 4]), vi("lora_a", T.FLOAT, [4, "r"]),
                         vi("lora_b", T.FLOAT, ["r", 4])], [vi("y", T.FLOAT, [4, 4])], [w, a, b])


def test_run_with_active_adapter_matches_onnxruntime(tmp_path):
    path = tmp_path / "lora.onnx_adapter"
    export(onnxrun, path, {"lora_a": np.array([[3], [4], [5], [6]], np.float32),
                           "lora_b": np.array([[7, 8, 9, 10]], np.float32)})
    m = lora_model().SerializeToString()
    x = {"x": np.ones((4, 4), np.float32)}
    results = []
    for rt in (onnxrun, ort):
        adapter = rt.LoraAdapter()
        adapter.Load(str(path))
        ro = rt.RunOptions()
        ro.add_active_adapter(adapter)
        sess = rt.InferenceSession(m, providers=["CPUExecutionProvider"])
        results.append((sess.run(None, x, ro)[0], sess.run(None, x)[0]))
    np.testing.assert_allclose(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1])
    np.testing.assert_allclose(results[0][0][0], [154, 176, 198, 220])


def test_bad_adapter_files(tmp_path):
    bad = tmp_path / "bad.onnx_adapter"
    bad.write_bytes(b"\x08\x00\x00\x00NOPE" + bytes(32))
    with pytest.raises(onnxrun.InvalidArgument, match="TORT"):
        onnxrun.LoraAdapter().Load(str(bad))
    good = tmp_path / "good.onnx_adapter"
    export(onnxrun, good, PARAMS)
    data = good.read_bytes()
    good.write_bytes(data[:len(data) // 2])
    with pytest.raises(onnxrun.InvalidArgument, match="out of range"):
        onnxrun.AdapterFormat.read_adapter(str(good))
    with pytest.raises(TypeError, match="LoraAdapter"):
        onnxrun.RunOptions().add_active_adapter("file.onnx_adapter")
