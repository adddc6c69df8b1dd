"""Partitioning across two providers: a fake device provider whose arrays are wrapped, so any
value that reaches a kernel on the wrong device is caught; copy nodes appear at boundaries."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import onnxrun
from onnxrun.kernels.registry import KernelRegistry, REGISTRY, kernel
from onnxrun.providers import ExecutionProvider, register_provider


class DeviceArray:
    """An array 'on the test device': kernels of the CPU provider cannot use it."""

    def __init__(self, a):
        self.a = np.asarray(a)


@register_provider
class FakeDeviceExecutionProvider(ExecutionProvider):
    name = "FakeDeviceExecutionProvider"
    device = "fakedev"
    copies = []

    def to_host(self, value):
        assert isinstance(value, DeviceArray), type(value)
        type(self).copies.append("to_host")
        return value.a.copy()

    def from_host(self, value):
        assert isinstance(value, np.ndarray), type(value)
        type(self).copies.append("from_host")
        return DeviceArray(value.copy())


@kernel("Mul", since=1, provider="FakeDeviceExecutionProvider", fresh=True)
def device_mul(a, b):
    assert isinstance(a, DeviceArray) and isinstance(b, DeviceArray)
    return DeviceArray(a.a * b.a)


@kernel("Neg", since=1, provider="FakeDeviceExecutionProvider", fresh=True)
def device_neg(a):
    assert isinstance(a, DeviceArray)
    return DeviceArray(-a.a)


def _model():
    # x * w -> Neg -> Relu (CPU only) -> Mul by w (device) -> y ; also Neg output is a graph output
    nodes = [helper.make_node("Mul", ["x", "w"], ["m"], name="mul1"),
             helper.make_node("Neg", ["m"], ["n"], name="neg"),
             helper.make_node("Relu", ["n"], ["r"], name="relu"),
             helper.make_node("Mul", ["r", "w"], ["y"], name="mul2")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3]),
                           helper.make_tensor_value_info("n", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor("w", TensorProto.FLOAT, [3], [1.0, -2.0, 3.0])])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_two_providers_copy_nodes_and_results():
    FakeDeviceExecutionProvider.copies.clear()
    x = np.array([[1, 2, 3], [-1, -2, -3]], np.float32)
    sess = onnxrun.InferenceSession(_model(), providers=["FakeDeviceExecutionProvider",
                                                         "CPUExecutionProvider"])
    assert sess.get_providers() == ["FakeDeviceExecutionProvider", "CPUExecutionProvider"]
    graph = sess._core.graph
    placed = {n.name: n.provider for n in graph.nodes}
    assert placed["mul1"] == placed["neg"] == placed["mul2"] == "FakeDeviceExecutionProvider"
    assert placed["relu"] == "CPUExecutionProvider"
    ops = [n.op_type for n in graph.nodes]
    # x and w go to the device; n comes back for Relu and as a graph output (one copy shared),
    # r goes to the device, y comes back
    assert ops.count("MemcpyFromHost") == 3
    assert ops.count("MemcpyToHost") == 2
    y, n = sess.run(None, {"x": x})
    w = np.array([1, -2, 3], np.float32)
    np.testing.assert_array_equal(n, -(x * w))
    np.testing.assert_array_equal(y, np.maximum(-(x * w), 0) * w)
    assert isinstance(y, np.ndarray) and isinstance(n, np.ndarray)
    assert "to_host" in FakeDeviceExecutionProvider.copies


def test_default_providers_are_host_ones_without_copies():
    # the registered fake device provider is available but not a default one
    sess = onnxrun.InferenceSession(_model())
    assert all(not n.op_type.startswith("Memcpy") for n in sess._core.graph.nodes)
    assert "FakeDeviceExecutionProvider" not in sess.get_providers()
    assert sess.get_providers()[-1] == "CPUExecutionProvider"
    sess = onnxrun.InferenceSession(_model(), providers=["CPUExecutionProvider"])
    assert sess.get_providers() == ["CPUExecutionProvider"]


def test_unavailable_provider_warns_and_is_skipped():
    with pytest.warns(UserWarning, match="CUDAExecutionProvider"):
        sess = onnxrun.InferenceSession(_model(), providers=["CUDAExecutionProvider"])
    assert sess.get_providers() == ["CPUExecutionProvider"]


def test_provider_options_are_kept():
    sess = onnxrun.InferenceSession(
        _model(), providers=[("FakeDeviceExecutionProvider", {"device_id": 0}),
                             "CPUExecutionProvider"])
    assert sess.get_provider_options()["FakeDeviceExecutionProvider"] == {"device_id": "0"}
    assert sess.get_provider_options()["CPUExecutionProvider"] == {}


def test_duplicate_registration_is_an_error():
    reg = KernelRegistry()
    kernel("Foo", since=1, registry=reg)(lambda x: x)
    with pytest.raises(onnxrun.errors.KernelRegistrationError, match="overlaps"):
        kernel("Foo", since=1, until=5, registry=reg)(lambda x: x)
    kernel("Foo", since=1, provider="Other", registry=reg)(lambda x: x)  # other provider: fine
