"""Conv + activation -> FusedConv, MatMul (+ bias) + activation -> FusedMatMul: the
activation runs in place on the product (level 2)."""

from __future__ import annotations

import math

from ..ir.graph import Graph, Node
from ._pattern import is_op, only_consumer, replace_chain, scalar

NAME = "ActivationFusion"
LEVEL = 2
ORDER = 60
DOMAIN = "com.onnxrun"


def activation_of(graph: Graph, act: Node):
    """(name, params) when ``act`` is an activation the fused kernels support, else None."""
    if act is None or act.domain != "":
        return None
    op = act.op_type
    if op in ("Relu", "Sigmoid", "Tanh", "HardSwish"):
        return op, []
    if op == "LeakyRelu":
        return op, [float(act.attrs.get("alpha", 0.01))]
    if op == "HardSigmoid":
        return op, [float(act.attrs.get("alpha", 0.2)), float(act.attrs.get("beta", 0.5))]
    if op == "Clip":
        if act.since_version is not None and act.since_version < 11:
            return op, [float(act.attrs.get("min", -3.4028234663852886e38)),
                        float(act.attrs.get("max", 3.4028234663852886e38))]
        lo = act.inputs[1] if len(act.inputs) > 1 else None
        hi = act.inputs[2] if len(act.inputs) > 2 else None
        lo_v = -math.inf if lo is None else scalar(lo)
        hi_v = math.inf if hi is None else scalar(hi)
        if lo_v is None or hi_v is None:
            return None
        return op, [lo_v, hi_v]
    return None


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for node in list(graph.nodes):
        if (is_op(node, "Conv") or is_op(node, "FusedMatMul", domain=DOMAIN)) and \
                node in graph.nodes:  # an earlier fusion may have removed it
            if node.attrs.get("activation"):
                continue
            act = only_consumer(graph, node.outputs[0])
            found = activation_of(graph, act)
            if found is None:
                continue
            attrs = dict(node.attrs, activation=found[0], activation_params=found[1])
            op = "FusedConv" if node.op_type == "Conv" else "FusedMatMul"
            fused = Node(op, node.inputs, act.outputs[:1], attrs, name=node.name or act.name,
                         domain=DOMAIN)
            fused.since_version = 1
            replace_chain(graph, node, [node, act], fused)
            changed = True
    return changed
