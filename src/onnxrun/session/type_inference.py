"""Value types for the IR, from onnx's shape inference run on a weight-free copy of the model.

Running ``onnx.shape_inference`` on the whole model serializes every weight and keeps a second
copy of them (for BERT-base: 6.7 s and 415 MB). Large initializers do not affect inferred types
beyond their own declared type and dims, so they are replaced by typed graph inputs in the copy
shape inference sees; small ones (shape constants) stay, for data propagation.
"""

from __future__ import annotations

import math
from typing import List, Set, Tuple

import onnx
from onnx import helper

SMALL = 1024  # initializers with at most this many elements stay for shape inference


def infer_types(model: onnx.ModelProto) -> Tuple[onnx.ModelProto, List[onnx.TensorProto], Set[str]]:
    """(inferred light model, the large initializers left out of it, names of the typed
    inputs that stand in for them in the light model)."""
    light = onnx.ModelProto()  # what shape inference reads: IR version, opsets, functions
    light.ir_version = model.ir_version
    light.opset_import.extend(model.opset_import)
    light.functions.extend(model.functions)
    src, g = model.graph, light.graph
    g.name = src.name
    g.node.extend(src.node)
    g.input.extend(src.input)
    g.output.extend(src.output)
    g.value_info.extend(src.value_info)
    g.sparse_initializer.extend(src.sparse_initializer)
    declared = {i.name for i in src.input}
    large: List[onnx.TensorProto] = []
    stand_ins: Set[str] = set()
    for t in src.initializer:
        if math.prod(t.dims) <= SMALL:
            g.initializer.append(t)
            continue
        large.append(t)
        if t.name not in declared:
            g.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
            stand_ins.add(t.name)
    try:
        inferred = onnx.shape_inference.infer_shapes(light, check_type=False, strict_mode=False)
    except Exception:  # inference is a help, never a requirement
        inferred = light
    return inferred, large, stand_ins
