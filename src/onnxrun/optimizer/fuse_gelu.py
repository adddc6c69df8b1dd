"""The exported GELU subgraph 0.5 * x * (1 + erf(x / sqrt(2))) -> one Gelu node (level 2).
Uses ONNX's Gelu at opset >= 20, onnxrun's com.onnxrun Gelu below."""

from __future__ import annotations

import math

from ..ir.graph import Graph, Node
from ._pattern import is_op, only_consumer, other_input, replace_chain, scalar

NAME = "GeluFusion"
LEVEL = 2
ORDER = 40


def _close(value, target) -> bool:
    return value is not None and abs(value - target) <= 1e-3 * abs(target)


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for erf in list(graph.nodes):
        if not is_op(erf, "Erf") or erf not in graph.nodes:
            continue
        scale = erf.inputs[0].producer
        if scale is None or scale not in graph.nodes:
            continue
        if is_op(scale, "Div") and _close(scalar(scale.inputs[1]), math.sqrt(2)):
            x = scale.inputs[0]
        elif is_op(scale, "Mul") and _close(scalar(scale.inputs[1]), 1 / math.sqrt(2)):
            x = scale.inputs[0]
        elif is_op(scale, "Mul") and _close(scalar(scale.inputs[0]), 1 / math.sqrt(2)):
            x = scale.inputs[1]
        else:
            continue
        if only_consumer(graph, scale.outputs[0]) is not erf:
            continue
        add = only_consumer(graph, erf.outputs[0], "Add")
        if add is None or not _close(scalar(other_input(add, erf.outputs[0])), 1.0):
            continue
        mul1 = only_consumer(graph, add.outputs[0], "Mul")
        if mul1 is None:
            continue
        partner = other_input(mul1, add.outputs[0])
        chain = [scale, erf, add, mul1]
        if partner is x:  # (x * (1 + erf)) * 0.5
            mul2 = only_consumer(graph, mul1.outputs[0], "Mul")
            if mul2 is None or not _close(scalar(other_input(mul2, mul1.outputs[0])), 0.5):
                continue
            chain.append(mul2)
            out = mul2.outputs[0]
        else:  # (x * 0.5) * (1 + erf)
            half = partner.producer if partner is not None else None
            if not is_op(half, "Mul") or only_consumer(graph, partner) is not mul1:
                continue
            if not ((half.inputs[0] is x and _close(scalar(half.inputs[1]), 0.5)) or
                    (half.inputs[1] is x and _close(scalar(half.inputs[0]), 0.5))):
                continue
            chain.insert(0, half)
            out = mul1.outputs[0]
        if graph.opsets.get("", 1) >= 20:
            gelu = Node("Gelu", [x], [out], {}, name=erf.name or "gelu")
            gelu.since_version = 20
        else:
            gelu = Node("Gelu", [x], [out], {}, name=erf.name or "gelu", domain="com.onnxrun")
            gelu.since_version = 1
        first = min(chain, key=graph.nodes.index)
        replace_chain(graph, first, chain, gelu)
        changed = True
    return changed
