"""Devices, memory descriptions, allocator settings and the EP-device discovery API, as
onnxruntime's Python API shows them.

onnxrun runs on the host through NumPy: every value lives in CPU memory, allocators are
NumPy's, and the only hardware device is the CPU. These classes keep onnxruntime's names,
fields and errors so that programs that describe devices and memory run unchanged.
"""

from __future__ import annotations

import enum
import os
import platform
from typing import Dict, List, Optional, Sequence

from ..errors import Fail


class OrtAllocatorType(enum.IntEnum):
    INVALID = -1
    ORT_DEVICE_ALLOCATOR = 0
    ORT_ARENA_ALLOCATOR = 1


class OrtMemType(enum.IntEnum):
    CPU_INPUT = -2
    CPU_OUTPUT = -1
    CPU = -1
    DEFAULT = 0


class OrtDeviceMemoryType(enum.IntEnum):
    DEFAULT = 0
    HOST_ACCESSIBLE = 5


class OrtMemoryInfoDeviceType(enum.IntEnum):
    CPU = 0
    GPU = 1
    FPGA = 2
    NPU = 3


class OrtDeviceVendorId(enum.IntEnum):
    NONE = 0
    AMD = 0x1002
    NVIDIA = 0x10DE
    ARM = 0x13B5
    MICROSOFT = 0x1414
    HUAWEI = 0x19E5
    QUALCOMM = 0x5143
    INTEL = 0x8086


class OrtHardwareDeviceType(enum.IntEnum):
    CPU = 0
    GPU = 1
    NPU = 2


class OrtExecutionProviderDevicePolicy(enum.IntEnum):
    DEFAULT = 0
    PREFER_CPU = 1
    PREFER_NPU = 2
    PREFER_GPU = 3
    MAX_PERFORMANCE = 4
    MAX_EFFICIENCY = 5
    MIN_OVERALL_POWER = 6


class OrtCompiledModelCompatibility(enum.IntEnum):
    EP_NOT_APPLICABLE = 0
    EP_SUPPORTED_OPTIMAL = 1
    EP_SUPPORTED_PREFER_RECOMPILATION = 2
    EP_UNSUPPORTED = 3


class OrtDeviceEpIncompatibilityReason(enum.IntEnum):
    NONE = 0
    DRIVER_INCOMPATIBLE = 1
    DEVICE_INCOMPATIBLE = 2
    MISSING_DEPENDENCY = 4
    UNKNOWN = -2147483648


class ArenaExtendStrategy(enum.IntEnum):
    kNextPowerOfTwo = 0
    kSameAsRequested = 1


# ---- OrtDevice --------------------------------------------------------------------------------
_CPU, _GPU, _FPGA, _NPU = 0, 1, 2, 3
#: device names accepted by ``OrtDevice.make`` / ``ortvalue_from_numpy`` -> (type, vendor)
_DEVICE_NAMES = {
    "cpu": (_CPU, OrtDeviceVendorId.NONE),
    "cuda": (_GPU, OrtDeviceVendorId.NVIDIA),
    "gpu": (_GPU, OrtDeviceVendorId.NONE),
    "dml": (_GPU, OrtDeviceVendorId.MICROSOFT),
    "webgpu": (_GPU, OrtDeviceVendorId.NONE),
    "cann": (_NPU, OrtDeviceVendorId.HUAWEI),
    "npu": (_NPU, OrtDeviceVendorId.NONE),
    "fpga": (_FPGA, OrtDeviceVendorId.NONE),
}


class CDevice:
    """``onnxruntime.capi._pybind_state.OrtDevice``: ``(type, mem_type, device_id)`` or
    ``(type, mem_type, vendor_id, device_id)``."""

    __slots__ = ("_type", "_mem", "_vendor", "_id")

    def __init__(self, device_type: int, mem_type: int, *ids: int) -> None:
        if len(ids) == 1:
            vendor, device_id = 0, ids[0]
        elif len(ids) == 2:
            vendor, device_id = ids
        else:
            raise TypeError("OrtDevice(device_type, mem_type, device_id) or "
                            "OrtDevice(device_type, mem_type, vendor_id, device_id)")
        self._type, self._mem, self._vendor, self._id = (int(device_type), int(mem_type),
                                                         int(vendor), int(device_id))

    def device_id(self) -> int:
        return self._id

    def device_type(self) -> int:
        return self._type

    def vendor_id(self) -> int:
        return self._vendor

    def mem_type(self) -> int:
        return self._mem

    @staticmethod
    def cpu() -> int:
        return _CPU

    @staticmethod
    def gpu() -> int:
        return _GPU

    cuda = gpu

    @staticmethod
    def npu() -> int:
        return _NPU

    cann = npu

    @staticmethod
    def fpga() -> int:
        return _FPGA

    @staticmethod
    def dml() -> int:
        return 4  # onnxruntime's value for DirectML devices

    @staticmethod
    def webgpu() -> int:
        return _GPU

    @staticmethod
    def default_memory() -> int:
        return 0

    def __eq__(self, other) -> bool:
        return isinstance(other, CDevice) and (self._type, self._mem, self._vendor, self._id) == \
            (other._type, other._mem, other._vendor, other._id)

    def __hash__(self) -> int:
        return hash((self._type, self._mem, self._vendor, self._id))

    def __repr__(self) -> str:
        return (f"OrtDevice(device_type={self._type}, mem_type={self._mem}, "
                f"vendor_id={self._vendor}, device_id={self._id})")

    @property
    def is_cpu(self) -> bool:
        return self._type == _CPU


