"""ONNX protos -> onnxrun IR (the one module that knows both).

Checks made here: every node input is produced by something (graph input, initializer, earlier
node, or a value of an enclosing graph), no value is produced twice, and the graph has no cycle.
Nodes are put in a topological order that keeps the model's order where it is already valid.
"""

from __future__ import annotations

import heapq
from typing import Callable, Dict, List, Optional

import numpy as np
import onnx
from onnx import AttributeProto

from ..errors import Fail, InvalidArgument, InvalidGraph
from ..load.tensors import TensorDecoder, sparse_to_dense
from .graph import Graph, Node, Value
from .types import type_from_proto


class AttrRef:
    """An attribute of a function body that refers to an attribute of the calling node."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class Converter:
    """Converts one model's graphs; ``decode`` turns TensorProtos into arrays."""

    def __init__(self, decode: Optional[TensorDecoder] = None) -> None:
        self.decode = decode or TensorDecoder()

    # ---- graphs ---------------------------------------------------------------------------
    def graph(self, gp: onnx.GraphProto, parent: Optional[Graph] = None,
              scope: Optional[Callable[[str], Optional[Value]]] = None,
              extra_initializers=(), skip_inputs=frozenset(), originals=None) -> Graph:
        """Convert ``gp``; ``extra_initializers`` are added to its initializers and the graph
        inputs named in ``skip_inputs`` dropped (the weights shape inference did not see);
        ``originals`` ({index: NodeProto}) replaces nodes whose attributes ``gp`` lacks."""
        g = Graph(gp.name, parent)
        g.doc = gp.doc_string
        types = {vi.name: type_from_proto(vi.type) for vi in gp.value_info}
        for vi in list(gp.input) + list(gp.output):
            if vi.HasField("type"):
                types[vi.name] = type_from_proto(vi.type)
        for t in list(gp.initializer) + list(extra_initializers):
            if not t.name:
                raise InvalidGraph("an initializer has no name")
            arr = self.decode(t, "initializer")
            v = g.add_value(Value(t.name, types.get(t.name) or _tensor_type_of(t), const=arr))
            g.initializers[t.name] = v
        for sp in gp.sparse_initializer:
            name = sp.values.name
            arr = sparse_to_dense(sp, self.decode)
            v = g.add_value(Value(name, types.get(name), const=arr))
            g.initializers[name] = v
        seen_inputs = set()
        for vi in gp.input:
            if vi.name in skip_inputs:
                continue
            if vi.name in seen_inputs:
                raise Fail(f"Error: Duplicate definition-site for ({vi.name}).")
            seen_inputs.add(vi.name)
            if vi.name in g.initializers:
                # an overridable initializer: a graph input whose initializer is its default,
                # so no stage may treat it as a constant
                v = g.initializers.pop(vi.name)
                g.input_defaults[vi.name] = v.const
                v.const = None
            else:
                v = g.add_value(Value(vi.name, types.get(vi.name)))
            v.doc = vi.doc_string
            g.inputs.append(v)

        produced_here: Dict[str, int] = {}
        for i, np_ in enumerate(gp.node):
            for o in np_.output:
                if o:
                    if o in produced_here or o in g.initializers or o in seen_inputs:
                        raise Fail(f"This is an invalid model. Error: Duplicate definition of "
                                   f"name ({o}). (value '{o}' is defined again by node "
                                   f"'{np_.name}' of type {np_.op_type})")
                    produced_here[o] = i
                    if o not in g.values:
                        g.add_value(Value(o, types.get(o)))

        def lookup(name: str) -> Optional[Value]:
            v = g.values.get(name)
            if v is not None:
                return v
            outer = scope(name) if scope else None
            if outer is not None and not any(r is outer for r in g.outer_refs):
                g.outer_refs.append(outer)
            return outer

        if originals:
            nodes = [self.node(originals.get(i, np_), g, lookup) for i, np_ in enumerate(gp.node)]
        else:
            nodes = [self.node(np_, g, lookup) for np_ in gp.node]
        for node in _topological(nodes, g):
            g.add_node(node)
        for vi in gp.output:
            v = lookup(vi.name)
            if v is None:
                raise InvalidGraph(f"graph output '{vi.name}' is not produced by any node and is "
                                   "not a graph input or initializer")
            if v.type is None and vi.HasField("type"):
                v.type = type_from_proto(vi.type)
            g.outputs.append(v)
        return g

    def node(self, np_: onnx.NodeProto, g: Graph, lookup, out=None) -> Node:
        inputs: List[Optional[Value]] = []
        for name in np_.input:
            if not name:
                inputs.append(None)
                continue
            v = lookup(name)
            if v is None:
                raise InvalidArgument(
                    f"Invalid model. Node input '{name}' is not a graph input, initializer, or "
                    f"output of a previous node. (node '{np_.name}' of type {np_.op_type})")
            inputs.append(v)
        out = out or g.values.__getitem__
        outputs = [out(o) if o else None for o in np_.output]
        attrs = {a.name: self.attribute(a, g, lookup) for a in np_.attribute}
        node = Node(np_.op_type, inputs, outputs, attrs, name=np_.name, domain=_domain(np_.domain))
        node.doc = np_.doc_string
        node.overload = np_.overload
        refs: List[Value] = []
        for _, sub in node.subgraphs():
            for v in sub.outer_refs:
                if not any(r is v for r in refs):
                    refs.append(v)
        node.implicit_inputs = refs
        return node

    # ---- attributes -----------------------------------------------------------------------
    def attribute(self, a: onnx.AttributeProto, g: Optional[Graph] = None, lookup=None):
        if a.ref_attr_name:
            return AttrRef(a.ref_attr_name)
        t = a.type
        if t == AttributeProto.FLOAT:
            return float(a.f)
        if t == AttributeProto.INT:
            return int(a.i)
        if t == AttributeProto.STRING:
            return a.s.decode("utf-8", errors="surrogateescape")
        if t == AttributeProto.TENSOR:
            return self.decode(a.t, f"attribute '{a.name}' tensor")
        if t == AttributeProto.SPARSE_TENSOR:
            return sparse_to_dense(a.sparse_tensor, self.decode)
        if t == AttributeProto.GRAPH:
            return self.graph(a.g, g, lookup)
        if t == AttributeProto.TYPE_PROTO:
            return a.tp
        if t == AttributeProto.FLOATS:  # long lists go through NumPy's bulk copy: 2-4x faster
            return list(a.floats) if len(a.floats) < 64 else \
                np.array(a.floats, dtype=np.float32).tolist()
        if t == AttributeProto.INTS:
            return list(a.ints) if len(a.ints) < 64 else np.array(a.ints, dtype=np.int64).tolist()
        if t == AttributeProto.STRINGS:
            return _decode_strings(a.strings)
        if t == AttributeProto.TENSORS:
            return [self.decode(x, f"attribute '{a.name}' tensor") for x in a.tensors]
        if t == AttributeProto.GRAPHS:
            return [self.graph(x, g, lookup) for x in a.graphs]
        if t == AttributeProto.SPARSE_TENSORS:
            return [sparse_to_dense(x, self.decode) for x in a.sparse_tensors]
        if t == AttributeProto.TYPE_PROTOS:
            return list(a.type_protos)
        raise InvalidGraph(f"attribute '{a.name}' has unknown type {t}")


