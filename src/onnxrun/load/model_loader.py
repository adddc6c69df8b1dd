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
    """Walk every message of the model once, without recursing, and refuse:

    * subgraphs nested more than ``limit`` graphs deep, and type descriptions (sequence of
      sequence of ...) nested more than ``limit`` deep: later stages recurse over both;
    * string fields that are not valid UTF-8 (ONNX requires UTF-8; protobuf hands such fields
      to Python as ``bytes``, which no later stage expects).
    """
    stack = [(model, 0, 0, "model")]
    while stack:
        msg, graphs, types, where = stack.pop()
        for field, value in msg.ListFields():
            if field.type == _STRING:
                values = value if _is_repeated(field) else (value,)
                for v in values:
                    if not isinstance(v, str):
                        raise InvalidProtobuf(
                            f"Failed to load model: field {field.full_name} of {where} is not "
                            f"valid UTF-8 ({bytes(v)[:40]!r})")
                continue
            if field.type not in (_MESSAGE, _GROUP):
                continue
            kind = field.message_type.full_name
            g = graphs + (kind == "onnx.GraphProto")
            t = types + (kind == "onnx.TypeProto")
            if g > limit + 1:  # the main graph is level 1
                raise InvalidGraph(f"subgraphs are nested more than {limit} levels deep (in "
                                   f"{where}); onnxrun refuses such models")
            if t > limit:
                raise InvalidGraph(f"types are nested more than {limit} levels deep (in "
                                   f"{where}); onnxrun refuses such models")
            children = value if _is_repeated(field) else (value,)
            for child in children:
                stack.append((child, g, t, _describe(child, where)))


_FD = onnx.AttributeProto.DESCRIPTOR.fields_by_name["name"]
_STRING = _FD.TYPE_STRING
_MESSAGE = _FD.TYPE_MESSAGE
_GROUP = _FD.TYPE_GROUP


def _is_repeated(field) -> bool:
    rep = getattr(field, "is_repeated", None)
    if rep is not None:
        return bool(rep)
    return field.label == field.LABEL_REPEATED


def _describe(msg, parent: str) -> str:
    kind = msg.DESCRIPTOR.name
    if kind == "NodeProto":
        name = msg.name if isinstance(msg.name, str) else "?"
        op = msg.op_type if isinstance(msg.op_type, str) else "?"
        return f"node '{name}' ({op})"
    if kind == "AttributeProto":
        name = msg.name if isinstance(msg.name, str) else "?"
        return f"{parent} attribute '{name}'"
    if kind in ("GraphProto", "FunctionProto", "TensorProto", "ValueInfoProto"):
        name = msg.name if isinstance(msg.name, str) else "?"
        return f"{kind[:-5].lower()} '{name}'"
    return parent
