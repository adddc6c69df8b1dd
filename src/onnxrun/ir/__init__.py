"""onnxrun's own graph representation (free of protobuf) and its conversion from ONNX protos."""

from .graph import Graph, Node, Value  # noqa: F401
from .types import MapType, OptionalType, SequenceType, TensorType, TypeInfo  # noqa: F401
