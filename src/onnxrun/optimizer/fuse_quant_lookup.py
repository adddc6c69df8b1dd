"""DequantizeLinear -> elementwise ops -> QuantizeLinear (-> DequantizeLinear) on 8-bit codes
-> one com.onnxrun ByteLookup (level 2).

Such a chain maps each of the 256 codes to one value, so it is a table: the fusion runs the
chain's own CPU kernels once on all 256 codes, at initialization, and the node looks results
up (kernels/quant/byte_lookup.py). QDQ models put the pattern around every activation
(``DQ -> HardSwish -> Q -> DQ``), and QOperator models between their QLinear ops.

Only ops whose float kernels are IEEE arithmetic (``UNARY`` and ``BINARY`` with a constant
single-number operand) may sit in the chain: such results depend on the value alone, never on
the array's size or layout, so the table holds exactly what the nodes would compute. The
quantization steps must be per tensor with constant parameters (``_qdq``); every link's output
must be read by the next link only.
"""

from __future__ import annotations

from typing import List, Optional

import numpy as np
from onnx import TensorProto

from ..ir.graph import Graph, Node, Value
from ._pattern import claimed_by_cpu, const_value, only_consumer, replace_chain
from ._qdq import dequantize_step, elem, quantize_step

NAME = "QuantLookupFusion"
LEVEL = 2
ORDER = 35
DOMAIN = "com.onnxrun"

UNARY = ("Relu", "LeakyRelu", "HardSigmoid", "HardSwish", "Clip", "Neg", "Abs", "Identity")
BINARY = ("Add", "Sub", "Mul", "Div", "Max", "Min", "PRelu")
_CODES = {TensorProto.UINT8: np.uint8, TensorProto.INT8: np.int8}


def _link(graph: Graph, node: Node, v: Value, ctx) -> bool:
    """Whether ``node`` applies an allowed elementwise op to ``v`` (read once) and constants."""
    if node.domain != "" or len(node.outputs) != 1 or not claimed_by_cpu(ctx, graph, node):
        return False
    others = [u for u in node.inputs if u is not v]
    if len(others) != len(node.inputs) - 1 or any(u is not None and u.const is None
                                                   for u in others):
        return False
    if node.op_type in UNARY:
        return node.op_type == "Clip" or not others
    if node.op_type in BINARY and len(node.inputs) == 2:
        c = others[0].const
        return c.size == 1 and (c.ndim == 0 or _rank(v) >= c.ndim)  # no broadcast growth
    return False


def _rank(v: Value) -> int:
    shape = getattr(v.type, "shape", None)
    return -1 if shape is None else len(shape)


def _chain(graph: Graph, dq: Node, ctx) -> Optional[List[Node]]:
    """[dq, links..., q(, dq2)] when ``dq`` starts a table-able chain."""
    dtype = _CODES.get(elem(dq.inputs[0]) if dq.inputs else None)
    if dtype is None or dequantize_step(graph, dq, dtype, ctx) is None:
        return None
    nodes, v = [dq], dq.outputs[0]
    while True:
        n = only_consumer(graph, v)
        if n is None:
            return None
        qs = quantize_step(graph, n, ctx)
        if qs is not None and qs.dtype.itemsize == 1:
            nodes.append(n)
            break
        if not _link(graph, n, v, ctx):
            return None
        nodes.append(n)
        v = n.outputs[0]
    tail = only_consumer(graph, nodes[-1].outputs[0])
    if dequantize_step(graph, tail, qs.dtype, ctx) is not None:
        nodes.append(tail)
    return nodes


def table_codes(nodes: List[Node]) -> np.dtype:
    """The code type a chain starts from."""
    return np.dtype(_CODES[elem(nodes[0].inputs[0])])


def _table(graph: Graph, nodes: List[Node], ctx) -> Optional[np.ndarray]:
    """The chain's CPU kernels run on the 256 codes (in byte order)."""
    dtype = table_codes(nodes)
    val, running = np.arange(256, dtype=np.uint8).view(dtype), nodes[0].inputs[0]
    try:
        for n in nodes:
            fn = ctx.cpu_kernel(n, graph)
            if fn is None:
                return None
            args = [val if u is running else (None if u is None else u.const)
                    for u in n.inputs]
            while args and args[-1] is None:
                args.pop()
            with np.errstate(all="ignore"):
                val = fn(*args)
            running = n.outputs[0]
    except Exception:  # noqa: BLE001 - the nodes report it at run time, as unfused
        return None
    return val if isinstance(val, np.ndarray) and val.shape == (256,) else None


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for dq in list(graph.nodes):
        if dq.op_type != "DequantizeLinear" or dq not in graph.nodes:
            continue
        nodes = _chain(graph, dq, ctx)
        table = None if nodes is None else _table(graph, nodes, ctx)
        if table is None:
            continue
        t = const_value(graph, (dq.name or "lookup") + "_table", table)
        inputs, attrs = [dq.inputs[0], t], {}
        q = dq.inputs[0].producer
        qs = quantize_step(graph, q, ctx)
        if qs is not None and only_consumer(graph, dq.inputs[0]) is dq and \
                qs.dtype == table_codes(nodes):  # quantize first, in the same kernel
            nodes.insert(0, q)
            inputs = [q.inputs[0], t, qs.scale, qs.zero]
            attrs = {"to": elem(dq.inputs[0])}
        node = Node("ByteLookup", inputs, [nodes[-1].outputs[0]], attrs,
                    name=nodes[-1].name or dq.name, domain=DOMAIN)
        node.since_version = 1
        node.origin = " > ".join(f"{n.op_type}({n.name})" for n in nodes)
        replace_chain(graph, nodes[0], nodes, node)
        changed = True
    return changed
