"""NodeArg and ModelMetadata, as onnxruntime's Python API shows them."""

from __future__ import annotations

from typing import Dict, List, Optional, Union

from ..ir.types import TensorType, TypeInfo


class NodeArg:
    """Name, type string (``'tensor(float)'``) and shape (ints, dim_param strings or None)."""

    __slots__ = ("name", "type", "shape")

    def __init__(self, name: str, type_info: Optional[TypeInfo]) -> None:
        self.name = name
        self.type = type_info.type_string() if type_info is not None else "tensor(undefined)"
        shape = getattr(type_info, "shape", None)
        self.shape: List[Union[int, str, None]] = list(shape) if shape is not None else []
        if not isinstance(type_info, TensorType) and type_info is not None:
            self.shape = [] if shape is None else self.shape

    def __repr__(self) -> str:
        return f"NodeArg(name={self.name!r}, type={self.type!r}, shape={self.shape!r})"

    def __str__(self) -> str:
        return self.__repr__()


class ModelMetadata:
    """``get_modelmeta()``'s result."""

    def __init__(self, model) -> None:
        self.producer_name = model.producer_name
        self.graph_name = model.graph.name
        self.domain = model.domain
        self.description = model.doc_string
        self.graph_description = model.graph.doc_string
        self.version = model.model_version
        self.custom_metadata_map: Dict[str, str] = {p.key: p.value for p in model.metadata_props}

    def __repr__(self) -> str:
        return (f"ModelMetadata(producer_name={self.producer_name!r}, graph_name="
                f"{self.graph_name!r}, version={self.version})")
