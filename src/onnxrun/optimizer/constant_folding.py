"""Constant folding (level 1): run nodes whose inputs are all constants once, at init, and
replace their outputs by the results. Non-deterministic ops and ops with subgraphs are kept;
a fold that fails is left for run time (where it reports its error with the node's name)."""

from __future__ import annotations

import numpy as np

from ..errors import OnnxRuntimeError
from ..framework.resolver import get_schema
from ..ir.graph import Graph

NAME = "ConstantFolding"
LEVEL = 1
ORDER = 20

#: not folded: QuantizeLinear of a constant stays a quantization step of the graph. A
#: DequantizeLinear of a constant (the weights of a QDQ model) is folded: onnxrun runs QDQ
#: models on its float kernels, which prepare constant weights once at init.
_SKIP = {"QuantizeLinear"}


def _foldable(node, graph: Graph) -> bool:
    if node.implicit_inputs or any(True for _ in node.subgraphs()):
        return False
    if node.domain != "" or node.op_type in _SKIP:
        return False
    if not node.inputs and node.op_type != "Constant":  # (Random*: nothing to fold)
        return False
    if any(v is not None and v.const is None for v in node.inputs):
        return False
    schema = get_schema(node.op_type, graph.opsets.get(node.domain, 1), node.domain)
    if schema is None or schema.node_determinism != schema.NodeDeterminism.Deterministic:
        return False
    return True


def apply(graph: Graph, ctx) -> bool:
    folded = []
    for node in list(graph.nodes):
        if not _foldable(node, graph):
            continue
        try:
            fn = ctx.cpu_kernel(node, graph)
            if fn is None:
                continue
            with np.errstate(all="ignore"):
                res = fn(*[v.const if v is not None else None for v in node.inputs])
        except OnnxRuntimeError as exc:  # e.g. a size bomb: the model is rejected at load
            raise exc.with_prefix(f"{node.op_type} node '{node.name}' (constant folding): ") \
                from exc
        except Exception:
            continue
        multi = get_schema(node.op_type, graph.opsets.get(""), "").max_output > 1
        results = list(res) if multi else [res]
        if not all(isinstance(r, np.ndarray) for r in results[:len(node.outputs)]):
            continue
        for v, r in zip(node.outputs, results):
            if v is not None:
                v.const = r
                v.producer = None
        folded.append(node)
    graph.remove_nodes(folded)
    return bool(folded)
