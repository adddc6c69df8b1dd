"""The names programs import from ``onnxruntime.capi.onnxruntime_pybind11_state`` (also
reachable as ``onnxrun.capi._pybind_state``): the native-module classes (OrtValue, OrtDevice,
SparseTensor, SessionIOBinding ... at the native layer's signatures), enums, error classes and
module functions."""

from .. import (  # noqa: F401
    disable_telemetry_events, enable_telemetry_events, get_all_providers,
    get_available_providers, get_build_info, get_device, get_version_string,
    set_default_logger_severity, set_default_logger_verbosity, set_seed,
)
from ..errors import (  # noqa: F401
    EngineError, EPFail, Fail, InvalidArgument, InvalidGraph, InvalidProtobuf, ModelLoaded,
    ModelRequiresCompilation, NoModel, NoSuchFile, NotImplemented, OnnxRuntimeError,
    RuntimeException,
)
from ..options import (  # noqa: F401
    ExecutionMode, ExecutionOrder, GraphOptimizationLevel, RunOptions, SessionOptions,
)
from ..session.compile_api import ModelCompiler, OrtCompileApiFlags  # noqa: F401
from ..session.devices import CDevice as OrtDevice  # noqa: F401
from ..session.devices import (  # noqa: F401
    ArenaExtendStrategy, OrtAllocatorType, OrtArenaCfg, OrtCompiledModelCompatibility,
    OrtDeviceEpIncompatibilityReason, OrtDeviceMemoryType, OrtEpDevice,
    OrtExecutionProviderDevicePolicy, OrtExternalInitializerInfo, OrtHardwareDevice,
    OrtHardwareDeviceType, OrtMemoryInfo, OrtMemoryInfoDeviceType, OrtMemType,
    create_and_register_allocator, create_and_register_allocator_v2,
    get_compatibility_info_from_model, get_compatibility_info_from_model_bytes, get_ep_devices,
    get_hardware_device_ep_incompatibility_details, get_hardware_devices,
    get_model_compatibility_for_ep_devices, register_execution_provider_library,
    unregister_execution_provider_library,
)
from ..session.iobinding import CSessionIOBinding as SessionIOBinding  # noqa: F401
from ..session.logging_callback import set_default_logger_callback  # noqa: F401
from ..session.lora import AdapterFormat, LoraAdapter  # noqa: F401
from ..session.model_config import set_global_thread_pool_sizes  # noqa: F401
from ..session.node_arg import ModelMetadata, NodeArg  # noqa: F401
from ..session.ortvalue import COrtValue as OrtValue  # noqa: F401
from ..session.ortvalue import OrtValueVector  # noqa: F401
from ..session.session_api import OrtEpAssignedNode, OrtEpAssignedSubgraph  # noqa: F401
from ..session.sparse import CSparseTensor as SparseTensor  # noqa: F401
from ..session.sparse import OrtSparseFormat, SparseCooView, SparseCsrView  # noqa: F401

kNextPowerOfTwo = ArenaExtendStrategy.kNextPowerOfTwo
kSameAsRequested = ArenaExtendStrategy.kSameAsRequested


def get_default_session_options() -> SessionOptions:
    return SessionOptions()


def is_dlpack_uint8_tensor(dlp) -> bool:
    """Whether a DLPack capsule holds uint8 data (onnxruntime exports bool as uint8)."""
    from ..session.dlpack import is_uint8_capsule
    return is_uint8_capsule(dlp)
