"""Scratch mobile CNNs for profiling the Numba provider (not the benchmark suite).

    python scripts/mobile_models.py OUTDIR      # writes every model below as OUTDIR/NAME.onnx

* ``pplcnet_rec``: PP-LCNet-style OCR recognizer backbone at 1x3x48x320 (3x3 and 5x5
  depthwise convs, BatchNormalization, HardSwish, squeeze-excite with HardSigmoid) and a small
  sequence head (pooling over height, MatMul);
* ``pplcnet_det``: the same backbone at 1x3x640x640 with a DB-style neck (1x1 convs, nearest
  Resize, Add, Concat) and head (3x3 conv, two ConvTranspose, Sigmoid);
* ``mobilenet_v3``: MobileNetV3-Large at 224 or 640 (ReLU / HardSwish, SE blocks);
* ``yolo_tiny``: a YOLO-style detector at 640 (SiLU convs, grouped 3x3 convs, SPPF max pools,
  Resize + Concat neck).
"""

from __future__ import annotations

import os
import sys

import numpy as np
import onnx

from onnxrun.bench.models._builder import FLOAT, GraphBuilder, tensor_info


def out_info(name, rank):
    return [tensor_info(name, FLOAT, [f"d{i}" for i in range(rank)])]


def conv(g, x, c_in, c_out, k, stride=1, group=1):
    fan_in = c_in // group * k * k
    s = [stride, stride] if isinstance(stride, int) else list(stride)
    return g.op("Conv", [x, g.weight((c_out, c_in // group, k, k), (2.0 / fan_in) ** 0.5)],
                kernel_shape=[k, k], strides=s, pads=[k // 2] * 4, group=group)


def bn(g, x, c):
    var = g.tensor(g.rng.random(c, dtype=np.float32) + np.float32(0.5), "bn_var")
    return g.op("BatchNormalization", [x, g.weight((c,), 0.1, mean=1.0), g.weight((c,), 0.1),
                                       g.weight((c,), 0.1), var], epsilon=1e-5)


def cbn(g, x, c_in, c_out, k, stride=1, group=1, act="HardSwish"):
    y = bn(g, conv(g, x, c_in, c_out, k, stride, group), c_out)
    if act == "SiLU":
        return g.op("Mul", [y, g.op("Sigmoid", [y])])
    return g.op(act, [y]) if act else y


def se(g, x, c, reduction=4):
    s = g.op("GlobalAveragePool", [x])
    s = g.op("Relu", [g.op("Conv", [s, g.weight((c // reduction, c, 1, 1), 0.1),
                                    g.weight((c // reduction,), 0.01)])])
    s = g.op("HardSigmoid", [g.op("Conv", [s, g.weight((c, c // reduction, 1, 1), 0.1),
                                          g.weight((c,), 0.01)])], alpha=1 / 6, beta=0.5)
    return g.op("Mul", [x, s])


#: PP-LCNet blocks: kernel, in, out, stride, squeeze-excite
LCNET = [(3, 16, 32, 1, False), (3, 32, 64, 2, False), (3, 64, 64, 1, False),
         (3, 64, 128, 1, False), (3, 128, 128, 1, False), (3, 128, 240, 1, False),
         (5, 240, 240, 1, False), (5, 240, 240, 1, False), (5, 240, 256, 2, False),
         (5, 256, 256, 1, False), (5, 256, 256, 1, False), (5, 256, 512, 2, True),
         (5, 512, 512, 1, True)]


#: the detector's backbone downsamples once more (block 3), for outputs at strides 4 to 32
LCNET_DET = LCNET[:3] + [(3, 64, 128, 2, False)] + LCNET[4:]


def lcnet_backbone(g, x, taps=(), blocks=LCNET):
    x = cbn(g, x, 3, 16, 3, 2)
    found = []
    for i, (k, ci, co, s, use_se) in enumerate(blocks):
        x = cbn(g, x, ci, ci, k, s, group=ci)
        if use_se:
            x = se(g, x, ci)
        x = cbn(g, x, ci, co, 1)
        if i in taps:
            found.append((x, co))
    return x, found


def pplcnet_rec(height=48, width=320, classes=97, seed=11):
    g = GraphBuilder(seed)
    x, _ = lcnet_backbone(g, "input")
    x = g.op("ReduceMean", [x], axes=[2], keepdims=0)    # (1, 512, W / 32)
    x = g.op("Transpose", [x], perm=[0, 2, 1])
    x = g.op("MatMul", [x, g.weight((512, classes), 0.05)])
    y = g.op("Softmax", [x], axis=-1, out=["probs"])
    return g.model([tensor_info("input", FLOAT, [1, 3, height, width])],
                   out_info(y, 3), 17, "pplcnet_rec")


def pplcnet_det(size=640, seed=12):
    g = GraphBuilder(seed)
    x, feats = lcnet_backbone(g, "input", (2, 4, 10, 12), LCNET_DET)  # strides 4, 8, 16, 32
    lat = [cbn(g, f, c, 96, 1, act=None) for f, c in feats]
    up = lat[-1]
    outs = [up]
    for f in reversed(lat[:-1]):
        up = g.op("Add", [f, g.op("Resize", [up, "", g.const([1, 1, 2, 2])], mode="nearest")])
        outs.append(up)
    outs = [cbn(g, o, 96, 24, 3, act=None) for o in outs]
    scaled = []
    for i, o in enumerate(reversed(outs)):
        f = 2 ** i
        scaled.append(o if f == 1 else
                      g.op("Resize", [o, "", g.const([1, 1, f, f])], mode="nearest"))
    x = g.op("Concat", scaled, axis=1)
    x = cbn(g, x, 96, 24, 3, act="Relu")
    for c_out in (24, 1):
        w = g.weight((24, c_out, 2, 2), 0.1)
        x = g.op("ConvTranspose", [x, w, g.weight((c_out,), 0.01)], kernel_shape=[2, 2],
                 strides=[2, 2])
        if c_out == 24:
            x = g.op("Relu", [bn(g, x, 24)])
    y = g.op("Sigmoid", [x], out=["prob_map"])
    return g.model([tensor_info("input", FLOAT, [1, 3, size, size])],
                   out_info(y, 4), 17, "pplcnet_det")


#: MobileNetV3-Large: kernel, expansion, out, squeeze-excite, activation, stride
MBV3 = [(3, 16, 16, False, "Relu", 1), (3, 64, 24, False, "Relu", 2),
        (3, 72, 24, False, "Relu", 1), (5, 72, 40, True, "Relu", 2),
        (5, 120, 40, True, "Relu", 1), (5, 120, 40, True, "Relu", 1),
        (3, 240, 80, False, "HardSwish", 2), (3, 200, 80, False, "HardSwish", 1),
        (3, 184, 80, False, "HardSwish", 1), (3, 184, 80, False, "HardSwish", 1),
        (3, 480, 112, True, "HardSwish", 1), (3, 672, 112, True, "HardSwish", 1),
        (5, 672, 160, True, "HardSwish", 2), (5, 960, 160, True, "HardSwish", 1),
        (5, 960, 160, True, "HardSwish", 1)]


def mobilenet_v3(size=224, seed=13):
    g = GraphBuilder(seed)
    x = cbn(g, "input", 3, 16, 3, 2)
    c = 16
    for k, exp, out, use_se, act, s in MBV3:
        y = x
        if exp != c:
            y = cbn(g, y, c, exp, 1, act=act)
        y = cbn(g, y, exp, exp, k, s, group=exp, act=act)
        if use_se:
            y = se(g, y, exp)
        y = cbn(g, y, exp, out, 1, act=None)
        x = g.op("Add", [x, y]) if s == 1 and c == out else y
        c = out
    x = cbn(g, x, c, 960, 1)
    x = g.op("GlobalAveragePool", [x])
    x = g.op("HardSwish", [g.op("Conv", [x, g.weight((1280, 960, 1, 1), 0.03),
                                         g.weight((1280,), 0.01)])])
    x = g.op("Flatten", [x])
    y = g.op("Gemm", [x, g.weight((1000, 1280), 0.03), g.weight((1000,), 0.01)], transB=1,
             out=["logits"])
    return g.model([tensor_info("input", FLOAT, [1, 3, size, size])],
                   out_info(y, 2), 17, f"mobilenet_v3_{size}")


def yolo_tiny(size=640, seed=14):
    g = GraphBuilder(seed)
    x = cbn(g, "input", 3, 16, 3, 2, act="SiLU")
    feats = []
    c = 16
    for i, c_out in enumerate((32, 64, 128, 256)):
        x = cbn(g, x, c, c_out, 3, 2, act="SiLU")
        y = cbn(g, x, c_out, c_out, 3, 1, group=c_out // 16, act="SiLU")   # grouped 3x3
        y = cbn(g, y, c_out, c_out, 1, act="SiLU")
        x = g.op("Concat", [x, y], axis=1)
        x = cbn(g, x, 2 * c_out, c_out, 1, act="SiLU")
        c = c_out
        if i >= 1:
            feats.append((x, c))
    # SPPF
    p = [x]
    for _ in range(3):
        p.append(g.op("MaxPool", [p[-1]], kernel_shape=[5, 5], pads=[2, 2, 2, 2]))
    x = cbn(g, g.op("Concat", p, axis=1), 4 * c, c, 1, act="SiLU")
    heads = []
    for f, cf in reversed(feats[:-1]):
        x = g.op("Resize", [x, "", g.const([1, 1, 2, 2])], mode="nearest")
        x = cbn(g, g.op("Concat", [x, f], axis=1), c + cf, cf, 3, act="SiLU")
        c = cf
        heads.append(g.op("Conv", [x, g.weight((85 * 3, cf, 1, 1), 0.05)]))
    outs = [g.op("Reshape", [h, g.const([1, 255, -1], np.int64)]) for h in heads]
    y = g.op("Concat", outs, axis=2, out=["detections"])
    return g.model([tensor_info("input", FLOAT, [1, 3, size, size])],
                   out_info(y, 3), 17, "yolo_tiny")


MODELS = {
    "pplcnet_rec": pplcnet_rec,
    "pplcnet_det": pplcnet_det,
    "mobilenet_v3_224": lambda: mobilenet_v3(224),
    "mobilenet_v3_640": lambda: mobilenet_v3(640),
    "yolo_tiny": yolo_tiny,
}


def main(argv=None) -> int:
    out = (argv or sys.argv[1:] or ["/tmp/onnxrun_mobile"])[0]
    os.makedirs(out, exist_ok=True)
    for name, build in MODELS.items():
        path = os.path.join(out, name + ".onnx")
        onnx.save(build(), path)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
