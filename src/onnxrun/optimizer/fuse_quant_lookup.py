"""DequantizeLinear -> elementwise ops -> QuantizeLinear (-> DequantizeLinear) on 8-bit codes
-> one com.onnxrun ByteLookup (level 2).

Such a chain maps each of the 256 codes to one value, so it is a table: the fusion runs the
chain's own CPU kernels once on all 256 codes, at initialization, and the node looks results
up (kernels/quant/byte_lookup.py). QDQ models put the pattern around every activation
(``DQ -> HardSwish -> Q -> DQ``), and QOperator models between their QLinear ops. A chain
goes on through further QuantizeLinear -> DequantizeLinear pairs while every value has one
reader (a QDQ GELU's ``Div -> Erf -> Q -> DQ -> Add -> Q -> DQ`` is one table); a
DequantizeLinear with several readers stays for the others, each chain reading its codes.

Only ops whose float kernels are IEEE arithmetic (``UNARY`` and ``BINARY`` with a constant
single-number operand) may sit in the chain: such results depend on the value alone, never on
the array's size or layout, so the table holds exactly what the nodes would compute. The
quantization steps must be per tensor with constant parameters (``_qdq``); every link's output
must be read by the next link only.
"""

from __future__ import annotations

from typing import List, Optional

import numpy as np
from onnx import TensorProto, helper

from ..ir.graph import Graph, Node, Value
from ._pattern import claimed_by_cpu, const_value, only_consumer, replace_chain
from ._qdq import dequantize_step, elem, quantize_step

NAME = "QuantLookupFusion"
LEVEL = 2
ORDER = 35
DOMAIN = "com.onnxrun"

#: one-input ops whose float32 CPU kernels compute each element with the same IEEE float32
#: operations whatever the array (no libm or SIMD transcendental routines): Erf is erf.py's
#: rational approximation (clip, multiply, add, divide)
UNARY = ("Relu", "LeakyRelu", "HardSigmoid", "HardSwish", "Clip", "Neg", "Abs", "Identity",
         "Sqrt", "Reciprocal", "Erf")
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


def _follow(graph: Graph, dq: Node, first: Node, ctx) -> Optional[List[Node]]:
    """The nodes a table can replace from ``first`` (a reader of ``dq``'s output) on: links
    to an 8-bit QuantizeLinear, then, while the codes go on through a DequantizeLinear and
    more links to another one, those too; ending at a QuantizeLinear or at the
    DequantizeLinear after it. None when no QuantizeLinear is reached."""
    nodes, end, v, n = [], 0, dq.outputs[0], first
    while n is not None:
        qs = quantize_step(graph, n, ctx)
        if qs is not None and qs.dtype.itemsize == 1:
            nodes.append(n)
            end = len(nodes)
            tail = only_consumer(graph, n.outputs[0])
            if dequantize_step(graph, tail, qs.dtype, ctx) is None:
                break
            nodes.append(tail)
            end = len(nodes)
            v = tail.outputs[0]
        elif _link(graph, n, v, ctx):
            nodes.append(n)
            v = n.outputs[0]
        else:
            break
        n = only_consumer(graph, v)
    return nodes[:end] or None


def table_codes(nodes: List[Node]) -> Optional[np.dtype]:
    """The 8-bit code type a chain's DequantizeLinear reads: its input's type where known,
    else its zero point's (which must be of that type)."""
    dq = nodes[0]
    code = _CODES.get(elem(dq.inputs[0]))
    if code is None and len(dq.inputs) > 2 and dq.inputs[2] is not None:
        code = _CODES.get(elem(dq.inputs[2]))
    return None if code is None else np.dtype(code)


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


def _codes_of(graph: Graph, dq: Node, ctx) -> bool:
    """Whether ``dq`` dequantizes 8-bit codes per tensor with constant parameters."""
    if dq.op_type != "DequantizeLinear" or not dq.inputs:
        return False
    dtype = table_codes([dq])
    return dtype is not None and dequantize_step(graph, dq, dtype, ctx) is not None


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for dq in list(graph.nodes):
        if dq not in graph.nodes or not _codes_of(graph, dq, ctx):
            continue
        out = dq.outputs[0]
        alone = len(out.uses) == 1 and not graph.is_graph_output(out)
        for first, i in list(out.uses):
            rest = _follow(graph, dq, first, ctx) if i >= 0 and first in graph.nodes else None
            table = None if rest is None else _table(graph, [dq] + rest, ctx)
            if table is None:
                continue
            _replace(graph, dq, rest, table, alone, ctx)
            changed = True
    return changed


def _replace(graph: Graph, dq: Node, rest: List[Node], table, alone: bool, ctx) -> None:
    """Put a ByteLookup of ``dq``'s codes where ``rest`` was (with ``dq`` itself, and the
    QuantizeLinear making its codes, when they have no other reader)."""
    t = const_value(graph, (dq.name or "lookup") + "_table", table)
    nodes, inputs, attrs = list(rest), [dq.inputs[0], t], {}
    if alone:
        nodes.insert(0, dq)
        q = dq.inputs[0].producer
        qs = quantize_step(graph, q, ctx)
        if qs is not None and only_consumer(graph, dq.inputs[0]) is dq and \
                qs.dtype == table_codes([dq]):  # quantize first, in the same kernel
            nodes.insert(0, q)
            inputs = [q.inputs[0], t, qs.scale, qs.zero]
            attrs = {"to": helper.np_dtype_to_tensor_dtype(qs.dtype)}
    node = Node("ByteLookup", inputs, [nodes[-1].outputs[0]], attrs,
                name=nodes[-1].name or dq.name, domain=DOMAIN)
    node.since_version = 1
    node.origin = " > ".join(f"{n.op_type}({n.name})" for n in [dq] + rest)
    replace_chain(graph, nodes[0], nodes, node)
