"""onnxrun IR -> ONNX protos (to save optimized models and to ask onnx for function bodies)."""

from __future__ import annotations

from typing import Optional

import numpy as np
import onnx
from onnx import AttributeProto, helper, numpy_helper

from .convert import AttrRef
from .graph import Graph, Node, Value
from .types import MapType, OptionalType, SequenceType, SparseTensorType, TensorType, TypeInfo


def array_to_tensor(name: str, arr: np.ndarray) -> onnx.TensorProto:
    if arr.dtype == object:
        t = helper.make_tensor(name, onnx.TensorProto.STRING, arr.shape,
                               [s.encode("utf-8", errors="surrogateescape") if isinstance(s, str)
                                else s for s in arr.reshape(-1)])
        return t
    return numpy_helper.from_array(np.asarray(arr), name)


def attr_to_proto(name: str, value, attr_type: Optional[int] = None) -> AttributeProto:
    if isinstance(value, AttrRef):
        a = AttributeProto(name=name, ref_attr_name=value.name)
        if attr_type is not None:
            a.type = attr_type
        return a
    if isinstance(value, Graph):
        return helper.make_attribute(name, graph_to_proto(value))
    if isinstance(value, np.ndarray):
        return helper.make_attribute(name, array_to_tensor("", value))
    if isinstance(value, onnx.TypeProto):
        return helper.make_attribute(name, value)
    if isinstance(value, list):
        if not value:
            return helper.make_attribute(name, [], attr_type=attr_type or AttributeProto.INTS)
        if isinstance(value[0], Graph):
            return helper.make_attribute(name, [graph_to_proto(g) for g in value])
        if isinstance(value[0], np.ndarray):
            return helper.make_attribute(name, [array_to_tensor("", v) for v in value])
        if isinstance(value[0], str):
            return helper.make_attribute(name, [v.encode("utf-8", errors="surrogateescape")
                                                for v in value])
        return helper.make_attribute(name, value)
    if isinstance(value, str):
        return helper.make_attribute(name, value.encode("utf-8", errors="surrogateescape"))
    return helper.make_attribute(name, value)


def node_to_proto(node: Node) -> onnx.NodeProto:
    p = helper.make_node(node.op_type, [v.name if v is not None else "" for v in node.inputs],
                         [v.name if v is not None else "" for v in node.outputs],
                         name=node.name, domain=node.domain)
    p.attribute.extend(attr_to_proto(k, v) for k, v in node.attrs.items())
    if node.doc:
        p.doc_string = node.doc
    if node.overload:
        p.overload = node.overload
    return p


def type_to_proto(t: Optional[TypeInfo]) -> onnx.TypeProto:
    tp = onnx.TypeProto()
    if isinstance(t, TensorType):
        tp.tensor_type.elem_type = t.elem
        if t.shape is not None:
            tp.tensor_type.shape.SetInParent()
            for d in t.shape:
                dim = tp.tensor_type.shape.dim.add()
                if isinstance(d, int):
                    dim.dim_value = d
                elif isinstance(d, str):
                    dim.dim_param = d
    elif isinstance(t, SparseTensorType):
        tp.sparse_tensor_type.elem_type = t.elem
    elif isinstance(t, SequenceType):
        tp.sequence_type.elem_type.CopyFrom(type_to_proto(t.elem))
    elif isinstance(t, MapType):
        tp.map_type.key_type = t.key
        tp.map_type.value_type.CopyFrom(type_to_proto(t.value))
    elif isinstance(t, OptionalType):
        tp.optional_type.elem_type.CopyFrom(type_to_proto(t.elem))
    return tp


def value_info(v: Value) -> onnx.ValueInfoProto:
    vi = onnx.ValueInfoProto(name=v.name)
    if v.type is not None:
        vi.type.CopyFrom(type_to_proto(v.type))
    return vi


def graph_to_proto(g: Graph) -> onnx.GraphProto:
    gp = onnx.GraphProto(name=g.name)
    gp.doc_string = g.doc
    gp.input.extend(value_info(v) for v in g.inputs)
    gp.output.extend(value_info(v) for v in g.outputs)
    gp.initializer.extend(array_to_tensor(v.name, v.const) for v in g.values.values()
                          if v.const is not None and (v.uses or g.is_graph_output(v)))
    gp.node.extend(node_to_proto(n) for n in g.nodes)
    seen = {v.name for v in g.inputs} | {v.name for v in g.outputs}
    for n in g.nodes:
        for v in n.outputs:
            if v is not None and v.type is not None and v.name not in seen:
                gp.value_info.append(value_info(v))
    return gp


def model_to_proto(g: Graph, template: Optional[onnx.ModelProto] = None) -> onnx.ModelProto:
    """A ModelProto of ``g``; metadata copied from ``template`` when given."""
    m = onnx.ModelProto()
    if template is not None:
        m.CopyFrom(template)
        m.ClearField("graph")
        m.ClearField("opset_import")
    else:
        m.ir_version = onnx.IR_VERSION
    m.graph.CopyFrom(graph_to_proto(g))
    for dom, ver in sorted(g.opsets.items()):
        m.opset_import.append(helper.make_opsetid(dom, ver))
    return m
