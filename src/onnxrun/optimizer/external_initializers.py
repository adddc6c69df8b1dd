"""Writing a saved model's large initializers to an external data file: the session config
entries ``session.optimized_model_external_initializers_file_name`` and
``session.optimized_model_external_initializers_min_size_in_bytes`` (for
``optimized_model_filepath``), and the placement callbacks of the compile API."""

from __future__ import annotations

import os
from typing import Callable, Dict, Optional

import onnx

EXTERNAL_FILE_KEY = "session.optimized_model_external_initializers_file_name"
EXTERNAL_MIN_SIZE_KEY = "session.optimized_model_external_initializers_min_size_in_bytes"
DEFAULT_EXTERNAL_MIN_SIZE = 1024


def place_for_config(model: onnx.ModelProto, path: str, config: Optional[Dict[str, str]]) -> None:
    """With the config's file name set, move initializers of at least the minimum size into
    that file, beside the model saved at ``path``."""
    file_name = (config or {}).get(EXTERNAL_FILE_KEY)
    if not file_name:
        return
    min_size = int((config or {}).get(EXTERNAL_MIN_SIZE_KEY) or DEFAULT_EXTERNAL_MIN_SIZE)
    base = os.path.dirname(os.path.abspath(path))
    with open(os.path.join(base, file_name), "wb") as f:
        move_initializers(model, lambda name, raw: _append(f, file_name, raw)
                          if len(raw) >= min_size else None)


def _append(f, location: str, raw: bytes):
    f.seek(0, os.SEEK_END)
    f.write(b"\0" * ((-f.tell()) % 64))  # keep each tensor aligned for memory mapping
    offset = f.tell()
    f.write(raw)
    return location, offset, len(raw)


def move_initializers(model: onnx.ModelProto, place: Callable) -> None:
    """For each initializer of the main graph with raw data, ``place(name, raw_bytes)`` returns
    None (keep it in the model) or ``(location, offset, length)``: the tensor then refers to
    that external data."""
    for tensor in model.graph.initializer:
        if not tensor.HasField("raw_data"):
            continue
        where = place(tensor.name, tensor.raw_data)
        if where is None:
            continue
        location, offset, length = where
        tensor.ClearField("raw_data")
        tensor.data_location = onnx.TensorProto.EXTERNAL
        del tensor.external_data[:]
        for key, value in (("location", location), ("offset", str(offset)),
                           ("length", str(length))):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value


def import_node_domains(model: onnx.ModelProto) -> None:
    """Add an opset import (version 1) for every node domain the model lacks one for (fused
    nodes in onnxrun's own domain), so that the saved model loads again."""
    have = {o.domain for o in model.opset_import}
    used = set()

    def visit(graph):
        for node in graph.node:
            used.add(node.domain)
            for a in node.attribute:
                for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
                    visit(g)
    visit(model.graph)
    for domain in sorted(used - have - {"ai.onnx"}):
        model.opset_import.append(onnx.helper.make_opsetid(domain, 1))
