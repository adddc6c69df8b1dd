"""Read a model from a path, bytes or an ``onnx.ModelProto``, with onnxruntime's errors."""

from __future__ import annotations

import os
from typing import Optional, Tuple

import onnx
from google.protobuf.message import DecodeError

from ..errors import Fail, InvalidArgument, InvalidGraph, InvalidProtobuf, NoSuchFile

MAX_IR_VERSION = onnx.IR_VERSION


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
