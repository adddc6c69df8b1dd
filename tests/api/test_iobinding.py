"""IOBinding / SessionIOBinding against onnxruntime's behaviour on the CPU."""

import numpy as np
import onnxruntime as ort
import pytest

import onnxrun
from onnxrun.capi import _pybind_state as C

from ._models import mul_model

X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float32)
MODEL = mul_model().SerializeToString()


@pytest.mark.parametrize("rt", [onnxrun, ort], ids=["onnxrun", "onnxruntime"])
def test_cpu_input_and_session_allocated_output(rt):
    sess = rt.InferenceSession(MODEL, providers=["CPUExecutionProvider"])
    b = sess.io_binding()
    b.bind_cpu_input("X", X)
    b.bind_output("Y")
    sess.run_with_iobinding(b)
    b.synchronize_outputs()
    np.testing.assert_array_equal(b.copy_outputs_to_cpu()[0], X * X)
    outs = b.get_outputs()
    assert len(outs) == 1 and outs[0].device_name() == "cpu"
    np.testing.assert_array_equal(outs[0].numpy(), X * X)


@pytest.mark.parametrize("rt", [onnxrun, ort], ids=["onnxrun", "onnxruntime"])
def test_pointer_bindings_write_in_place(rt):
    sess = rt.InferenceSession(MODEL, providers=["CPUExecutionProvider"])
    b = sess.io_binding()
    x = X.copy()
    out = np.zeros((3, 2), np.float32)
    b.bind_input("X", "cpu", 0, np.float32, [3, 2], x.ctypes.data)
    b.bind_output("Y", "cpu", 0, np.float32, [3, 2], out.ctypes.data)
    sess.run_with_iobinding(b)
    np.testing.assert_array_equal(out, X * X)
    x[:] = 1.0  # the binding reads the caller's memory at run time
    sess.run_with_iobinding(b)
    np.testing.assert_array_equal(out, mul_model_w())


def mul_model_w():
    return np.array([[1, 2], [3, 4], [5, 6]], np.float32)


@pytest.mark.parametrize("rt", [onnxrun, ort], ids=["onnxrun", "onnxruntime"])
def test_ortvalue_output_wrong_shape_is_an_error(rt):
    sess = rt.InferenceSession(MODEL, providers=["CPUExecutionProvider"])
    b = sess.io_binding()
    b.bind_cpu_input("X", X)
    b.bind_ortvalue_output("Y", rt.OrtValue.ortvalue_from_numpy(np.zeros((2, 2), np.float32)))
    with pytest.raises(RuntimeError, match="Error in execution"):
        sess.run_with_iobinding(b)


def test_native_binding_and_clearing():
    sess = onnxrun.InferenceSession(MODEL)
    device = C.OrtDevice(C.OrtDevice.cpu(), C.OrtDevice.default_memory(), 0)
    bind = C.SessionIOBinding(sess._sess)
    bind.bind_ortvalue_input("X", C.OrtValue.ortvalue_from_numpy(X, device))
    bind.bind_output("Y", device)
    sess._sess.run_with_iobinding(bind, None)
    assert isinstance(bind.get_outputs(), C.OrtValueVector)
    np.testing.assert_array_equal(bind.get_outputs()[0].numpy(), X * X)
    bind.clear_binding_outputs()
    assert len(bind.get_outputs()) == 0
    bind.clear_binding_inputs()
    bind.bind_output("Y", device)
    with pytest.raises(ValueError, match="Required inputs"):
        sess._sess.run_with_iobinding(bind, None)


def test_bad_names_and_devices():
    sess = onnxrun.InferenceSession(MODEL)
    b = sess.io_binding()
    with pytest.raises(onnxrun.InvalidArgument, match="Invalid input name: nope"):
        b.bind_cpu_input("nope", X)
    with pytest.raises(onnxrun.InvalidArgument, match="Invalid output name: nope"):
        b.bind_output("nope")
    with pytest.raises(onnxrun.Fail, match="not available"):
        b.bind_input("X", "cuda", 0, np.float32, [3, 2], X.ctypes.data)
    with pytest.raises(onnxrun.InvalidArgument, match="null"):
        b.bind_input("X", "cpu", 0, np.float32, [3, 2], 0)
    with pytest.raises(ValueError, match="element_type"):
        b.bind_output("Y", "cpu", 0, None, None, X.ctypes.data)
