"""Gather(DequantizeLinear(W), indices) -> DequantizeLinear(Gather(W, indices)) for constant
integer tables W (level 1, before constant folding).

Constant folding would turn a QDQ model's quantized embedding table into a float32 copy four
times the size of the 8-bit one (MiniLM's 30522 x 384 words: 47 MB for 12 MB), of which each
run reads a few rows. Dequantizing is elementwise with per-tensor parameters, so dequantizing
the gathered rows gives the same bits; the table stays 8-bit and the run dequantizes only
what it gathered. Taken when the DequantizeLinear's scale and zero point are constant single
numbers and every reader is a Gather of it as data.
"""

from __future__ import annotations

from ..ir.graph import Graph, Node, Value
from ..ir.types import DTYPE_TO_ELEM, TensorType
from ._qdq import DOMAINS

NAME = "GatherBeforeDequantize"
LEVEL = 1
ORDER = 18


def _per_tensor_table(graph: Graph, dq: Node) -> bool:
    if dq.op_type != "DequantizeLinear" or dq.domain not in DOMAINS or not dq.inputs:
        return False
    table = dq.inputs[0]
    if table is None or table.const is None or table.const.dtype not in DTYPE_TO_ELEM or \
            table.const.dtype.kind not in "iu":
        return False
    params = [v for v in dq.inputs[1:] if v is not None]
    if not params or any(v.const is None or v.const.size != 1 for v in params):
        return False
    if int(dq.attrs.get("block_size", 0)):
        return False
    out = dq.outputs[0]
    if out is None or graph.is_graph_output(out) or not out.uses:
        return False
    return all(n.op_type == "Gather" and n.domain == "" and i == 0 for n, i in out.uses)


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for dq in list(graph.nodes):
        if dq not in graph.nodes or not _per_tensor_table(graph, dq):
            continue
        table = dq.inputs[0]
        for gather, _ in list(dq.outputs[0].uses):
            rows = graph.add_value(Value(graph.unique_name(gather.name or "gathered_codes"),
                                         TensorType(DTYPE_TO_ELEM[table.const.dtype])))
            g = Node("Gather", [dq.inputs[0], gather.inputs[1]], [rows], dict(gather.attrs),
                     name=gather.name)
            d = Node(dq.op_type, [rows] + list(dq.inputs[1:]), list(gather.outputs),
                     dict(dq.attrs), name=dq.name, domain=dq.domain)
            g.since_version, d.since_version = gather.since_version, dq.since_version
            pos = graph.nodes.index(gather)
            graph.remove_node(gather)
            graph.add_node(d, pos)
            graph.add_node(g, pos)
        graph.remove_node(dq)
        out = dq.outputs[0]
        if graph.values.get(out.name) is out:
            del graph.values[out.name]
        changed = True
    return changed
