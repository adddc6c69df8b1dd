"""Saving the optimized graph (``SessionOptions.optimized_model_filepath``)."""

from __future__ import annotations

import onnx

from ..ir.to_proto import model_to_proto


def save_optimized(graph, template: onnx.ModelProto, path: str) -> None:
    model = model_to_proto(graph, template)
    onnx.save(model, path)
