"""Small helpers shared by the graph transformers."""

from __future__ import annotations

from typing import Optional

import numpy as np

from ..ir.graph import Graph, Node, Value


def only_consumer(graph: Graph, v: Optional[Value], op_type: Optional[str] = None,
                  domain: str = "") -> Optional[Node]:
    """The single node reading ``v`` (explicitly, once), if ``v`` is not also returned."""
    if v is None or graph.is_graph_output(v) or len(v.uses) != 1:
        return None
    node, idx = v.uses[0]
    if idx < 0:
        return None
    if op_type is not None and (node.op_type != op_type or node.domain != domain):
        return None
    return node


def is_op(node: Optional[Node], *ops: str, domain: str = "") -> bool:
    return node is not None and node.domain == domain and node.op_type in ops


def scalar(v: Optional[Value]) -> Optional[float]:
    """The value of a constant holding a single number, else None."""
    if v is None or v.const is None or v.const.size != 1 or v.const.dtype.kind not in "fiu":
        return None
    return float(v.const.reshape(-1)[0])


def other_input(node: Node, v: Value) -> Optional[Value]:
    """For a binary node reading ``v``, its other input."""
    a, b = node.inputs[0], node.inputs[1]
    return b if a is v else a if b is v else None


def replace_chain(graph: Graph, first: Node, chain: list, new: Node) -> None:
    """Put ``new`` where ``first`` was and remove every node of ``chain`` (which includes
    ``first``); ``new`` already names its inputs and the chain's final outputs."""
    index = graph.nodes.index(first)
    for n in chain:
        graph.remove_node(n)
        for v in n.outputs:
            if v is not None and not v.uses and not graph.is_graph_output(v) and \
                    v not in new.outputs and graph.values.get(v.name) is v:
                del graph.values[v.name]
    graph.add_node(new, min(index, len(graph.nodes)))


def const_value(graph: Graph, name: str, array: np.ndarray) -> Value:
    v = graph.add_value(Value(graph.unique_name(name), const=array))
    return v


def claimed_by_cpu(ctx, graph: Graph, node: Node) -> bool:
    """Whether the partitioner will give ``node`` to the CPU provider, i.e. no provider ahead
    of it claims the node. Fusions into CPU-only com.onnxrun kernels take only such nodes, so
    they never steal work from a device provider."""
    for p in getattr(ctx, "providers", ()):
        if p.name == "CPUExecutionProvider":
            return True
        if p.get_capability(node, lambda n: ctx.info_for(n, graph)) is not None:
            return False
    return True


def inference_bn_params(graph: Graph, node: Node):
    """(scale, B, mean, var) of a BatchNormalization in inference mode whose four parameters
    are constant 1-D float vectors of one length and whose statistics outputs nobody reads;
    else None."""
    if node.attrs.get("training_mode", 0) or node.attrs.get("spatial", 1) == 0:
        return None
    if node.attrs.get("is_test", 1) == 0 and node.since_version and node.since_version < 7:
        return None
    if any(v is not None and (v.uses or graph.is_graph_output(v)) for v in node.outputs[1:]):
        return None
    params = [v.const if v is not None else None for v in node.inputs[1:5]]
    if len(params) < 4 or any(p is None for p in params):
        return None
    if params[0].ndim != 1 or params[0].dtype.kind != "f" or \
            any(p.shape != params[0].shape for p in params):
        return None
    return tuple(params)


def set_conv_params(graph: Graph, conv: Node, weight: np.ndarray, bias: np.ndarray,
                    tag: str) -> None:
    """Give ``conv`` new constant weights and bias (named after the old ones plus ``tag``)."""
    graph.replace_input(conv, 1, const_value(graph, conv.inputs[1].name + tag, weight))
    b = const_value(graph, (conv.name or "conv") + tag + "_bias", bias)
    if len(conv.inputs) > 2:
        graph.replace_input(conv, 2, b)
    else:
        conv.inputs.append(b)
        b.uses.append((conv, 2))


def absorb_consumer(graph: Graph, node: Node, consumer: Node) -> None:
    """Remove ``consumer`` (the only reader of ``node``'s first output) and let ``node``
    produce the consumer's output instead (after folding the consumer into ``node``)."""
    old = node.outputs[0]
    graph.remove_node(consumer)
    node.outputs[0] = consumer.outputs[0]
    consumer.outputs[0].producer = node
    if graph.values.get(old.name) is old and not old.uses:
        del graph.values[old.name]
