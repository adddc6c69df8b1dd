"""OrtDevice, OrtMemoryInfo, OrtArenaCfg, allocators and EP-device discovery."""

import numpy as np
import onnxruntime as ort
import pytest

import onnxrun
from onnxrun.capi import onnxruntime_pybind11_state as C


@pytest.mark.parametrize("rt", [onnxrun, ort], ids=["onnxrun", "onnxruntime"])
def test_devices_and_memory_info(rt):
    cpu = rt.OrtDevice.make("cpu", 0)
    assert (cpu.device_id(), cpu.device_type(), cpu.device_mem_type()) == (0, 0, 0)
    assert cpu.device_vendor_id() == rt.OrtDeviceVendorId.NONE
    assert rt.OrtDevice.make("cuda", 0).device_vendor_id() == rt.OrtDeviceVendorId.NVIDIA == 0x10DE
    info = rt.OrtMemoryInfo("Cpu", rt.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, rt.OrtMemType.DEFAULT)
    assert (info.name, info.device_id, info.mem_type, info.allocator_type, info.device_mem_type,
            info.device_vendor_id) == ("Cpu", 0, rt.OrtMemType.DEFAULT,
                                       rt.OrtAllocatorType.ORT_ARENA_ALLOCATOR,
                                       rt.OrtDeviceMemoryType.DEFAULT, 0)
    v2 = rt.OrtMemoryInfo.create_v2("T", rt.OrtMemoryInfoDeviceType.CPU, 0, 0,
                                    rt.OrtDeviceMemoryType.DEFAULT, 128,
                                    rt.OrtAllocatorType.ORT_ARENA_ALLOCATOR)
    assert v2.name == "T" and v2.mem_type == rt.OrtMemType.DEFAULT
    cfg = rt.OrtArenaCfg(8, 0, 4, 2)
    assert (cfg.max_mem, cfg.arena_extend_strategy, cfg.initial_chunk_size_bytes,
            cfg.max_dead_bytes_per_chunk) == (8, 0, 4, 2)
    cfg = rt.OrtArenaCfg({"max_mem": 16, "max_power_of_two_extend_bytes": 17})
    assert (cfg.max_mem, cfg.max_power_of_two_extend_bytes) == (16, 17)
    rt.create_and_register_allocator(info, None)


def test_arena_and_allocator_errors():
    with pytest.raises(RuntimeError, match="Invalid OrtArenaCfg option"):
        onnxrun.OrtArenaCfg({"max_memory": 1})
    gpu = onnxrun.OrtMemoryInfo("Cuda", onnxrun.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0,
                                onnxrun.OrtMemType.DEFAULT)
    with pytest.raises(RuntimeError, match="host memory only"):
        onnxrun.create_and_register_allocator(gpu, None)


def test_ep_devices_and_compatibility():
    devices = onnxrun.get_ep_devices()
    assert devices[-1].ep_name == "CPUExecutionProvider"
    assert devices[-1].device.type == onnxrun.OrtHardwareDeviceType.CPU
    cpu = [d for d in devices if d.ep_name == "CPUExecutionProvider"]
    assert C.get_model_compatibility_for_ep_devices(cpu, "x") == \
        C.OrtCompiledModelCompatibility.EP_NOT_APPLICABLE
    with pytest.raises(RuntimeError):
        C.get_model_compatibility_for_ep_devices([], "x")
    with pytest.raises(TypeError):
        C.get_model_compatibility_for_ep_devices(cpu, None)
    hw = C.get_hardware_devices()
    details = C.get_hardware_device_ep_incompatibility_details("CPUExecutionProvider", hw[0])
    assert details == ort.capi.onnxruntime_pybind11_state.get_hardware_device_ep_incompatibility_details(
        "CPUExecutionProvider", ort.capi.onnxruntime_pybind11_state.get_hardware_devices()[0])
    with pytest.raises(RuntimeError):
        C.get_hardware_device_ep_incompatibility_details("", hw[0])


def test_compatibility_info_from_models(tmp_path):
    import onnx
    m = onnx.helper.make_model(onnx.helper.make_graph([], "g", [], []))
    onnx.helper.set_model_props(m, {"ep_compatibility_info.MyEP": "v1"})
    data = m.SerializeToString()
    for mod in (C, ort.capi.onnxruntime_pybind11_state):
        assert mod.get_compatibility_info_from_model_bytes(data, "MyEP") == "v1"
        assert mod.get_compatibility_info_from_model_bytes(data, "Other") is None
        with pytest.raises(RuntimeError):
            mod.get_compatibility_info_from_model_bytes(b"not a model", "MyEP")
        with pytest.raises(RuntimeError):
            mod.get_compatibility_info_from_model(str(tmp_path / "missing.onnx"), "MyEP")
    path = tmp_path / "m.onnx"
    path.write_bytes(data)
    assert C.get_compatibility_info_from_model(str(path), "MyEP") == "v1"


def test_session_memory_infos_and_ep_devices():
    from ._models import mul_model
    sess = onnxrun.InferenceSession(mul_model().SerializeToString())
    assert len(sess.get_input_memory_infos()) == 1 and sess.get_input_memory_infos()[0] is not None
    assert len(sess.get_output_memory_infos()) == 1
    assert len(sess.get_input_epdevices()) == 1
    np.testing.assert_array_equal(sess.run(None, {"X": np.ones((3, 2), np.float32)})[0].shape,
                                  [3, 2])


def test_plugin_ep_libraries_cannot_load():
    with pytest.raises(onnxrun.Fail, match="native"):
        onnxrun.register_execution_provider_library("ep", "libep.so")
