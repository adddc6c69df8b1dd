"""Chains of float elementwise nodes -> one com.onnxrun ElementwiseChain node (level 2).

A chain is a run of one- and two-input nodes whose CPU kernel declares an in-place float form
(``float_out`` on its registration: Add, Sub, Mul, Div, Relu, Neg, Abs, Exp, Log, Sqrt, Tanh,
...), where each link's output is read only by the next link (once) and is not a graph output. The fused kernel computes the first link into
a new array and applies every later link in place on it (``ufunc(acc, operand, out=acc)``), so a
chain of n nodes costs one allocation and one kernel call instead of n of each. A link is run in
place only where the shapes known at initialization prove that its other operand broadcasts into
the running value without growing it; otherwise that link allocates.

Runs last among the level-2 transformers, so the GELU, LayerNorm, MatMul+Add and activation
fusions see the original nodes first. Nodes a provider ahead of the CPU one would take are
left alone. Only float32 and float64 chains are fused (narrow floats
round after every op in the single kernels; keeping them apart keeps the numbers identical).
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from onnx import TensorProto

from ..ir.graph import Graph, Node, Value
from ..ir.types import DTYPE_TO_ELEM, TensorType
from ..kernels.registry import REGISTRY
from ._pattern import claimed_by_cpu

NAME = "ElementwiseChainFusion"
LEVEL = 2
ORDER = 95
DOMAIN = "com.onnxrun"

_FLOATS = (TensorProto.FLOAT, TensorProto.DOUBLE)


def _elem(v: Optional[Value]) -> Optional[int]:
    if v is None:
        return None
    if v.const is not None:
        return DTYPE_TO_ELEM.get(v.const.dtype)
    t = v.type
    return t.elem if isinstance(t, TensorType) else None


def _shape(v: Value) -> Optional[Tuple]:
    if v.const is not None:
        return tuple(v.const.shape)
    t = v.type
    return t.shape if isinstance(t, TensorType) else None


def _link(node: Node, elem: int, graph: Graph, ctx) -> bool:
    """Whether ``node`` can be a link of a chain of element type ``elem``."""
    if node.domain != "" or any(k != "consumed_inputs" for k in node.attrs):
        return False
    if len(node.inputs) not in (1, 2) or None in node.inputs:
        return False
    if len(node.outputs) != 1 or node.outputs[0] is None:
        return False
    kdef = getattr(ctx, "registry", REGISTRY).lookup("", node.op_type, node.since_version or 1)
    if kdef is None or kdef.float_out is None:
        return False
    if not (all(_elem(v) == elem for v in node.inputs) and _elem(node.outputs[0]) == elem):
        return False
    return claimed_by_cpu(ctx, graph, node)


def _next(graph: Graph, node: Node, elem: int, ctx) -> Optional[Node]:
    """The link after ``node``: its output's only reader, reading it once."""
    v = node.outputs[0]
    if len(v.uses) != 1 or graph.is_graph_output(v):
        return None
    nxt, idx = v.uses[0]
    if idx < 0 or not _link(nxt, elem, graph, ctx):
        return None
    if sum(1 for x in nxt.inputs if x is v) != 1:
        return None
    return nxt


def _fits(operand: Optional[Tuple], acc: Optional[Tuple]) -> bool:
    """Whether an operand of static shape broadcasts into ``acc`` without changing it."""
    if operand is None or acc is None or len(operand) > len(acc):
        return False
    for a, b in zip(reversed(operand), reversed(acc)):
        if a == 1:
            continue
        if not isinstance(a, int) or a != b:
            return False
    return True


def _chains(graph: Graph, ctx) -> List[List[Node]]:
    in_chain = set()
    chains = []
    for node in graph.nodes:
        if id(node) in in_chain:
            continue
        elem = _elem(node.outputs[0]) if node.outputs and node.outputs[0] is not None else None
        if elem not in _FLOATS or not _link(node, elem, graph, ctx):
            continue
        chain = [node]
        nxt = _next(graph, node, elem, ctx)
        while nxt is not None and id(nxt) not in in_chain:
            chain.append(nxt)
            nxt = _next(graph, nxt, elem, ctx)
        if len(chain) >= 2:
            chains.append(chain)
            in_chain.update(id(n) for n in chain)
    return chains


def _fuse(graph: Graph, chain: List[Node]) -> Node:
    """The ElementwiseChain node for ``chain`` (inputs: the chain's input, then operands)."""
    first = chain[0]
    inputs: List[Value] = list(first.inputs)
    index: Dict[int, int] = {id(v): i for i, v in enumerate(inputs)}
    ops, versions, operand, swap, inplace = [first.op_type], [first.since_version], [], [], []
    operand.append(1 if len(first.inputs) == 2 else -1)
    swap.append(0)
    inplace.append(0)
    acc_shape = _shape(first.outputs[0])
    prev = first.outputs[0]
    for node in chain[1:]:
        ops.append(node.op_type)
        versions.append(node.since_version)
        if len(node.inputs) == 2:
            pos = 0 if node.inputs[0] is prev else 1
            other = node.inputs[1 - pos]
            if id(other) not in index:
                index[id(other)] = len(inputs)
                inputs.append(other)
            operand.append(index[id(other)])
            swap.append(pos)  # 1: the running value is the right operand
            inplace.append(int(_fits(_shape(other), acc_shape)))
        else:
            operand.append(-1)
            swap.append(0)
            inplace.append(1)
        out_shape = _shape(node.outputs[0])
        if not inplace[-1]:
            acc_shape = out_shape
        prev = node.outputs[0]
    attrs = {"ops": ops, "versions": versions, "operand": operand, "swap": swap,
             "inplace": inplace}
    names = "+".join(dict.fromkeys(n.op_type for n in chain))
    fused = Node("ElementwiseChain", inputs, [chain[-1].outputs[0]], attrs,
                 name=chain[-1].name or f"{names}_chain", domain=DOMAIN)
    fused.since_version = 1
    links = [f"{n.op_type}({n.name})" for n in chain]
    if len(links) > 6:
        links = links[:3] + [f"... {len(links) - 5} more ..."] + links[-2:]
    fused.origin = " > ".join(links)  # what tracing reports the fused node came from
    return fused


def apply(graph: Graph, ctx) -> bool:
    chains = _chains(graph, ctx)
    if not chains:
        return False
    replaced: Dict[int, Optional[Node]] = {}
    for chain in chains:
        fused = _fuse(graph, chain)
        members = {id(n) for n in chain}
        for node in chain:
            replaced[id(node)] = None
            for v in node.inputs:
                v.uses = [(n, i) for (n, i) in v.uses if id(n) not in members]
            out = node.outputs[0]
            if out is not fused.outputs[0]:
                out.producer = None
                if graph.values.get(out.name) is out:
                    del graph.values[out.name]
        # the last link's position: every operand is produced before it
        replaced[id(chain[-1])] = fused
        for i, v in enumerate(fused.inputs):
            v.uses.append((fused, i))
        fused.outputs[0].producer = fused
    nodes = []
    for node in graph.nodes:
        if id(node) in replaced:
            if replaced[id(node)] is not None:
                nodes.append(replaced[id(node)])
        else:
            nodes.append(node)
    graph.nodes = nodes
    return True