def _decode_strings(values) -> List[str]:
    """UTF-8 decode a repeated bytes field; long lists in one decode when no NUL byte hides in
    them (a tree ensemble's node modes: ~100,000 short strings)."""
    items = list(values)
    if len(items) > 64:
        joined = b"\0".join(items)
        if joined.count(b"\0") == len(items) - 1:
            return joined.decode("utf-8", errors="surrogateescape").split("\0")
    return [s.decode("utf-8", errors="surrogateescape") for s in items]


def _domain(domain: str) -> str:
    return "" if domain == "ai.onnx" else domain


def _tensor_type_of(t):
    from .types import TensorType
    return TensorType(t.data_type, tuple(int(d) for d in t.dims))


def _topological(nodes: List[Node], g: Graph) -> List[Node]:
    """Kahn's algorithm, preferring the model's own order; a cycle is an InvalidGraph."""
    producer_index = {}
    for i, n in enumerate(nodes):
        for v in n.outputs:
            if v is not None:
                producer_index[id(v)] = i
    deps = [set() for _ in nodes]
    users = [[] for _ in nodes]
    for i, n in enumerate(nodes):
        for v in list(n.inputs) + n.implicit_inputs:
            if v is None:
                continue
            j = producer_index.get(id(v))
            if j is not None and j not in deps[i]:
                if j == i:
                    raise Fail(f"This is an invalid model. Error: the graph is not "
                                       f"acyclic (node '{n.name}' of type {n.op_type} reads "
                                       "its own output).")
                deps[i].add(j)
                users[j].append(i)
    remaining = [len(d) for d in deps]
    ready = [i for i, r in enumerate(remaining) if r == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(nodes[i])
        for u in users[i]:
            remaining[u] -= 1
            if remaining[u] == 0:
                heapq.heappush(ready, u)
    if len(order) != len(nodes):
        stuck = [nodes[i] for i, r in enumerate(remaining) if r > 0][:3]
        names = ", ".join(f"'{n.name}' ({n.op_type})" for n in stuck)
        raise Fail(f"This is an invalid model. Error: the graph is not acyclic; a cycle "
                           f"runs through nodes {names}.")
    return order


def model_to_ir(model: onnx.ModelProto, conv: Optional[Converter] = None,
                extra_initializers=(), skip_inputs=frozenset(), originals=None) -> Graph:
    """Convert a whole model; opsets and model-local functions are kept on the main graph."""
    conv = conv or Converter()
    graph = conv.graph(model.graph, extra_initializers=extra_initializers,
                       skip_inputs=skip_inputs, originals=originals)
    graph.opsets = {_domain(o.domain): int(o.version) for o in model.opset_import}
    if "" not in graph.opsets and model.ir_version < 3:
        graph.opsets[""] = 1
    graph.functions = {(f.domain, f.name, f.overload): f for f in model.functions}
    _share_model_facts(graph)
    return graph


def _share_model_facts(graph: Graph) -> None:
    for _, node in graph.walk():
        for _, sub in node.subgraphs():
            sub.opsets = graph.opsets
            sub.functions = graph.functions