CPU_DEVICE = CDevice(_CPU, 0, 0)


def device_from_name(name: str, device_id: int = 0, vendor_id: int = -1) -> CDevice:
    """The device for a name such as ``'cpu'`` or ``'cuda'`` (onnxruntime's names)."""
    key = str(name).lower()
    if key not in _DEVICE_NAMES:
        raise Fail(f"Unsupported device type: {name}. Known device names: "
                   f"{', '.join(sorted(_DEVICE_NAMES))}")
    dtype, vendor = _DEVICE_NAMES[key]
    if vendor_id is not None and int(vendor_id) >= 0:
        vendor = int(vendor_id)
    return CDevice(dtype, 0, int(vendor), int(device_id))


def device_name(device: CDevice) -> str:
    """onnxruntime's short name of a device (what ``OrtValue.device_name()`` returns)."""
    if device.device_type() == _CPU:
        return "cpu"
    if device.vendor_id() == OrtDeviceVendorId.MICROSOFT or device.device_type() == 4:
        return "dml"
    if device.device_type() == _GPU:
        return "cuda"
    return "npu" if device.device_type() == _NPU else "fpga"


def require_cpu(device: CDevice, what: str) -> None:
    """onnxrun has host memory only: anything placed on another device is refused."""
    if not device.is_cpu:
        raise Fail(f"{what}: device '{device_name(device)}' is not available in onnxrun "
                   "(it runs on the CPU only; available providers: CPUExecutionProvider)")


class OrtDevice:
    """A device: ``OrtDevice.make('cpu', 0)``."""

    def __init__(self, c_ort_device: CDevice) -> None:
        if not isinstance(c_ort_device, CDevice):
            raise ValueError("`Provided object` needs to be of type "
                             "`onnxruntime.capi._pybind_state.OrtDevice`")
        self._ort_device = c_ort_device

    def _get_c_device(self) -> CDevice:
        return self._ort_device

    @staticmethod
    def make(ort_device_name: str, device_id: int, vendor_id: int = -1) -> "OrtDevice":
        return OrtDevice(device_from_name(ort_device_name, device_id, vendor_id))

    def device_id(self) -> int:
        return self._ort_device.device_id()

    def device_type(self) -> int:
        return self._ort_device.device_type()

    def device_vendor_id(self) -> int:
        return self._ort_device.vendor_id()

    def device_mem_type(self) -> int:
        return self._ort_device.mem_type()


# ---- memory info, arena config, allocators --------------------------------------------------
class OrtMemoryInfo:
    """``OrtMemoryInfo(name, allocator_type, device_id, mem_type)``."""

    def __init__(self, name: str, allocator_type, device_id: int, mem_type) -> None:
        self.name = str(name)
        self.allocator_type = OrtAllocatorType(int(allocator_type))
        self.device_id = int(device_id)
        self.mem_type = OrtMemType(int(mem_type))
        self.device_mem_type = OrtDeviceMemoryType.DEFAULT
        self.device_vendor_id = 0
        self._device_type = _CPU if self.name.lower() in ("cpu", "cpuinput", "cpuoutput") \
            else _GPU

    @staticmethod
    def create_v2(name: str, device_type, vendor_id: int, device_id: int, device_mem_type,
                  alignment: int, allocator_type) -> "OrtMemoryInfo":
        info = OrtMemoryInfo(name, allocator_type, device_id, OrtMemType.DEFAULT)
        info.device_mem_type = OrtDeviceMemoryType(int(device_mem_type))
        info.device_vendor_id = int(vendor_id)
        info._device_type = int(device_type)
        return info

    def __repr__(self) -> str:
        return (f"OrtMemoryInfo(name={self.name!r}, allocator_type={self.allocator_type.name}, "
                f"device_id={self.device_id}, mem_type={self.mem_type.name})")


CPU_MEMORY_INFO = OrtMemoryInfo("Cpu", OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, OrtMemType.DEFAULT)

