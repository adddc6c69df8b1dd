"""``ModelCompiler``: onnxruntime's compile API. Compiling means asking execution providers to
turn subgraphs into EPContext nodes; onnxrun's providers compile nothing, so the output is the
model as onnxrun optimizes it at ``graph_optimization_level`` (default ORT_DISABLE_ALL: the
model itself), with initializers placed as requested, and the flags give onnxruntime's errors
(``ERROR_IF_NO_NODES_COMPILED`` always fails: no provider compiles)."""

from __future__ import annotations

import enum
import os
from typing import Callable, Optional

import numpy as np
import onnx

from ..errors import Fail
from ..ir.to_proto import model_to_proto
from ..optimizer.external_initializers import import_node_domains, move_initializers
from ..optimizer.portable import make_portable
from ..options import GraphOptimizationLevel, SessionOptions


class OrtCompileApiFlags(enum.IntEnum):
    NONE = 0
    ERROR_IF_NO_NODES_COMPILED = 1
    ERROR_IF_OUTPUT_FILE_EXISTS = 2


class ModelCompiler:
    """Compile a model (path or bytes) with a session's options and providers."""

    def __init__(self, sess_options: SessionOptions, input_model_path_or_bytes,
                 embed_compiled_data_into_model: bool = False,
                 external_initializers_file_path=None,
                 external_initializers_size_threshold: int = 1024,
                 flags: int = OrtCompileApiFlags.NONE,
                 graph_optimization_level=GraphOptimizationLevel.ORT_DISABLE_ALL,
                 get_initializer_location_func: Optional[Callable] = None) -> None:
        if isinstance(input_model_path_or_bytes, (str, os.PathLike)):
            self._source = os.fspath(input_model_path_or_bytes)
        elif isinstance(input_model_path_or_bytes, (bytes, bytearray)):
            self._source = bytes(input_model_path_or_bytes)
        else:
            raise TypeError(f"Unable to load from type '{type(input_model_path_or_bytes)}'")
        self._options = sess_options if sess_options is not None else SessionOptions()
        self._embed = bool(embed_compiled_data_into_model)
        self._ext_path = os.fspath(external_initializers_file_path) \
            if external_initializers_file_path else None
        self._threshold = int(external_initializers_size_threshold)
        self._flags = int(flags)
        self._level = GraphOptimizationLevel(int(graph_optimization_level))
        self._location_func = get_initializer_location_func

    def _compiled(self, output_path: Optional[str]) -> onnx.ModelProto:
        import copy
        from .inference_session import InferenceSession
        if self._flags & OrtCompileApiFlags.ERROR_IF_NO_NODES_COMPILED:
            raise Fail("Unable to compile any nodes. Check that the session EPs support "
                       "compilation and can execute at least one subgraph in the model.")
        opts = copy.copy(self._options)
        opts.graph_optimization_level = self._level
        opts.optimized_model_filepath = ""
        session = InferenceSession(self._source, sess_options=opts)
        model = model_to_proto(session._core.graph, session._model)
        make_portable(model)  # onnxrun's fused nodes get function bodies (optimizer/portable.py)
        import_node_domains(model)
        self._place_initializers(model, session, output_path)
        return model

    def _place_initializers(self, model: onnx.ModelProto, session, output_path) -> None:
        original = {t.name: t for t in session._model.graph.initializer}
        if self._location_func is not None:
            from .devices import OrtExternalInitializerInfo
            from .ortvalue import OrtValue

            def place(name, raw):
                arr = onnx.numpy_helper.to_array(next(t for t in model.graph.initializer
                                                      if t.name == name))
                info = self._location_func(name, OrtValue.ortvalue_from_numpy(
                    np.ascontiguousarray(arr)), _external_info(original.get(name)))
                if info is None:
                    return None
                if not isinstance(info, OrtExternalInitializerInfo):
                    raise Fail(f"get_initializer_location_func returned {type(info).__name__} "
                               f"for '{name}', expected OrtExternalInitializerInfo or None")
                return info.filepath, info.file_offset, info.byte_size
            move_initializers(model, place)
        elif self._ext_path:
            base = os.path.dirname(os.path.abspath(output_path)) if output_path else os.getcwd()
            with open(os.path.join(base, self._ext_path), "wb") as f:
                def place(name, raw):
                    if len(raw) < self._threshold:
                        return None
                    offset = f.tell()
                    f.write(raw)
                    return self._ext_path, offset, len(raw)
                move_initializers(model, place)

    def compile_to_file(self, output_model_path) -> None:
        """Write the compiled model to ``output_model_path``."""
        path = os.fspath(output_model_path)
        if self._flags & OrtCompileApiFlags.ERROR_IF_OUTPUT_FILE_EXISTS and os.path.exists(path):
            raise Fail(f"Failed to generate EP context model since the file '\"{path}\"' exists "
                       "already. Please remove the EP context model if you want to re-generate "
                       "it.")
        data = self._compiled(path).SerializeToString()
        with open(path, "wb") as f:
            f.write(data)

    def compile_to_bytes(self) -> bytes:
        """The compiled model, serialized."""
        return self._compiled(None).SerializeToString()

    def compile_to_stream(self, write_function: Callable[[bytes], None]) -> None:
        """Hand the serialized compiled model to ``write_function`` (called with bytes)."""
        data = self._compiled(None).SerializeToString()
        chunk = 1 << 20
        for start in range(0, max(len(data), 1), chunk):
            try:
                write_function(data[start:start + chunk])
            except Exception as exc:  # the caller's error, reported as onnxruntime does
                raise Fail(f"{type(exc).__name__}: {exc}") from exc


def _external_info(tensor):
    from .devices import OrtExternalInitializerInfo
    if tensor is None or tensor.data_location != onnx.TensorProto.EXTERNAL:
        return None
    info = {e.key: e.value for e in tensor.external_data}
    return OrtExternalInitializerInfo(info.get("location", ""), int(info.get("offset", 0) or 0),
                                      int(info.get("length", 0) or 0))
