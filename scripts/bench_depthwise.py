"""Depthwise conv layers of mobile models on onnxrun-Numba, onnxrun-CPU (NumPy) and onnxruntime.

    python scripts/bench_depthwise.py [--threads 0 1] [--only SUBSTRING] [--time 0.3] [--grouped]

Each layer is a one-node model (Conv with bias, constant weights, batch 1) at the shapes of
PP-LCNet OCR recognizers (1x3x48x320 input), MobileNetV2/V3 at 224x224 and at 640x640
(``--grouped``: grouped convs and dense convs with few input channels instead, which is where
conv.py's MAX_GROUP_CHANNELS comes from; layers the Numba provider does not claim show
"cpu" in its column). The three sessions run interleaved (one run of each in turn) for about ``--time`` seconds per
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

# name, channels, height, width, kernel, stride (depthwise: group = channels)
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


# name, in channels, height, width, out channels, group, kernel, stride
GROUPED = [
    ("stem 3->16 640 3x3/2", 3, 640, 640, 16, 1, 3, 2),
    ("stem 3->32 224 3x3/2", 3, 224, 224, 32, 1, 3, 2),
    ("resnet 3->64 224 7x7/2", 3, 224, 224, 64, 1, 7, 2),
    ("dense 8->32 112 3x3", 8, 112, 112, 32, 1, 3, 1),
    ("dense 16->32 320 3x3/2", 16, 320, 320, 32, 1, 3, 2),
    ("dense 16->16 160 3x3", 16, 160, 160, 16, 1, 3, 1),
    ("g2 cg2 64 56 3x3", 64, 56, 56, 64, 32, 3, 1),
    ("resnext cg4 128 56 3x3", 128, 56, 56, 128, 32, 3, 1),
    ("resnext cg8 256 28 3x3", 256, 28, 28, 256, 32, 3, 1),
    ("resnext cg16 512 14 3x3", 512, 14, 14, 512, 32, 3, 1),
    ("resnext cg32 1024 7 3x3", 1024, 7, 7, 1024, 32, 3, 1),
    ("cg8 64 56 3x3/2", 64, 56, 56, 64, 8, 3, 2),
    ("yolo cg16 32 160 3x3", 32, 160, 160, 32, 2, 3, 1),
    ("yolo cg16 64 80 3x3", 64, 80, 80, 64, 4, 3, 1),
    ("regnet cg16 128 28 3x3", 128, 28, 28, 128, 8, 3, 1),
    ("cg4 1x1 96 28", 96, 28, 28, 96, 24, 1, 1),
]


def layer_model(c, h, w, m, group, k, s):
    rng = np.random.default_rng(0)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], group=group, kernel_shape=[k, k],
                            strides=[s, s], pads=[k // 2] * 4)
    g = helper.make_graph(
        [node], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, w])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(rng.standard_normal((m, c // group, k, k)).astype(np.float32)
                                 * np.float32((c // group * k * k) ** -0.5), "w"),
         numpy_helper.from_array(rng.standard_normal(m).astype(np.float32), "b")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    return m.SerializeToString(), {"x": rng.standard_normal((1, c, h, w)).astype(np.float32)}


def sessions(model, threads, ort_spin=True):
    import onnxruntime as ort
    so = onnxrun.SessionOptions()
    so.intra_op_num_threads = threads
    numba = onnxrun.InferenceSession(model, so)
    assert numba.get_providers()[0] == "NumbaExecutionProvider", "numba is not available"
    cpu = onnxrun.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    oso = ort.SessionOptions()
    oso.intra_op_num_threads = threads
    if not ort_spin:
        oso.add_session_config_entry("session.intra_op.allow_spinning", "0")
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
    p.add_argument("--grouped", action="store_true",
                   help="grouped and few-channel dense convs instead of depthwise ones")
    p.add_argument("--ort-no-spin", action="store_true",
                   help="turn off onnxruntime's spinning intra-op threads: with more than one "
                        "thread they keep spinning after each run and take CPU from the "
                        "interleaved onnxrun runs on a small machine")
    p.add_argument("--claim-all", action="store_true",
                   help="let the Numba provider take every conv (to measure where it should)")
    args = p.parse_args(argv)
    if args.claim_all:
        from onnxrun.kernels.numba import conv
        conv.MAX_GROUP_CHANNELS = 1 << 30
    table = GROUPED if args.grouped else [(n, c, h, w, c, c, k, s)
                                          for n, c, h, w, k, s in LAYERS]
    layers = [L for L in table if not args.only or args.only in L[0]]
    for threads in args.threads:
        print(f"\nintra_op_num_threads={threads} (median ms per run; ratios to onnxruntime)")
        print(f"| {'layer':22s} | runs | numba ms | cpu ms | ort ms | numba/ort | cpu/ort "
              f"| max diff |")
        print(f"|{'-' * 24}|------|----------|--------|--------|-----------|---------"
              f"|----------|")
        ratios = []
        for name, *geometry in layers:
            model, feeds = layer_model(*geometry)
            sess = sessions(model, threads, not args.ort_no_spin)
            claimed = sess["numba"]._core.graph.nodes[0].provider == "NumbaExecutionProvider"
            med, diff, runs = measure(sess, feeds, args.time)
            r = med["numba"] / med["ort"]
            ratios.append(r)
            where = f"{med['numba'] * 1e3:8.3f}" if claimed else "     cpu"
            print(f"| {name:22s} | {runs:4d} | {where} | "
                  f"{med['cpu'] * 1e3:6.3f} | {med['ort'] * 1e3:6.3f} | {r:9.2f} | "
                  f"{med['cpu'] / med['ort']:7.2f} | {max(diff['numba'], diff['cpu']):8.1e} |",
                  flush=True)
        gm = float(np.exp(np.mean(np.log(ratios))))
        print(f"numba/ort: geometric mean {gm:.2f}, worst {max(ratios):.2f}, "
              f"layers over 2x: {sum(r > 2 for r in ratios)} of {len(ratios)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
