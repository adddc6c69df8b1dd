"""Session creation steps that read the model or the process environment before the graph is
built: ``ORT_LOAD_CONFIG_FROM_MODEL``, initializers supplied for external data, and the
global thread pool setting."""

from __future__ import annotations

import copy
import json
import os
from typing import Dict, Optional

import numpy as np
import onnx
from onnx import numpy_helper

from ..errors import InvalidArgument
from ..options import ExecutionMode, GraphOptimizationLevel, SessionOptions

ORT_CONFIG_KEY = "ort_config"
_global_threads: Optional[tuple] = None


def set_global_thread_pool_sizes(intra_op_num_threads: int = 0,
                                 inter_op_num_threads: int = 0) -> None:
    """Thread pool sizes for sessions with ``use_per_session_threads = False``; once set,
    sessions must not ask for per-session pools (as in onnxruntime)."""
    global _global_threads
    _global_threads = (int(intra_op_num_threads), int(inter_op_num_threads))


def apply_thread_settings(opts: SessionOptions) -> SessionOptions:
    """The options a session uses, given the global thread pool setting."""
    if _global_threads is None:
        return opts
    if opts.use_per_session_threads:
        raise RuntimeError("use_per_session_threads must be false when using a global thread "
                           "pool (set_global_thread_pool_sizes was called)")
    opts = copy.copy(opts)
    opts.intra_op_num_threads, opts.inter_op_num_threads = _global_threads
    return opts


_INT_OPTIONS = {
    "intra_op_num_threads": ("intra_op_num_threads", lambda v: v >= 0, int),
    "inter_op_num_threads": ("inter_op_num_threads", lambda v: v >= 0, int),
    "execution_mode": ("execution_mode", lambda v: v in (0, 1), ExecutionMode),
    "graph_optimization_level": ("graph_optimization_level",
                                 lambda v: v in (0, 1, 2, 3, 99), GraphOptimizationLevel),
    "enable_profiling": ("enable_profiling", lambda v: v in (0, 1), bool),
}


def options_from_model(model: onnx.ModelProto, opts: SessionOptions) -> SessionOptions:
    """With ``ORT_LOAD_CONFIG_FROM_MODEL=1``, the session options stored in the model's
    ``ort_config`` metadata (JSON: ``{"session_options": {...}}``) override ``opts``."""
    if os.environ.get("ORT_LOAD_CONFIG_FROM_MODEL") != "1":
        return opts
    raw = next((p.value for p in model.metadata_props if p.key == ORT_CONFIG_KEY), None)
    if raw is None:
        return opts
    try:
        config = json.loads(raw)
    except ValueError as exc:
        raise InvalidArgument(f"Json stored in the `ort_config` key cannot be parsed. Error "
                              f"message: {exc}") from None
    settings = config.get("session_options", {}) if isinstance(config, dict) else {}
    opts = copy.copy(opts)
    for key, value in settings.items():
        if key not in _INT_OPTIONS:
            continue  # onnxruntime ignores other keys too
        attr, valid, convert = _INT_OPTIONS[key]
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidArgument(f"{key} option in the model file must be an integer")
        if not valid(value):
            raise InvalidArgument(f"Unsupported value for {key} in ORT config: {value}")
        setattr(opts, attr, convert(value))
    return opts


def with_supplied_initializers(model: onnx.ModelProto, opts: SessionOptions) -> onnx.ModelProto:
    """The model with initializers whose data the caller supplied (``add_external_initializers``
    by name, ``add_external_initializers_from_files_in_memory`` by external file name) put in
    place, so that their external data is never read from disk."""
    by_name: Dict[str, np.ndarray] = opts._external_initializers
    files: Dict[str, bytes] = opts._external_files
    if not by_name and not files:
        return model
    unknown = sorted(set(by_name) - {t.name for t in model.graph.initializer})
    if unknown:
        raise InvalidArgument(f"add_external_initializers: {unknown} are not initializers of "
                              "the model")
    model = _copy_model(model)
    for i, tensor in enumerate(model.graph.initializer):
        if tensor.name in by_name:
            arr = by_name[tensor.name]
        elif tensor.data_location == onnx.TensorProto.EXTERNAL and files:
            arr = _from_memory_file(tensor, files)
            if arr is None:
                continue
        else:
            continue
        model.graph.initializer[i].CopyFrom(numpy_helper.from_array(arr, tensor.name))
    return model


def _copy_model(model: onnx.ModelProto) -> onnx.ModelProto:
    out = onnx.ModelProto()
    out.CopyFrom(model)
    return out


def _from_memory_file(tensor, files: Dict[str, bytes]) -> Optional[np.ndarray]:
    from ..ir.types import dtype_of
    info = {e.key: e.value for e in tensor.external_data}
    data = files.get(info.get("location", ""))
    if data is None:
        return None
    offset = int(info.get("offset", 0) or 0)
    dims = list(tensor.dims)
    dt = np.dtype(dtype_of(tensor.data_type))
    nbytes = int(np.prod(dims)) * dt.itemsize
    length = int(info.get("length", nbytes) or nbytes)
    if length != nbytes or offset < 0 or offset + nbytes > len(data):
        raise InvalidArgument(f"initializer '{tensor.name}': external data in memory file "
                              f"'{info.get('location')}' has {len(data)} bytes, {nbytes} needed at "
                              f"offset {offset}")
    return np.frombuffer(data, dtype=dt, count=int(np.prod(dims)), offset=offset).reshape(dims)


def override_dims_by_denotation(graph, model: onnx.ModelProto, values: Dict[str, int]) -> None:
    """Give graph-input dimensions whose denotation (e.g. ``DATA_BATCH``) has an override
    (``add_free_dimension_override_by_denotation``) that fixed size."""
    from ..ir.types import TensorType
    protos = {vi.name: vi for vi in model.graph.input}
    for v in graph.inputs:
        vi = protos.get(v.name)
        if vi is None or not isinstance(v.type, TensorType) or v.type.shape is None or \
                not vi.type.HasField("tensor_type"):
            continue
        dims = vi.type.tensor_type.shape.dim
        if len(dims) != len(v.type.shape):
            continue
        shape = tuple(values.get(d.denotation, s) if d.denotation and not isinstance(s, int)
                      else s for d, s in zip(dims, v.type.shape))
        v.type = TensorType(v.type.elem, shape)
