"""Opset resolution: each node's since-version from its domain's opset and onnx's schemas."""

from __future__ import annotations

import functools
from typing import Optional

import onnx
import onnx.defs

from ..errors import Fail, InvalidGraph
from ..ir.graph import Graph, Node

#: domain -> newest opset onnx (and so onnxrun) defines.
MAX_OPSETS = {("" if d == "ai.onnx" else d): hi for d, (_, hi) in
              onnx.defs.C.schema_version_map().items()}


@functools.lru_cache(maxsize=None)
def get_schema(op_type: str, opset: int, domain: str) -> Optional[onnx.defs.OpSchema]:
    """onnx's schema of ``op_type`` in force at ``opset`` of ``domain`` (None if there is none)."""
    try:
        return onnx.defs.get_schema(op_type, opset, domain)
    except onnx.defs.SchemaError:
        return None


def check_opsets(graph: Graph) -> None:
    for domain, version in graph.opsets.items():
        newest = MAX_OPSETS.get(domain)
        if newest is not None and version > newest:
            raise Fail(f"opset {version} of domain '{domain or 'ai.onnx'}' is newer than the "
                       f"newest onnxrun supports ({newest}); ONNX Runtime only *guarantees* "
                       "support for models stamped with official released onnx opset versions")
        if version < 1 and domain in MAX_OPSETS:
            raise InvalidGraph(f"opset {version} of domain '{domain or 'ai.onnx'}' is not valid")


#: onnxruntime's contrib domains: a model that uses one without importing it gets its newest
#: version, as onnxruntime does (its transformer optimizer returns such in-memory models)
IMPLICIT_OPSETS = {"com.microsoft": 1, "com.microsoft.nchwc": 1}


def resolve_node(node: Node, graph: Graph) -> Optional[onnx.defs.OpSchema]:
    """Set ``node.since_version``; return the node's schema if onnx defines one."""
    opset = graph.opsets.get(node.domain)
    if opset is None and node.domain in IMPLICIT_OPSETS:
        opset = graph.opsets[node.domain] = IMPLICIT_OPSETS[node.domain]
    if opset is None:
        raise InvalidGraph(f"This is an invalid model. In Node, (\"{node.name}\", "
                           f"{node.op_type}, \"{node.domain}\", -1) : Error No opset import "
                           f"for domain '{node.domain or 'ai.onnx'}'")
    schema = get_schema(node.op_type, opset, node.domain)
    node.since_version = schema.since_version if schema is not None else opset
    if schema is not None:
        _check_arity(node, schema)
    return schema


def _check_arity(node: Node, schema) -> None:
    """Input/output counts within the schema's range."""
    for what, values, lo, hi in (("input", node.inputs, schema.min_input, schema.max_input),
                                 ("output", node.outputs, schema.min_output,
                                  schema.max_output)):
        n = len(values)  # every name counts, empty ones too, as in onnxruntime
        if not lo <= n <= hi:
            dom = node.domain
            raise InvalidGraph(
                f"This is an invalid model. In Node, (\"{node.name}\", {node.op_type}, "
                f"\"{dom}\", -1) : Error Node({node.name}) with schema({dom}::{node.op_type}:"
                f"{schema.since_version}) has {what} size {n} not in range [min={lo}, max={hi}].")
        if what == "input":
            single = onnx.defs.OpSchema.FormalParameterOption.Single
            for i, formal in enumerate(schema.inputs[:n]):
                if values[i] is None and formal.option == single:
                    raise InvalidGraph(f"{node.describe()}: required input {i} "
                                       f"('{formal.name}') is missing")


def resolve_graph(graph: Graph) -> None:
    """Resolve every node of ``graph`` and its subgraphs."""
    for g, node in graph.walk():
        resolve_node(node, g)
