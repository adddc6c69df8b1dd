"""The names programs import from ``onnxruntime.capi.onnxruntime_pybind11_state``."""

from ..errors import (  # noqa: F401
    EngineError, EPFail, Fail, InvalidArgument, InvalidGraph, InvalidProtobuf, ModelLoaded,
    ModelRequiresCompilation, NoModel, NoSuchFile, NotImplemented, OnnxRuntimeError,
    RuntimeException,
)
from ..options import ExecutionMode, GraphOptimizationLevel, RunOptions, SessionOptions  # noqa: F401
