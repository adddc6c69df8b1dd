"""Inline function bodies: model-local functions and onnx schema functions (plain or
context-dependent) for nodes that no provider has a kernel for."""

from __future__ import annotations

from typing import Dict, Optional

import onnx

from ..errors import InvalidGraph
from ..ir.convert import AttrRef, Converter
from ..ir.graph import Graph, Node, Value
from ..ir.to_proto import node_to_proto, type_to_proto
from .resolver import get_schema


def function_body(node: Node, graph: Graph) -> Optional[onnx.FunctionProto]:
    """The FunctionProto to expand ``node`` with, or None."""
    local = graph.functions.get((node.domain, node.op_type, node.overload))
    if local is None and node.domain == "":
        local = graph.functions.get(("ai.onnx", node.op_type, node.overload))
    if local is not None:
        return local
    opset = graph.opsets.get(node.domain, 1)
    schema = get_schema(node.op_type, opset, node.domain)
    if schema is None:
        return None
    if schema.has_function:
        try:
            body = schema.get_function_with_opset_version(opset) or schema.function_body
        except Exception:
            body = schema.function_body
        if isinstance(body, bytes):  # onnx >= 1.16 returns the serialized FunctionProto
            body = onnx.FunctionProto.FromString(body)
        return body
    if schema.has_context_dependent_function:
        if any(v is not None and v.type is None for v in node.inputs):
            return None
        types = [type_to_proto(v.type).SerializeToString() if v is not None
                 else onnx.TypeProto().SerializeToString() for v in node.inputs]
        proto = node_to_proto(node).SerializeToString()
        try:
            raw = schema.get_context_dependent_function_with_opset_version(opset, proto, types)
        except Exception:
            return None
        if not raw:
            return None
        f = onnx.FunctionProto()
        f.ParseFromString(raw)
        return f
    return None


def expand(node: Node, graph: Graph, fn: onnx.FunctionProto, conv: Converter) -> list:
    """Replace ``node`` by the nodes of ``fn``; returns the new nodes."""
    if len(node.inputs) > len(fn.input):
        raise InvalidGraph(f"{node.describe()}: {len(node.inputs)} inputs given, function "
                           f"'{fn.name}' takes {len(fn.input)}")
    mapping: Dict[str, Optional[Value]] = {}
    for i, formal in enumerate(fn.input):
        mapping[formal] = node.inputs[i] if i < len(node.inputs) else None
    for i, formal in enumerate(fn.output):
        if i < len(node.outputs) and node.outputs[i] is not None:
            mapping[formal] = node.outputs[i]
    defaults = {a.name: conv.attribute(a) for a in fn.attribute_proto}
    prefix = node.name or node.op_type

    def lookup(name: str) -> Optional[Value]:
        return mapping.get(name)

    def out(name: str) -> Value:
        v = mapping.get(name)
        if v is None:
            v = graph.add_value(Value(graph.unique_name(f"{prefix}/{name}")))
            mapping[name] = v
        return v

    for op in fn.opset_import:
        dom = "" if op.domain == "ai.onnx" else op.domain
        graph.opsets.setdefault(dom, op.version)

    index = graph.nodes.index(node)
    graph.remove_node(node)
    new_nodes = []
    for k, body_proto in enumerate(fn.node):
        np_ = onnx.NodeProto()
        np_.CopyFrom(body_proto)
        for j, name in enumerate(np_.input):
            if name and name in mapping and mapping[name] is None:
                np_.input[j] = ""  # an optional formal input the caller left out
        body_node = conv.node(np_, graph, lookup, out)
        body_node.attrs = _bind_attrs(body_node.attrs, node.attrs, defaults)
        for _, sub in body_node.subgraphs():
            for _, inner in sub.walk():
                inner.attrs = _bind_attrs(inner.attrs, node.attrs, defaults)
        body_node.name = f"{prefix}/{np_.name or np_.op_type}_{k}"
        body_node.origin = node.name
        graph.add_node(body_node, index + k)
        new_nodes.append(body_node)
    return new_nodes


def _bind_attrs(attrs, caller, defaults):
    bound = {}
    for key, val in attrs.items():
        if isinstance(val, AttrRef):
            if val.name in caller:
                bound[key] = caller[val.name]
            elif val.name in defaults:
                bound[key] = defaults[val.name]
        else:
            bound[key] = val
    return bound
