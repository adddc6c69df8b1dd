"""Opset resolution: each node's since-version from its domain's opset and onnx's schemas."""

from __future__ import annotations

import functools
from typing import Optional

import onnx
import onnx.defs

from ..errors import InvalidGraph
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
            raise InvalidGraph(f"opset {version} of domain '{domain or 'ai.onnx'}' is newer than "
                               f"the newest onnxrun supports ({newest})")
        if version < 1 and domain in MAX_OPSETS:
            raise InvalidGraph(f"opset {version} of domain '{domain or 'ai.onnx'}' is not valid")


def resolve_node(node: Node, graph: Graph) -> Optional[onnx.defs.OpSchema]:
    """Set ``node.since_version``; return the node's schema if onnx defines one."""
    opset = graph.opsets.get(node.domain)
    if opset is None:
        if node.domain in MAX_OPSETS or node.domain == "":
            raise InvalidGraph(f"{node.describe()}: the model imports no opset for domain "
                               f"'{node.domain or 'ai.onnx'}'")
        opset = 1
    schema = get_schema(node.op_type, opset, node.domain)
    node.since_version = schema.since_version if schema is not None else opset
    return schema


def resolve_graph(graph: Graph) -> None:
    """Resolve every node of ``graph`` and its subgraphs."""
    for g, node in graph.walk():
        resolve_node(node, g)
