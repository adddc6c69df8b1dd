"""Saving the optimized graph (``SessionOptions.optimized_model_filepath``)."""

from __future__ import annotations

import onnx

from ..ir.to_proto import model_to_proto
from .external_initializers import import_node_domains, place_for_config


def save_optimized(graph, template: onnx.ModelProto, path: str, config=None) -> None:
    model = model_to_proto(graph, template)
    import_node_domains(model)
    place_for_config(model, path, config)  # session.optimized_model_external_initializers_*
    onnx.save(model, path)
