"""Conv or inference BatchNormalization followed by Mul / Add of a per-channel constant: fold the
scale and shift into the producer's parameters (level 1).

Conv: ``(W * x + B) * m + a`` = ``(W * m) * x + (B * m + a)``. BatchNormalization:
``(x * k + b) * m + a`` with ``k = scale / sqrt(var + eps)`` and ``b = B - mean * k`` becomes a
BatchNormalization with ``scale * m`` and ``B * m + a``. Constants are per output channel:
shape (C, 1, ..., 1) aligned on axis 1 (or a single value); anything that would broadcast the
output to another shape is left alone. Folding is done in float64 and cast back.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from ..ir.graph import Graph, Node
from ..ir.types import TensorType
from ._pattern import (absorb_consumer, const_value, inference_bn_params, is_op,
                       only_consumer, other_input, set_conv_params)

NAME = "AffineFolding"
LEVEL = 1
ORDER = 32


def channel_vector(c: np.ndarray, rank: int, channels: int) -> Optional[np.ndarray]:
    """``c`` as a float64 vector of ``channels`` values when it multiplies or shifts each
    channel (axis 1) of a rank-``rank`` tensor by one value, else None."""
    if c.size == 1 and c.ndim <= rank:
        return np.full(channels, float(c.reshape(-1)[0]))
    if rank < 2:
        return None
    if c.ndim == rank:  # (1, C, 1, ...) : drop the batch axis
        if c.shape[0] != 1:
            return None
        c = c.reshape(c.shape[1:])
    if c.ndim != rank - 1 or c.shape[0] != channels or any(d != 1 for d in c.shape[1:]):
        return None
    return c.reshape(channels).astype(np.float64)


def _rank(node: Node) -> Optional[int]:
    t = node.outputs[0].type
    return len(t.shape) if isinstance(t, TensorType) and t.shape is not None else None


def _conv_params(node: Node):
    """(W, B or None, channels) of a Conv with constant weights, else None."""
    if len(node.inputs) < 2 or node.inputs[1] is None or node.inputs[1].const is None:
        return None
    W = node.inputs[1].const
    B = node.inputs[2] if len(node.inputs) > 2 else None
    if W.dtype.kind != "f" or (B is not None and B.const is None):
        return None
    return W, (B.const if B is not None else None), W.shape[0]


def _fold_one(graph: Graph, node: Node) -> bool:
    out = node.outputs[0]
    nxt = only_consumer(graph, out)
    if not is_op(nxt, "Mul", "Add") or len(nxt.inputs) != 2 or nxt.inputs[0] is nxt.inputs[1]:
        return False
    if nxt.since_version is not None and nxt.since_version < 7:
        return False  # legacy broadcast attributes
    c = other_input(nxt, out)
    if c is None or c.const is None or c.const.dtype.kind != "f":
        return False
    if node.op_type == "Conv":
        found = _conv_params(node)
        if found is None:
            return False
        W, B, channels = found
        if c.const.dtype != W.dtype:
            return False
        vec = channel_vector(c.const, W.ndim, channels)
        if vec is None:
            return False
        b = B.astype(np.float64) if B is not None else np.zeros(channels)
        w = W  # an Add only shifts the bias
        if nxt.op_type == "Mul":
            w = (W.astype(np.float64) * vec.reshape((-1,) + (1,) * (W.ndim - 1))).astype(W.dtype)
            b = b * vec
        else:
            b = b + vec
        set_conv_params(graph, node, w, b.astype(W.dtype), "_affine")
    else:
        found = inference_bn_params(graph, node)
        rank = _rank(node)
        if found is None or rank is None:
            return False
        scale, B = found[:2]
        if c.const.dtype != scale.dtype:
            return False
        vec = channel_vector(c.const, rank, scale.shape[0])
        if vec is None:
            return False
        b = B.astype(np.float64)
        if nxt.op_type == "Mul":
            graph.replace_input(node, 1, const_value(
                graph, node.inputs[1].name + "_scaled",
                (scale.astype(np.float64) * vec).astype(scale.dtype)))
            b = b * vec
        else:
            b = b + vec
        graph.replace_input(node, 2, const_value(graph, node.inputs[2].name + "_shifted",
                                                 b.astype(B.dtype)))
    absorb_consumer(graph, node, nxt)  # the producer now computes the Mul/Add's output
    return True


def apply(graph: Graph, ctx) -> bool:
    changed = False
    for node in list(graph.nodes):
        if not is_op(node, "Conv", "BatchNormalization"):
            continue
        while node in graph.nodes and _fold_one(graph, node):
            changed = True
    return changed
