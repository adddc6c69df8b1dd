"""Read a model from a path, bytes or an ``onnx.ModelProto``, with onnxruntime's errors."""

from __future__ import annotations

import os
from typing import Optional, Tuple

import onnx
from google.protobuf.message import DecodeError

from ..errors import Fail, InvalidArgument, InvalidGraph, InvalidProtobuf, NoSuchFile

MAX_IR_VERSION = onnx.IR_VERSION

#: Deepest nesting of subgraphs (If/Loop/Scan bodies inside bodies) and of type descriptions
#: (sequence of sequence of ...) accepted. Models parsed from bytes cannot exceed about 32
#: levels anyway (protobuf's own recursion limit of 100 messages); this bounds models handed
#: over as ``ModelProto`` objects, so that no later stage can run out of Python stack.
MAX_NESTING = 64


def load_model(source) -> Tuple[onnx.ModelProto, Optional[str]]:
    """Return ``(model, base_dir)``; ``base_dir`` is the folder external data is read from
    (``None`` for a model given as bytes or as a proto without a known location)."""
    if isinstance(source, onnx.ModelProto):
        model, base_dir = source, None
    elif isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise NoSuchFile(f"Load model from {path} failed:Load model {path} failed. "
                             "File doesn't exist")
        with open(path, "rb") as f:
            model = _parse(f.read())
        base_dir = os.path.dirname(os.path.abspath(path))
    elif isinstance(source, (bytes, bytearray, memoryview)):
        model, base_dir = _parse(bytes(source)), None
    else:
        raise TypeError(f"Unable to load from type '{type(source)}'")
    check_model_header(model)
    check_nesting(model)
    return model, base_dir


def _parse(data: bytes) -> onnx.ModelProto:
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise InvalidProtobuf("Failed to load model because protobuf parsing failed.") from exc
    return model


def check_model_header(model: onnx.ModelProto) -> None:
    """The model-level checks onnxruntime makes before it looks at the graph."""
    if not model.HasField("graph"):
        raise InvalidArgument("No graph was found in the protobuf.")
    if model.ir_version > MAX_IR_VERSION:
        raise Fail(f"Unsupported model IR version: {model.ir_version}, "
                   f"max supported IR version: {MAX_IR_VERSION}")
    if not model.opset_import and model.ir_version >= 3:
        raise InvalidGraph("Missing opset in the model. All ModelProtos MUST have at least one "
                           "entry that specifies which version of the ONNX OperatorSet is being "
                           "imported.")


def check_nesting(model: onnx.ModelProto, limit: int = MAX_NESTING) -> None:
    """Refuse subgraphs or types nested deeper than ``limit``, without recursing."""
    stack = [(model.graph, 0, "main graph")]
    for f in model.functions:
        stack.append((f, 0, f"function '{f.domain}:{f.name}'"))
    while stack:
        g, depth, where = stack.pop()
        if depth > limit:
            raise InvalidGraph(f"subgraphs are nested more than {limit} levels deep (at {where}); "
                               "onnxrun refuses such models")
        if isinstance(g, onnx.GraphProto):
            for vi in list(g.input) + list(g.output) + list(g.value_info):
                if vi.HasField("type"):
                    _check_type_depth(vi.type, limit, vi.name)
        for node in g.node:
            for a in node.attribute:
                if a.type == onnx.AttributeProto.GRAPH or a.HasField("g"):
                    stack.append((a.g, depth + 1, f"node '{node.name}' ({node.op_type}) "
                                                  f"attribute '{a.name}'"))
                for sub in a.graphs:
                    stack.append((sub, depth + 1, f"node '{node.name}' ({node.op_type}) "
                                                  f"attribute '{a.name}'"))
                if a.HasField("tp"):
                    _check_type_depth(a.tp, limit, a.name)
                for tp in a.type_protos:
                    _check_type_depth(tp, limit, a.name)


def _check_type_depth(tp: onnx.TypeProto, limit: int, name: str) -> None:
    depth = 0
    while True:
        kind = tp.WhichOneof("value")
        if kind == "sequence_type":
            tp = tp.sequence_type.elem_type
        elif kind == "optional_type":
            tp = tp.optional_type.elem_type
        elif kind == "map_type":
            tp = tp.map_type.value_type
        else:
            return
        depth += 1
        if depth > limit:
            raise InvalidGraph(f"the type of '{name}' is nested more than {limit} levels deep; "
                               "onnxrun refuses such models")
