"""An LSTM sequence model and a long chain of small elementwise nodes."""

from __future__ import annotations

import numpy as np
import onnx

from ._builder import FLOAT, GraphBuilder, tensor_info


def lstm(layers: int = 2, hidden: int = 256, input_size: int = 128, seq: int = 100,
         batch: int = 1, classes: int = 10, seed: int = 5) -> onnx.ModelProto:
    """Stacked single-direction LSTMs over ``seq`` steps, then a Gemm head on the last hidden
    state."""
    g = GraphBuilder(seed)
    x, size = "input", input_size
    y_h = None
    std = 1.0 / hidden ** 0.5
    for _ in range(layers):
        y, y_h = g.op("LSTM", [x, g.weight((1, 4 * hidden, size), std),
                               g.weight((1, 4 * hidden, hidden), std),
                               g.weight((1, 8 * hidden), std)], n_out=2, hidden_size=hidden)
        x = g.op("Squeeze", [y, g.const([1], np.int64)])
        size = hidden
    last = g.op("Reshape", [y_h, g.const([batch, hidden], np.int64)])
    g.op("Gemm", [last, g.weight((classes, hidden), 0.05), g.weight((classes,), 0.01)],
         out=["logits"], transB=1)
    return g.model([tensor_info("input", FLOAT, [seq, batch, input_size])],
                   [tensor_info("logits", FLOAT, [batch, classes])], opset=14, name="lstm",
                   doc=f"{layers}-layer LSTM, hidden {hidden}, seq {seq}, batch {batch}; "
                       f"random weights (seed {seed})")


def elementwise_chain(nodes: int = 1000, width: int = 16, seed: int = 6) -> onnx.ModelProto:
    """``nodes`` nodes cycling Add / Mul / Relu on a [1, width] tensor: per-node overhead."""
    g = GraphBuilder(seed)
    add = g.const(g.rng.standard_normal(width).astype(np.float32) * np.float32(0.1))
    mul = g.const(np.float32(0.9) + g.rng.random(width, dtype=np.float32) * np.float32(0.2))
    x = "input"
    for i in range(nodes):
        last = ["output"] if i == nodes - 1 else None
        kind = i % 3
        if kind == 0:
            x = g.op("Add", [x, add], out=last)
        elif kind == 1:
            x = g.op("Mul", [x, mul], out=last)
        else:
            x = g.op("Relu", [x], out=last)
    return g.model([tensor_info("input", FLOAT, [1, width])],
                   [tensor_info("output", FLOAT, [1, width])], opset=13,
                   name="elementwise_chain",
                   doc=f"{nodes} Add/Mul/Relu nodes on [1, {width}] (per-node overhead)")
