"""Value types for the IR, from onnx's shape inference run on a weight-free copy of the model.

Running ``onnx.shape_inference`` on the whole model serializes every weight and keeps a second
copy of them (for BERT-base: 6.7 s and 415 MB). Large initializers do not affect inferred types
beyond their own declared type and dims, so they are replaced by typed graph inputs in the copy
shape inference sees; small ones (shape constants) stay, for data propagation.

Long repeated attributes (a tree ensemble's node lists: hundreds of thousands of values) are
cut to their first element in that copy too, except those whose length or contents shape an
output type (class labels, categories, vocabularies) and those of Constant. The IR takes such
nodes from the original model (``originals``).
"""

from __future__ import annotations

import math
from typing import Dict, List, Set, Tuple

import onnx
from onnx import AttributeProto, helper

SMALL = 1024  # initializers with at most this many elements stay for shape inference
_REPEATED = {AttributeProto.INTS: "ints", AttributeProto.FLOATS: "floats",
             AttributeProto.STRINGS: "strings"}
#: attributes whose length or values the type inference of their op reads
_KEEP_PREFIXES = ("classlabels", "cats_", "int64_vocabulary", "string_vocabulary")


def _light_node(node: onnx.NodeProto):
    """A copy of ``node`` with long repeated attributes cut to one element, or None when the
    node has none (or must stay whole)."""
    if node.op_type == "Constant":
        return None
    long_attrs = [a for a in node.attribute if a.type in _REPEATED and
                  len(getattr(a, _REPEATED[a.type])) > SMALL and
                  not a.name.startswith(_KEEP_PREFIXES)]
    if not long_attrs:
        return None
    cut = {id(a) for a in long_attrs}
    light = onnx.NodeProto(name=node.name, op_type=node.op_type, domain=node.domain,
                           input=node.input, output=node.output)
    for a in node.attribute:
        if id(a) not in cut:
            light.attribute.append(a)
            continue
        field = _REPEATED[a.type]
        short = light.attribute.add(name=a.name, type=a.type)
        getattr(short, field).append(getattr(a, field)[0])
    return light


def infer_types(model: onnx.ModelProto) -> Tuple[onnx.ModelProto, List[onnx.TensorProto], Set[str],
                                                Dict[int, onnx.NodeProto]]:
    """(inferred light model, the large initializers left out of it, names of the typed
    inputs that stand in for them in the light model, {index: original node} for the main
    graph's nodes whose attributes the light model cuts)."""
    light = onnx.ModelProto()  # what shape inference reads: IR version, opsets, functions
    light.ir_version = model.ir_version
    light.opset_import.extend(model.opset_import)
    light.functions.extend(model.functions)
    src, g = model.graph, light.graph
    g.name = src.name
    originals: Dict[int, onnx.NodeProto] = {}
    for i, node in enumerate(src.node):
        light_node = _light_node(node)
        if light_node is None:
            g.node.append(node)
        else:
            g.node.append(light_node)
            originals[i] = node
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
    return inferred, large, stand_ins, originals