_ARENA_KEYS = ("max_mem", "arena_extend_strategy", "initial_chunk_size_bytes",
               "max_dead_bytes_per_chunk", "initial_growth_chunk_size_bytes",
               "max_power_of_two_extend_bytes")


class OrtArenaCfg:
    """Arena settings: ``OrtArenaCfg(max_mem, arena_extend_strategy, initial_chunk_size_bytes,
    max_dead_bytes_per_chunk)`` or ``OrtArenaCfg({key: value})``. Kept; NumPy allocates."""

    def __init__(self, *args) -> None:
        self.max_mem = 0
        self.arena_extend_strategy = -1
        self.initial_chunk_size_bytes = -1
        self.max_dead_bytes_per_chunk = -1
        self.initial_growth_chunk_size_bytes = -1
        self.max_power_of_two_extend_bytes = -1
        if len(args) == 1 and isinstance(args[0], dict):
            for key, value in args[0].items():
                if key not in _ARENA_KEYS:
                    raise RuntimeError(f"Invalid OrtArenaCfg option: {key}")
                setattr(self, key, int(value))
        elif len(args) == 4:
            for key, value in zip(_ARENA_KEYS, args):
                setattr(self, key, int(value))
        else:
            raise TypeError("OrtArenaCfg(max_mem, arena_extend_strategy, initial_chunk_size_bytes,"
                            " max_dead_bytes_per_chunk) or OrtArenaCfg(dict)")


_registered_allocators: Dict[tuple, tuple] = {}


def create_and_register_allocator(mem_info: OrtMemoryInfo, arena_cfg: Optional[OrtArenaCfg]) -> None:
    """Register a shared allocator for sessions with ``session.use_env_allocators=1``. onnxrun
    keeps the registration (NumPy allocates all memory); a non-CPU memory info is refused."""
    _register(mem_info, arena_cfg, "CPUExecutionProvider")


def create_and_register_allocator_v2(provider_type: str, mem_info: OrtMemoryInfo,
                                     provider_options: Dict[str, str],
                                     arena_cfg: Optional[OrtArenaCfg]) -> None:
    from ..providers import available_providers
    if provider_type not in available_providers():
        raise RuntimeError(f"create_and_register_allocator_v2: provider '{provider_type}' is "
                           "not available")
    _register(mem_info, arena_cfg, provider_type)


def _register(mem_info, arena_cfg, provider: str) -> None:
    if not isinstance(mem_info, OrtMemoryInfo):
        raise TypeError("create_and_register_allocator expects an OrtMemoryInfo")
    if mem_info._device_type != _CPU:
        raise RuntimeError(f"No allocator for memory info '{mem_info.name}': onnxrun has host "
                           "memory only")
    key = (provider, mem_info.name, mem_info.device_id, int(mem_info.mem_type))
    _registered_allocators[key] = (mem_info, arena_cfg)


# ---- hardware devices and EP devices ---------------------------------------------------------
class OrtHardwareDevice:
    """A hardware device found on this machine (onnxrun only uses the CPU)."""

    def __init__(self, type: OrtHardwareDeviceType, vendor_id: int, vendor: str,
                 device_id: int, metadata: Dict[str, str]) -> None:
        self.type = type
        self.vendor_id = vendor_id
        self.vendor = vendor
        self.device_id = device_id
        self.metadata = dict(metadata)


class OrtEpDevice:
    """A pairing of an execution provider with a hardware device it can use."""

    def __init__(self, ep_name: str, ep_vendor: str, device: OrtHardwareDevice,
                 ep_metadata: Dict[str, str], ep_options: Dict[str, str]) -> None:
        self.ep_name = ep_name
        self.ep_vendor = ep_vendor
        self.device = device
        self.ep_metadata = dict(ep_metadata)
        self.ep_options = dict(ep_options)

    def memory_info(self, device_memory_type) -> Optional[OrtMemoryInfo]:
        """The memory info of this device for the memory type (None: the default CPU one)."""
        OrtDeviceMemoryType(int(device_memory_type))
        return None

    def __repr__(self) -> str:
        return f"OrtEpDevice(ep_name={self.ep_name!r}, device={self.device.type.name})"


def _cpu_vendor() -> tuple:
    text = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            text = f.read(4096)
    except OSError:
        text = platform.processor()
    if "AuthenticAMD" in text or "AMD" in text:
        return OrtDeviceVendorId.AMD, "AMD"
    if "GenuineIntel" in text or "Intel" in text:
        return OrtDeviceVendorId.INTEL, "Intel"
    if platform.machine().lower() in ("arm64", "aarch64"):
        return OrtDeviceVendorId.ARM, "ARM"
    return 0, platform.processor() or "unknown"


