"""Remove Identity nodes and inference-mode Dropout whose mask is unused (level 1)."""

from __future__ import annotations

from ..ir.graph import Graph

NAME = "EliminateIdentity"
LEVEL = 1
ORDER = 10


def _removable(node, graph: Graph) -> bool:
    if node.op_type == "Identity" and node.domain == "":
        return True
    if node.op_type == "Dropout" and node.domain == "":
        mask_used = len(node.outputs) > 1 and node.outputs[1] is not None and (
            node.outputs[1].uses or graph.is_graph_output(node.outputs[1]))
        if mask_used:
            return False
        training = node.inputs[2] if len(node.inputs) > 2 else None
        if training is not None:
            if training.const is None or bool(training.const.reshape(-1)[0]):
                return False
        return True
    return False


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for node in list(graph.nodes):
        if node.domain != "" or node.op_type not in ("Identity", "Dropout"):
            continue
        if not node.inputs or node.inputs[0] is None or not _removable(node, graph):
            continue
        src, out = node.inputs[0], node.outputs[0]
        if out is None:
            continue
        if graph.is_graph_output(out):
            # keep the output's name: only fold when the source is a plain intermediate that
            # is not itself a graph output, an input, or an outer value
            if (src.producer is None or graph.values.get(src.name) is not src
                    or graph.is_graph_output(src)):
                continue
            if len(src.uses) != 1:
                continue
            _rename_into(graph, src, out)
            graph.remove_node(node)
            changed = True
            continue
        graph.replace_all_uses(out, src)
        _redirect_subgraph_refs(graph, out, src)
        graph.remove_node(node)
        changed = True
    return changed


def _rename_into(graph: Graph, src, out) -> None:
    """``src``'s producer writes ``out`` directly."""
    producer = src.producer
    for i, v in enumerate(producer.outputs):
        if v is src:
            producer.outputs[i] = out
    out.producer = producer
    if out.type is None:
        out.type = src.type
    del graph.values[src.name]


def _redirect_subgraph_refs(graph: Graph, old, new) -> None:
    """Subgraphs reading ``old`` from the outer scope read ``new`` instead."""
    for node, idx in list(old.uses):
        if idx == -1:
            node.implicit_inputs = [new if v is old else v for v in node.implicit_inputs]
            old.uses = [(n, i) for (n, i) in old.uses if n is not node]
            new.uses.append((node, -1))
            for _, sub in node.subgraphs():
                _replace_outer(sub, old, new)


def _replace_outer(sub: Graph, old, new) -> None:
    if old in sub.outer_refs:
        sub.outer_refs = [new if v is old else v for v in sub.outer_refs]
    for n in sub.nodes:
        for i, v in enumerate(n.inputs):
            if v is old:
                n.inputs[i] = new
        if old in n.implicit_inputs:
            n.implicit_inputs = [new if v is old else v for v in n.implicit_inputs]
        for _, inner in n.subgraphs():
            _replace_outer(inner, old, new)
