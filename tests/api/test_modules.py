"""The modules programs import from onnxruntime: capi, inference collection, backend,
datasets, transformers."""

import numpy as np
import onnxruntime as ort
import pytest

import onnxrun
import onnxrun.backend as backend
from onnxrun.capi import _pybind_state, onnxruntime_pybind11_state
from onnxrun.capi.onnxruntime_inference_collection import check_and_normalize_provider_args
from onnxrun.datasets import get_example


def test_pybind_state_alias():
    assert _pybind_state.OrtValue is onnxruntime_pybind11_state.OrtValue
    for name in ("OrtValue", "OrtDevice", "SessionIOBinding", "OrtValueVector", "SparseTensor",
                 "Fail", "InvalidArgument", "RunOptions", "get_ep_devices", "AdapterFormat"):
        assert hasattr(_pybind_state, name), name
        assert hasattr(ort.capi._pybind_state, name), name


@pytest.mark.parametrize("module", [onnxrun, ort], ids=["onnxrun", "onnxruntime"])
def test_check_and_normalize_provider_args(module):
    check = module.capi.onnxruntime_inference_collection.check_and_normalize_provider_args
    valid = ["a", "b", "c"]
    assert check(None, None, valid) == ([], [])
    assert check([("a", {1: 2}), "b"], None, valid) == (["a", "b"], [{"1": "2"}, {}])
    assert check(["a", "b"], [{1: 2}, {}], valid) == (["a", "b"], [{"1": "2"}, {}])
    with pytest.warns(UserWarning):
        assert check(["a", "b", "a"], [{"x": 1}, {}, {"y": 2}], valid) == \
            (["a", "b"], [{"x": "1"}, {}])
    for providers, options in ((3, None), ([3], None), (["a"], 3), (["a"], ["not dict"]),
                               (["a", "b"], [{1: 2}]), ([("a", {1: 2})], [{3: 4}])):
        with pytest.raises(ValueError):
            check(providers, options, valid)


def test_backend_and_datasets():
    x = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float32)
    rep = backend.prepare(get_example("mul_1.onnx"))
    np.testing.assert_array_equal(rep.run(x)[0], x * x)
    np.testing.assert_array_equal(backend.run_model(get_example("mul_1.onnx"), [x])[0], x * x)
    assert backend.supports_device("CPU") and not backend.supports_device("CUDA")
    with pytest.raises(RuntimeError, match="Incompatible device"):
        backend.prepare(get_example("mul_1.onnx"), "CUDA")
    with pytest.raises(FileNotFoundError):
        get_example("nope.onnx")
    for name, feed in (("sigmoid.onnx", {"x": np.zeros((3, 4, 5), np.float32)}),
                       ("logreg_iris.onnx", {"float_input": np.array(
                           [[5.0, 3.4], [5.9, 2.8], [6.6, 3.0]], np.float32)})):
        got = onnxrun.InferenceSession(get_example(name)).run(None, feed)
        ref = ort.InferenceSession(get_example(name)).run(None, feed)
        np.testing.assert_allclose(got[0], ref[0], rtol=1e-5)
    label = onnxrun.InferenceSession(get_example("logreg_iris.onnx")).run(
        ["label"], {"float_input": np.array([[5.0, 3.4], [5.9, 2.8], [6.6, 3.0]], np.float32)})
    assert label[0].tolist() == [0, 1, 2]


def test_top_level_names_match_onnxruntime():
    names = ["OrtValue", "SparseTensor", "OrtSparseFormat", "OrtDevice", "OrtMemoryInfo",
             "OrtArenaCfg", "OrtAllocatorType", "OrtMemType", "IOBinding", "SessionIOBinding",
             "AdapterFormat", "LoraAdapter", "ModelCompiler", "OrtCompileApiFlags",
             "create_and_register_allocator", "get_ep_devices", "set_global_thread_pool_sizes",
             "set_default_logger_callback", "OrtEpDevice", "OrtHardwareDeviceType"]
    for name in names:
        assert hasattr(ort, name), name
        assert hasattr(onnxrun, name), name