def get_hardware_devices() -> List[OrtHardwareDevice]:
    """The hardware devices onnxrun can use: the host CPU."""
    vendor_id, vendor = _cpu_vendor()
    return [OrtHardwareDevice(OrtHardwareDeviceType.CPU, int(vendor_id), vendor, 0, {})]


def get_ep_devices() -> List[OrtEpDevice]:
    """One OrtEpDevice per available provider on the CPU, onnxruntime's CPU provider last."""
    from ..providers import available_providers
    from ..version import __version__
    cpu = get_hardware_devices()[0]
    return [OrtEpDevice(name, "onnxrun", cpu, {"version": __version__}, {})
            for name in available_providers()]


def get_hardware_device_ep_incompatibility_details(ep_name: str,
                                                   device: OrtHardwareDevice) -> dict:
    """Known reasons why ``ep_name`` cannot use ``device`` (a bitmask of
    OrtDeviceEpIncompatibilityReason, notes, error code)."""
    from ..providers import available_providers
    if not ep_name:
        raise RuntimeError("Invalid argument: execution provider name must not be empty")
    if not isinstance(device, OrtHardwareDevice):
        raise TypeError("expected an OrtHardwareDevice")
    if ep_name in available_providers() and device.type == OrtHardwareDeviceType.CPU:
        return {"reasons_bitmask": 0, "notes": None, "error_code": 0}
    return {"reasons_bitmask": int(OrtDeviceEpIncompatibilityReason.DEVICE_INCOMPATIBLE),
            "notes": f"{ep_name} cannot run on this device in onnxrun", "error_code": 0}


def get_model_compatibility_for_ep_devices(ep_devices: Sequence[OrtEpDevice],
                                           compatibility_info: str) -> OrtCompiledModelCompatibility:
    """Whether a compiled model (its ``ep_compatibility_info`` string) suits these devices.
    onnxrun compiles nothing, so no provider has compiled-model requirements."""
    if not isinstance(compatibility_info, str):
        raise TypeError("compatibility_info must be a str")
    devices = list(ep_devices)
    if not devices or any(not isinstance(d, OrtEpDevice) for d in devices):
        raise RuntimeError("Invalid argument provided to GetModelCompatibilityForEpDevices.")
    if len({d.ep_name for d in devices}) != 1:
        raise RuntimeError("All OrtEpDevice values in ep_devices must have the same execution "
                           "provider.")
    return OrtCompiledModelCompatibility.EP_NOT_APPLICABLE


def _compat_from_model(model, ep_type: str) -> Optional[str]:
    key = f"ep_compatibility_info.{ep_type}"
    for prop in model.metadata_props:
        if prop.key == key:
            return prop.value
    return None


def get_compatibility_info_from_model_bytes(model_data: bytes, ep_type: str) -> Optional[str]:
    """The compatibility string stored for ``ep_type`` in a serialized model, or None."""
    import onnx
    if not model_data or not ep_type:
        raise RuntimeError("Invalid argument: model data and execution provider type must not "
                           "be empty")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(bytes(model_data))
    except Exception as exc:  # protobuf's DecodeError
        raise RuntimeError(f"Failed to parse model: {exc}") from None
    return _compat_from_model(model, ep_type)


def get_compatibility_info_from_model(model_path: str, ep_type: str) -> Optional[str]:
    """The compatibility string stored for ``ep_type`` in a model file, or None."""
    if not model_path or not ep_type:
        raise RuntimeError("Invalid argument: model path and execution provider type must not "
                           "be empty")
    if not os.path.isfile(model_path):
        raise RuntimeError(f"Load model from {model_path} failed: File doesn't exist")
    with open(model_path, "rb") as f:
        return get_compatibility_info_from_model_bytes(f.read(), ep_type)


class OrtExternalInitializerInfo:
    """Where an initializer's bytes are stored: file path, byte offset, byte size."""

    def __init__(self, filepath: str, file_offset: int, byte_size: int) -> None:
        self.filepath = os.fspath(filepath)
        self.file_offset = int(file_offset)
        self.byte_size = int(byte_size)

    def __repr__(self) -> str:
        return (f"OrtExternalInitializerInfo(filepath={self.filepath!r}, "
                f"file_offset={self.file_offset}, byte_size={self.byte_size})")


def register_execution_provider_library(registration_name: str, path: str) -> None:
    """Plugin EP libraries are native code; onnxrun cannot load them."""
    raise Fail(f"Failed to load execution provider library '{path}' for '{registration_name}':"
               " onnxrun is pure Python and cannot load native libraries")


def unregister_execution_provider_library(registration_name: str) -> None:
    raise Fail(f"Execution provider library '{registration_name}' was not registered")


