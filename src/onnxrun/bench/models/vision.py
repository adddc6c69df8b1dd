"""MobileNetV2-style classifier and a small detector head (Resize + Concat + TopK + NMS)."""

from __future__ import annotations

import numpy as np
import onnx

from ._builder import FLOAT, INT64, GraphBuilder, tensor_info


def _conv(g: GraphBuilder, x: str, c_in: int, c_out: int, k: int, stride: int = 1,
          group: int = 1, bias: bool = False) -> str:
    fan_in = c_in // group * k * k
    inputs = [x, g.weight((c_out, c_in // group, k, k), (2.0 / fan_in) ** 0.5)]
    if bias:
        inputs.append(g.weight((c_out,), 0.01))
    return g.op("Conv", inputs, kernel_shape=[k, k], strides=[stride, stride],
                pads=[k // 2] * 4, group=group)


def _bn(g: GraphBuilder, x: str, c: int) -> str:
    var = g.tensor((g.rng.random(c, dtype=np.float32) + np.float32(0.5)), "bn_var")
    return g.op("BatchNormalization", [x, g.weight((c,), 0.1, mean=1.0), g.weight((c,), 0.1),
                                       g.weight((c,), 0.1), var], epsilon=1e-5)


def _relu6(g: GraphBuilder, x: str) -> str:
    return g.op("Clip", [x, g.const(0.0), g.const(6.0)])


def mobilenet_v2(size: int = 224, batch: int = 1, classes: int = 1000,
                 seed: int = 3) -> onnx.ModelProto:
    """MobileNetV2 (width 1.0): inverted residuals with depthwise 3x3 convs, unfolded
    BatchNormalization, Clip(0, 6) as ReLU6."""
    g = GraphBuilder(seed)
    x = _relu6(g, _bn(g, _conv(g, "input", 3, 32, 3, 2), 32))
    c_in = 32
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = c_in * t
            y = x
            if t != 1:
                y = _relu6(g, _bn(g, _conv(g, y, c_in, hidden, 1), hidden))
            y = _relu6(g, _bn(g, _conv(g, y, hidden, hidden, 3, stride, group=hidden), hidden))
            y = _bn(g, _conv(g, y, hidden, c, 1), c)
            x = g.op("Add", [x, y]) if stride == 1 and c_in == c else y
            c_in = c
    x = _relu6(g, _bn(g, _conv(g, x, c_in, 1280, 1), 1280))
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1)
    g.op("Gemm", [x, g.weight((classes, 1280), 0.03), g.weight((classes,), 0.01)],
         out=["logits"], transB=1)
    return g.model([tensor_info("input", FLOAT, [batch, 3, size, size])],
                   [tensor_info("logits", FLOAT, [batch, classes])], opset=13,
                   name="mobilenet_v2",
                   doc=f"MobileNetV2-style network at {size}x{size}; random weights (seed {seed})")


def detector(size: int = 256, anchors: int = 3, top_k: int = 1000, max_boxes: int = 100,
             seed: int = 4) -> onnx.ModelProto:
    """Conv features at /8 and /16, nearest Resize of /16 + Concat, score and box heads,
    TopK over the scores, Gather of the boxes, NonMaxSuppression."""
    g = GraphBuilder(seed)

    def conv_relu(x, ci, co, k=3, s=1):
        return g.op("Relu", [_conv(g, x, ci, co, k, s, bias=True)])

    c = conv_relu("image", 3, 32, s=2)
    c = conv_relu(c, 32, 64, s=2)
    c8 = conv_relu(c, 64, 128, s=2)
    c16 = conv_relu(c8, 128, 256, s=2)
    up = g.op("Resize", [c16, "", g.const([1.0, 1.0, 2.0, 2.0])], mode="nearest")
    f = conv_relu(g.op("Concat", [c8, up], axis=1), 384, 128)
    cells = (size // 8) ** 2
    n = anchors * cells
    scores = g.op("Sigmoid", [_conv(g, f, 128, anchors, 1, bias=True)])
    scores = g.op("Reshape", [scores, g.const([1, n], np.int64)])
    boxes = _conv(g, f, 128, 4 * anchors, 1, bias=True)
    boxes = g.op("Reshape", [boxes, g.const([anchors, 4, cells], np.int64)])
    boxes = g.op("Reshape", [g.op("Transpose", [boxes], perm=[0, 2, 1]),
                             g.const([n, 4], np.int64)])
    boxes = g.op("Mul", [g.op("Sigmoid", [boxes]), g.const(float(size))])
    values, idx = g.op("TopK", [scores, g.const([top_k], np.int64)], n_out=2, axis=1)
    top_boxes = g.op("Gather", [boxes, g.op("Squeeze", [idx, g.const([0], np.int64)])], axis=0)
    top_boxes = g.op("Unsqueeze", [top_boxes, g.const([0], np.int64)])
    top_scores = g.op("Unsqueeze", [values, g.const([1], np.int64)])
    g.op("NonMaxSuppression", [top_boxes, top_scores, g.const([max_boxes], np.int64),
                               g.const([0.5]), g.const([0.05])], out=["selected"])
    g.op("Identity", [values], out=["top_scores"])
    return g.model([tensor_info("image", FLOAT, [1, 3, size, size])],
                   [tensor_info("selected", INT64, ["n_selected", 3]),
                    tensor_info("top_scores", FLOAT, [1, top_k])], opset=13, name="detector",
                   doc=f"detector head at {size}x{size}, {n} candidates, TopK {top_k}, "
                       f"NMS to {max_boxes}; random weights (seed {seed})")
