"""Saving the optimized graph (``SessionOptions.optimized_model_filepath``).

The file is plain ONNX that onnxrun and onnxruntime both load: onnxrun's fused com.onnxrun nodes
are written with a model-local function body each (see :mod:`.portable`), which onnxrun replaces
by its fused kernels again and other runtimes inline."""

from __future__ import annotations

import onnx

from ..errors import Fail
from ..ir.to_proto import model_to_proto
from .external_initializers import import_node_domains, place_for_config
from .portable import make_portable


def save_optimized(graph, template: onnx.ModelProto, path: str, config=None) -> None:
    model = model_to_proto(graph, template)
    _, missing = make_portable(model)
    if missing:  # a fused op added without a body builder: a bug, never a silent bad file
        raise Fail(f"cannot save the optimized model: no function body for com.onnxrun "
                   f"op(s) {', '.join(missing)}")
    import_node_domains(model)  # other domains whose nodes the graph holds (com.microsoft)
    place_for_config(model, path, config)  # session.optimized_model_external_initializers_*
    onnx.save(model, path)
