"""MatMul by a constant matrix followed by Add of a constant bias -> FusedMatMul (level 2)."""

from __future__ import annotations

from ..ir.graph import Graph, Node
from ._pattern import is_op, only_consumer, other_input, replace_chain

NAME = "MatMulAddFusion"
LEVEL = 2
ORDER = 50
DOMAIN = "com.onnxrun"


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for mm in list(graph.nodes):
        if not is_op(mm, "MatMul") or mm not in graph.nodes:
            continue
        B = mm.inputs[1]
        if B is None or B.const is None or B.const.ndim != 2 or B.const.dtype.kind != "f":
            continue
        add = only_consumer(graph, mm.outputs[0], "Add")
        if add is None:
            continue
        bias = other_input(add, mm.outputs[0])
        if bias is None or bias.const is None or bias.const.dtype != B.const.dtype:
            continue
        n = B.const.shape[1]
        b = bias.const
        a_rank = _rank(mm.inputs[0])
        if b.shape[-1:] != (n,) or any(d != 1 for d in b.shape[:-1]) or a_rank is None or \
                b.ndim > max(a_rank, 2):
            continue
        fused = Node("FusedMatMul", [mm.inputs[0], B, bias], add.outputs[:1], {},
                     name=mm.name or add.name, domain=DOMAIN)
        fused.since_version = 1
        replace_chain(graph, mm, [mm, add], fused)
        changed = True
    return changed


def _rank(v):
    shape = getattr(v.type, "shape", None) if v is not None else None
    return None if shape is None else len(shape)
