"""Graph, Node and Value: onnxrun's in-memory model, independent of protobuf.

A Value knows its producer and its uses, so graph rewrites stay local. Names are unique within a
graph and its subgraphs' view of it (subgraphs refer to outer values by name; a node that owns
subgraphs lists the outer names they use as ``implicit_inputs``).
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np

from .types import TypeInfo


class Value:
    """A named value: graph input, initializer (``const`` set), or a node output."""

    __slots__ = ("name", "type", "producer", "uses", "const", "doc")

    def __init__(self, name: str, type: Optional[TypeInfo] = None, const=None) -> None:
        self.name = name
        self.type = type
        self.producer: Optional[Node] = None
        self.uses: List[Tuple[Node, int]] = []  # (consumer, input index); -1 = implicit input
        self.const = const  # np.ndarray for initializers / folded constants
        self.doc = ""

    @property
    def is_const(self) -> bool:
        return self.const is not None

    def __repr__(self) -> str:
        return f"Value({self.name!r}, {self.type})"


class Node:
    """One operator application. Missing optional inputs/outputs are ``None``."""

    __slots__ = ("name", "op_type", "domain", "inputs", "outputs", "attrs", "implicit_inputs",
                 "doc", "since_version", "provider", "kernel_def", "origin", "overload")

    def __init__(self, op_type: str, inputs: List[Optional[Value]], outputs: List[Optional[Value]],
                 attrs: Optional[Dict[str, Any]] = None, name: str = "", domain: str = "") -> None:
        self.name = name
        self.op_type = op_type
        self.domain = domain
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.attrs = dict(attrs or {})
        self.implicit_inputs: List[Value] = []
        self.doc = ""
        self.since_version: Optional[int] = None  # resolved at session initialization
        self.provider: Optional[str] = None  # assigned by the partitioner
        self.kernel_def = None  # assigned by the partitioner
        self.origin: Optional[str] = None  # e.g. name of the node this one was expanded from
        self.overload = ""  # which model-local function overload a call names (IR >= 10)

    def subgraphs(self) -> List[Tuple[str, "Graph"]]:
        """(attribute name, graph) for each graph-valued attribute (a list: most nodes have
        none, and an empty list is cheaper than a generator on every graph walk)."""
        found = []
        for key, val in self.attrs.items():
            if isinstance(val, Graph):
                found.append((key, val))
            elif isinstance(val, list) and val and isinstance(val[0], Graph):
                found.extend((key, g) for g in val)
        return found

    def describe(self) -> str:
        """How errors name a node: op, domain, name."""
        dom = self.domain or "ai.onnx"
        return f"{self.op_type}({dom}) node '{self.name}'"

    def __repr__(self) -> str:
        ins = [v.name if v else "" for v in self.inputs]
        outs = [v.name if v else "" for v in self.outputs]
        return f"Node({self.op_type!r}, name={self.name!r}, {ins} -> {outs})"


class Graph:
    """A graph: inputs, outputs, initializers, nodes in a valid order, and model-level facts."""

    def __init__(self, name: str = "", parent: Optional["Graph"] = None) -> None:
        self.name = name
        self.parent = parent
        self.nodes: List[Node] = []
        self.inputs: List[Value] = []
        self.outputs: List[Value] = []
        self.initializers: Dict[str, Value] = {}
        self.values: Dict[str, Value] = {}
        self.outer_refs: List[Value] = []  # values of enclosing graphs this graph reads
        self.input_defaults: Dict[str, Any] = {}  # initializer values of overridable inputs
        self.opsets: Dict[str, int] = {} if parent is None else parent.opsets
        #: model-local functions by (domain, name, overload)
        self.functions: Dict[Tuple[str, str, str], Any] = \
            {} if parent is None else parent.functions
        self.doc = ""

    # ---- construction -------------------------------------------------------------------
    def add_value(self, value: Value) -> Value:
        self.values[value.name] = value
        return value

    def add_node(self, node: Node, index: Optional[int] = None) -> Node:
        for i, v in enumerate(node.inputs):
            if v is not None:
                v.uses.append((node, i))
        for v in node.implicit_inputs:
            v.uses.append((node, -1))
        for v in node.outputs:
            if v is not None:
                v.producer = node
        if index is None:
            self.nodes.append(node)
        else:
            self.nodes.insert(index, node)
        return node

    def remove_node(self, node: Node) -> None:
        _detach(node)
        self.nodes.remove(node)

    def remove_nodes(self, nodes: List[Node]) -> None:
        """remove_node for many nodes, with one pass over the node list."""
        if not nodes:
            return
        for node in nodes:
            _detach(node)
        gone = {id(n) for n in nodes}
        self.nodes = [n for n in self.nodes if id(n) not in gone]

    def replace_input(self, node: Node, index: int, new: Optional[Value]) -> None:
        old = node.inputs[index]
        if old is not None:
            old.uses = [(n, i) for (n, i) in old.uses if not (n is node and i == index)]
        node.inputs[index] = new
        if new is not None:
            new.uses.append((node, index))

    def replace_all_uses(self, old: Value, new: Value) -> None:
        """Point every consumer of ``old`` (in this graph) at ``new``; graph outputs too."""
        for node, idx in list(old.uses):
            if idx >= 0:
                self.replace_input(node, idx, new)
        self.outputs = [new if v is old else v for v in self.outputs]

    def unique_name(self, base: str) -> str:
        """A value name used nowhere in this graph's whole tree."""
        root = self
        while root.parent is not None:
            root = root.parent
        used = root.__dict__.get("_used_names")
        if used is None:
            used = root._used_names = set()
            _collect_names(root, used)
        counter = len(used)
        while True:
            counter += 1
            name = f"{base}__{counter}"
            if name not in used:
                used.add(name)
                return name

    # ---- queries --------------------------------------------------------------------------
    def is_graph_output(self, value: Value) -> bool:
        return any(v is value for v in self.outputs)

    def constant(self, value: Optional[Value]) -> Optional[np.ndarray]:
        return None if value is None else value.const

    def walk(self) -> Iterator[Tuple["Graph", Node]]:
        """Every (graph, node) here and in all nested subgraphs."""
        for node in self.nodes:
            yield self, node
            subs = node.subgraphs()
            if subs:
                for _, sub in subs:
                    yield from sub.walk()

    def __repr__(self) -> str:
        return f"Graph({self.name!r}, {len(self.nodes)} nodes)"


def _detach(node: Node) -> None:
    """Unlink ``node`` from the values it reads and writes."""
    for v in node.inputs + node.implicit_inputs:
        if v is not None:
            v.uses = [(n, i) for (n, i) in v.uses if n is not node]
    for v in node.outputs:
        if v is not None and v.producer is node:
            v.producer = None


def _collect_names(graph: Graph, used: set) -> None:
    used.update(graph.values)
    for node in graph.nodes:
        for _, sub in node.subgraphs():
            _collect_names(sub, used)
