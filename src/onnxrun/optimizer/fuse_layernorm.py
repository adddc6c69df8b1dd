"""The exported layer-norm subgraph -> LayerNormalization (level 2, opset >= 17):

    m = ReduceMean(x, -1); d = x - m; v = ReduceMean(d ^ 2, -1)
    y = d / Sqrt(v + eps) * gamma + beta
"""

from __future__ import annotations

from ..ir.graph import Graph, Node
from ._pattern import is_op, only_consumer, other_input, replace_chain, scalar

NAME = "LayerNormFusion"
LEVEL = 2
ORDER = 40


def _last_axis_mean(node: Node, rank) -> bool:
    if not is_op(node, "ReduceMean") or node.attrs.get("keepdims", 1) != 1:
        return False
    axes = node.attrs.get("axes")
    if axes is None and len(node.inputs) > 1 and node.inputs[1] is not None:
        axes = node.inputs[1].const
        axes = None if axes is None else [int(a) for a in axes.reshape(-1)]
    return axes is not None and len(axes) == 1 and (axes[0] == -1 or
                                                   (rank is not None and axes[0] == rank - 1))


def apply(graph: Graph, ctx) -> bool:
    if graph.opsets.get("", 1) < 17:
        return False
    changed = False
    for mean in list(graph.nodes):
        if mean not in graph.nodes:
            continue
        x = mean.inputs[0] if mean.inputs else None
        rank = len(x.type.shape) if x is not None and getattr(x.type, "shape", None) else None
        if not _last_axis_mean(mean, rank):
            continue
        uses = [n for n, i in mean.outputs[0].uses]
        if len(uses) != 1 or not is_op(uses[0], "Sub") or uses[0].inputs[0] is not x:
            continue
        sub = uses[0]
        d = sub.outputs[0]
        users = [n for n, _ in d.uses]
        pow_ = next((n for n in users if is_op(n, "Pow") and scalar(n.inputs[1]) == 2.0), None)
        div = next((n for n in users if is_op(n, "Div") and n.inputs[0] is d), None)
        if pow_ is None or div is None or len(users) != 2 or graph.is_graph_output(d):
            continue
        mean2 = only_consumer(graph, pow_.outputs[0])
        if not _last_axis_mean(mean2, rank):
            continue
        add = only_consumer(graph, mean2.outputs[0], "Add")
        eps = scalar(other_input(add, mean2.outputs[0])) if add is not None else None
        sqrt = only_consumer(graph, add.outputs[0], "Sqrt") if eps is not None else None
        if sqrt is None or only_consumer(graph, sqrt.outputs[0]) is not div or \
                div.inputs[1] is not sqrt.outputs[0]:
            continue
        mul = only_consumer(graph, div.outputs[0], "Mul")
        gamma = other_input(mul, div.outputs[0]) if mul is not None else None
        if gamma is None or gamma.const is None or gamma.const.ndim != 1:
            continue
        chain = [mean, sub, pow_, mean2, add, sqrt, div, mul]
        inputs = [x, gamma]
        out = mul.outputs[0]
        badd = only_consumer(graph, mul.outputs[0], "Add")
        beta = other_input(badd, mul.outputs[0]) if badd is not None else None
        if beta is not None and beta.const is not None and beta.const.shape == gamma.const.shape:
            chain.append(badd)
            inputs.append(beta)
            out = badd.outputs[0]
        ln = Node("LayerNormalization", inputs, [out], {"axis": -1, "epsilon": float(eps)},
                  name=mean.name or "layernorm")
        ln.since_version = 17
        replace_chain(graph, mean, chain, ln)
        changed = True
    return changed
