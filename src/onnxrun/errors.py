"""onnxruntime's exception classes, with its status codes and message form.

onnxruntime raises ``[ONNXRuntimeError] : <code> : <CODE_NAME> : <message>``; programs catch the
classes by name (``onnxruntime.capi.onnxruntime_pybind11_state.InvalidArgument``), so the names,
codes and the message prefix are kept exactly.
"""

from __future__ import annotations

import builtins

__all__ = [
    "OnnxRuntimeError", "Fail", "InvalidArgument", "NoSuchFile", "NoModel", "EngineError",
    "RuntimeException", "InvalidProtobuf", "ModelLoaded", "NotImplemented", "InvalidGraph",
    "EPFail", "ModelRequiresCompilation", "KernelRegistrationError",
]


class OnnxRuntimeError(Exception):
    """Base of every error onnxrun raises on purpose; ``code`` is onnxruntime's status code."""

    code = 1
    code_name = "FAIL"

    def __init__(self, message: str = "") -> None:
        self.message = message
        super().__init__(f"[ONNXRuntimeError] : {self.code} : {self.code_name} : {message}")

    def with_prefix(self, prefix: str) -> "OnnxRuntimeError":
        """The same error class with ``prefix`` put in front of the message."""
        err = type(self)(prefix + self.message)
        err.__cause__ = self.__cause__ or self
        return err


class Fail(OnnxRuntimeError):
    code, code_name = 1, "FAIL"


class InvalidArgument(OnnxRuntimeError):
    code, code_name = 2, "INVALID_ARGUMENT"


class NoSuchFile(OnnxRuntimeError):
    code, code_name = 3, "NO_SUCHFILE"


class NoModel(OnnxRuntimeError):
    code, code_name = 4, "NO_MODEL"


class EngineError(OnnxRuntimeError):
    code, code_name = 5, "ENGINE_ERROR"


class RuntimeException(OnnxRuntimeError):
    code, code_name = 6, "RUNTIME_EXCEPTION"


class InvalidProtobuf(OnnxRuntimeError):
    code, code_name = 7, "INVALID_PROTOBUF"


class ModelLoaded(OnnxRuntimeError):
    code, code_name = 8, "MODEL_LOADED"


class NotImplemented(OnnxRuntimeError):  # noqa: A001 - onnxruntime's name
    code, code_name = 9, "NOT_IMPLEMENTED"


class InvalidGraph(OnnxRuntimeError):
    code, code_name = 10, "INVALID_GRAPH"


class EPFail(OnnxRuntimeError):
    code, code_name = 11, "EP_FAIL"


class ModelRequiresCompilation(OnnxRuntimeError):
    code, code_name = 12, "MODEL_REQUIRES_COMPILATION"


class KernelRegistrationError(builtins.RuntimeError):
    """A programming error in kernel registration (e.g. the same key registered twice)."""
