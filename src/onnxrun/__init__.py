"""onnxrun: ONNX Runtime in pure Python on NumPy, a drop-in for onnxruntime's Python API.

    import onnxrun as onnxruntime
    sess = onnxruntime.InferenceSession("model.onnx")
    out = sess.run(None, {sess.get_inputs()[0].name: x})
"""

from __future__ import annotations

from . import errors  # noqa: F401
from .errors import (  # noqa: F401
    EngineError, EPFail, Fail, InvalidArgument, InvalidGraph, InvalidProtobuf, ModelLoaded,
    NoModel, NoSuchFile, NotImplemented, OnnxRuntimeError, RuntimeException,
)
from .kernels.registry import kernel  # noqa: F401
from .options import (  # noqa: F401
    ExecutionMode, ExecutionOrder, GraphOptimizationLevel, RunOptions, SessionOptions,
)
from .providers import ALL_PROVIDERS as _ALL_PROVIDERS
from .providers import ExecutionProvider, available_providers, register_provider  # noqa: F401
from .session import InferenceSession, ModelMetadata, NodeArg  # noqa: F401
from .session.compile_api import ModelCompiler, OrtCompileApiFlags  # noqa: F401
from .session.devices import (  # noqa: F401
    OrtAllocatorType, OrtArenaCfg, OrtDevice, OrtDeviceMemoryType, OrtDeviceVendorId,
    OrtEpDevice, OrtExecutionProviderDevicePolicy, OrtExternalInitializerInfo,
    OrtHardwareDevice, OrtHardwareDeviceType, OrtMemoryInfo, OrtMemoryInfoDeviceType, OrtMemType,
    create_and_register_allocator, create_and_register_allocator_v2, get_ep_devices,
    register_execution_provider_library, unregister_execution_provider_library,
)
from .session.iobinding import CSessionIOBinding as SessionIOBinding  # noqa: F401
from .session.iobinding import IOBinding  # noqa: F401
from .session.logging_callback import set_default_logger_callback  # noqa: F401
from .session.lora import AdapterFormat, LoraAdapter  # noqa: F401
from .session.model_config import set_global_thread_pool_sizes  # noqa: F401
from .session.ortvalue import OrtValue  # noqa: F401
from .session.session_api import OrtEpAssignedNode, OrtEpAssignedSubgraph  # noqa: F401
from .session.sparse import OrtSparseFormat, SparseTensor  # noqa: F401
from .version import __version__  # noqa: F401

_logger_severity = 2
_telemetry = False


def get_available_providers():
    """Providers usable in this process, CPU last."""
    return available_providers()


def get_all_providers():
    """Every provider name onnxruntime knows of (most are not available here)."""
    names = list(_ALL_PROVIDERS)
    for n in available_providers():
        if n not in names:
            names.insert(len(names) - 1, n)
    return names


def get_device() -> str:
    return "CPU"


def get_version_string() -> str:
    return __version__


def get_build_info() -> str:
    """Build description; starts like onnxruntime's (``ORT Build Info: ...``)."""
    import numpy
    return (f"ORT Build Info: onnxrun {__version__}, pure Python on NumPy {numpy.__version__}, "
            "build type=Release")


def set_default_logger_severity(level: int) -> None:
    global _logger_severity
    if not 0 <= int(level) <= 4:
        raise ValueError("Invalid logging severity level (0-4)")
    _logger_severity = int(level)


def set_default_logger_verbosity(level: int) -> None:
    """Accepted for compatibility; onnxrun logs through Python's warnings."""


def disable_telemetry_events() -> None:
    """onnxrun sends no telemetry; kept for compatibility."""
    global _telemetry
    _telemetry = False


def enable_telemetry_events() -> None:
    """onnxrun sends no telemetry; kept for compatibility."""


def set_seed(seed: int) -> None:
    """Seed the random ops (RandomNormal and friends without a ``seed`` attribute)."""
    import numpy as np
    from .kernels import _random_state
    _random_state.seed(int(seed))


# ---- tools beyond onnxruntime's API (see onnxrun.tools) ------------------------------------
from .tools.custom_ops import custom_op  # noqa: E402,F401
from .tools.tracing import Tracer  # noqa: E402,F401
from . import capi  # noqa: E402,F401  (onnxruntime.capi is an attribute after import)
