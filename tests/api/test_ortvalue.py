"""OrtValue against onnxruntime's: construction, views without copies, DLPack, feeds."""

import numpy as np
import onnxruntime as ort
import pytest

import onnxrun
from onnxrun.capi import _pybind_state as C

from ._models import mul_model

X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float32)


@pytest.mark.parametrize("rt", [onnxrun, ort], ids=["onnxrun", "onnxruntime"])
def test_introspection_matches(rt):
    v = rt.OrtValue.ortvalue_from_numpy(X)
    assert (v.device_name(), v.shape(), v.data_type(), v.element_type()) == \
        ("cpu", [3, 2], "tensor(float)", 1)
    assert v.is_tensor() and v.has_value() and not v.is_sparse_tensor()
    assert v.tensor_size_in_bytes() == 24
    typed = rt.OrtValue.ortvalue_from_numpy_with_onnx_type(np.arange(6, dtype=np.int64), 7)
    assert typed.element_type() == 7 and typed.shape() == [6]


def test_numpy_is_a_view_without_copy():
    v = onnxrun.OrtValue.ortvalue_from_numpy(X.copy())
    a = v.numpy()
    assert a.ctypes.data == v.data_ptr() and a.base is not None
    a[0, 0] = 42.0
    assert v.numpy()[0, 0] == 42.0
    assert np.asarray(v).ctypes.data == v.data_ptr()
    assert np.asarray(v, dtype=np.float64).dtype == np.float64


def test_from_shape_and_type_and_update_inplace():
    for element_type in (np.float32, 1):
        v = onnxrun.OrtValue.ortvalue_from_shape_and_type([2, 3], element_type)
        v.update_inplace(np.arange(6, dtype=np.float32))
        np.testing.assert_array_equal(v.numpy(), np.arange(6, dtype=np.float32).reshape(2, 3))
    with pytest.raises(onnxrun.InvalidArgument, match="negative"):
        onnxrun.OrtValue.ortvalue_from_shape_and_type([-1, 3], np.float32)
    with pytest.raises(onnxrun.InvalidArgument, match="refusing"):
        onnxrun.OrtValue.ortvalue_from_shape_and_type([1 << 40, 1 << 10], np.float32)


def test_device_other_than_cpu_is_refused():
    with pytest.raises(onnxrun.Fail, match="cuda"):
        onnxrun.OrtValue.ortvalue_from_numpy(X, "cuda", 0)
    with pytest.raises(onnxrun.Fail, match="Unsupported device"):
        onnxrun.OrtValue.ortvalue_from_numpy(X, "tpu", 0)


@pytest.mark.parametrize("arr", [X, np.array([True, False, True]), np.array([1, 2, 255], np.uint8),
                                 np.zeros((1, 8, 0, 128), np.float32)], ids=str)
def test_dlpack_round_trips_keep_dtype_and_memory(arr):
    v = onnxrun.OrtValue.ortvalue_from_numpy(arr)
    assert v.__dlpack_device__() == (1, 0)
    back = onnxrun.OrtValue.from_dlpack(v)
    assert back.numpy().dtype == arr.dtype and back.shape() == list(arr.shape)
    if arr.size:
        assert back.data_ptr() == v.data_ptr()
    capsule = v._ortvalue.to_dlpack()
    assert C.is_dlpack_uint8_tensor(capsule) == (arr.dtype == np.uint8)
    np.testing.assert_array_equal(C.OrtValue.from_dlpack(capsule, False).numpy(), arr)
    np.testing.assert_array_equal(np.from_dlpack(v), arr)


def test_feeds_and_initializers_take_ortvalues():
    model = mul_model().SerializeToString()
    sess, ref = onnxrun.InferenceSession(model), ort.InferenceSession(model)
    v = onnxrun.OrtValue.ortvalue_from_numpy(X)
    np.testing.assert_array_equal(sess.run(None, {"X": v})[0],
                                  ref.run(None, {"X": ort.OrtValue.ortvalue_from_numpy(X)})[0])
    so = onnxrun.SessionOptions()
    so.add_initializer("W", onnxrun.OrtValue.ortvalue_from_numpy(np.full((3, 2), 2, np.float32)))
    np.testing.assert_array_equal(onnxrun.InferenceSession(model, so).run(None, {"X": X})[0], X * 2)
    with pytest.raises(TypeError, match="OrtValue"):
        so.add_initializer("W", [1, 2])


def test_ort_value_vector_and_run_with_ort_values():
    sess = onnxrun.InferenceSession(mul_model().SerializeToString())
    vec = sess._sess.run_with_ort_values({"X": C.OrtValue.ortvalue_from_numpy(X)}, ["Y"],
                                         onnxrun.RunOptions())
    assert isinstance(vec, C.OrtValueVector) and len(vec) == 1
    np.testing.assert_array_equal(vec[0].numpy(), X * X)
    outs = sess.run_with_ort_values(["Y"], {"X": onnxrun.OrtValue.ortvalue_from_numpy(X)})
    assert isinstance(outs[0], onnxrun.OrtValue)
    np.testing.assert_array_equal(outs[0].numpy(), X * X)


def test_string_tensors():
    v = onnxrun.OrtValue.ortvalue_from_numpy(np.array(["a", "bc"]))
    assert v.data_type() == "tensor(string)" and v.element_type() == 8
    assert list(v.numpy()) == ["a", "bc"]
