"""Depthwise conv layers of mobile models on onnxrun-Numba, onnxrun-CPU (NumPy) and onnxruntime.

    python scripts/bench_depthwise.py [--threads 0 1] [--only SUBSTRING] [--time 0.3]

Each layer is a one-node model (Conv with bias, constant weights, batch 1) at the shapes of
PP-LCNet OCR recognizers (1x3x48x320 input), MobileNetV2/V3 at 224x224 and at 640x640. The
three sessions run interleaved (one run of each in turn) for about ``--time`` seconds per
layer; the table gives median milliseconds per run (whole ``session.run``, as a user sees it)
and the ratios to onnxruntime, for each ``intra_op_num_threads`` setting (0: each runtime's
default, the physical cores).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
from onnx import TensorProto, helper, numpy_helper

import onnxrun

# name, channels, height, width, kernel, stride
LAYERS = [
    # PP-LCNet OCR recognizer, 1x3x48x320 input
    ("lcnet 16 24x160 3x3", 16, 24, 160, 3, 1),
    ("lcnet 32 24x160 3x3/2", 32, 24, 160, 3, 2),
    ("lcnet 64 12x80 3x3", 64, 12, 80, 3, 1),
    ("lcnet 64 12x80 3x3/2", 64, 12, 80, 3, 2),
    ("lcnet 128 12x80 3x3", 128, 12, 80, 3, 1),
    ("lcnet 128 6x40 3x3", 128, 6, 40, 3, 1),
    ("lcnet 240 12x80 5x5", 240, 12, 80, 5, 1),
    ("lcnet 256 6x40 5x5", 256, 6, 40, 5, 1),
    ("lcnet 256 6x40 5x5/2", 256, 6, 40, 5, 2),
    ("lcnet 256 3x20 3x3", 256, 3, 20, 3, 1),
    ("lcnet 512 3x20 5x5", 512, 3, 20, 5, 1),
    ("lcnet 512 3x20 3x3", 512, 3, 20, 3, 1),
    # MobileNetV2 / V3 at 224
    ("mb224 32 112 3x3", 32, 112, 112, 3, 1),
    ("mb224 96 112 3x3/2", 96, 112, 112, 3, 2),
    ("mb224 144 56 3x3", 144, 56, 56, 3, 1),
    ("mb224 72 56 5x5/2", 72, 56, 56, 5, 2),
    ("mb224 192 28 3x3", 192, 28, 28, 3, 1),
    ("mb224 120 28 5x5", 120, 28, 28, 5, 1),
    ("mb224 384 14 3x3", 384, 14, 14, 3, 1),
    ("mb224 672 14 5x5/2", 672, 14, 14, 5, 2),
    ("mb224 960 7 3x3", 960, 7, 7, 3, 1),
    ("mb224 960 7 5x5", 960, 7, 7, 5, 1),
    # the same at 640
    ("mb640 32 320 3x3", 32, 320, 320, 3, 1),
    ("mb640 96 320 3x3/2", 96, 320, 320, 3, 2),
    ("mb640 144 160 3x3", 144, 160, 160, 3, 1),
    ("mb640 72 160 5x5/2", 72, 160, 160, 5, 2),
    ("mb640 192 80 3x3", 192, 80, 80, 3, 1),
    ("mb640 120 80 5x5", 120, 80, 80, 5, 1),
    ("mb640 384 40 3x3", 384, 40, 40, 3, 1),
    ("mb640 672 40 5x5/2", 672, 40, 40, 5, 2),
    ("mb640 960 20 3x3", 960, 20, 20, 3, 1),
    ("mb640 960 20 5x5", 960, 20, 20, 5, 1),
]


def layer_model(c, h, w, k, s):
    rng = np.random.default_rng(0)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], group=c, kernel_shape=[k, k],
                            strides=[s, s], pads=[k // 2] * 4)
    g = helper.make_graph(
        [node], "dw", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, w])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(rng.standard_normal((c, 1, k, k)).astype(np.float32), "w"),
         numpy_helper.from_array(rng.standard_normal(c).astype(np.float32), "b")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    return m.SerializeToString(), {"x": rng.standard_normal((1, c, h, w)).astype(np.float32)}


def sessions(model, threads):
    import onnxruntime as ort
    so = onnxrun.SessionOptions()
    so.intra_op_num_threads = threads
    numba = onnxrun.InferenceSession(model, so)
    assert numba.get_providers()[0] == "NumbaExecutionProvider", "numba is not available"
    assert numba._core.graph.nodes[0].provider == "NumbaExecutionProvider"
    cpu = onnxrun.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    oso = ort.SessionOptions()
    oso.intra_op_num_threads = threads
    theirs = ort.InferenceSession(model, oso, providers=["CPUExecutionProvider"])
    return {"numba": numba, "cpu": cpu, "ort": theirs}


def measure(sess, feeds, seconds):
    """Median seconds per run of each session, runs interleaved; the largest difference of
    each output from onnxruntime's."""
    outs = {k: s.run(None, feeds)[0] for k, s in sess.items()}  # warm-up
    diff = {k: float(np.abs(o - outs["ort"]).max()) for k, o in outs.items()}
    times = {k: [] for k in sess}
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end or len(times["ort"]) < 7:
        for k, s in sess.items():
            t0 = time.perf_counter()
            s.run(None, feeds)
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}, diff, len(times["ort"])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[0, 1])
    p.add_argument("--only", help="run the layers whose name contains this")
    p.add_argument("--time", type=float, default=0.3, help="seconds per layer (0.3)")
    args = p.parse_args(argv)
    layers = [L for L in LAYERS if not args.only or args.only in L[0]]
    for threads in args.threads:
        print(f"\nintra_op_num_threads={threads} (median ms per run; ratios to onnxruntime)")
        print(f"| {'layer':22s} | runs | numba ms | cpu ms | ort ms | numba/ort | cpu/ort "
              f"| max diff |")
        print(f"|{'-' * 24}|------|----------|--------|--------|-----------|---------"
              f"|----------|")
        ratios = []
        for name, c, h, w, k, s in layers:
            model, feeds = layer_model(c, h, w, k, s)
            med, diff, runs = measure(sessions(model, threads), feeds, args.time)
            r = med["numba"] / med["ort"]
            ratios.append(r)
            print(f"| {name:22s} | {runs:4d} | {med['numba'] * 1e3:8.3f} | "
                  f"{med['cpu'] * 1e3:6.3f} | {med['ort'] * 1e3:6.3f} | {r:9.2f} | "
                  f"{med['cpu'] / med['ort']:7.2f} | {max(diff['numba'], diff['cpu']):8.1e} |",
                  flush=True)
        gm = float(np.exp(np.mean(np.log(ratios))))
        print(f"numba/ort: geometric mean {gm:.2f}, worst {max(ratios):.2f}, "
              f"layers over 2x: {sum(r > 2 for r in ratios)} of {len(ratios)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
