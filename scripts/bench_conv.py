"""Micro-benchmark: onnxrun's Conv against onnxruntime on ResNet-50 layer shapes (batch 1).

    python scripts/bench_conv.py [--repeat 15] [--threads 2] [--cpu]

``--threads`` sets onnxruntime's intra-op threads and (through OPENBLAS_NUM_THREADS, set before
NumPy loads) the BLAS threads onnxrun uses.

Each layer is a one-node model with constant weights; the two runtimes run interleaved and the
median times are reported with their ratio (onnxrun / onnxruntime)."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

if __name__ == "__main__" and "--threads" in sys.argv:
    # BLAS thread count must be fixed before NumPy loads OpenBLAS
    _n = sys.argv[sys.argv.index("--threads") + 1]
    for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_v, _n)

import numpy as np  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import onnxrun  # noqa: E402

# name, C_in, H, C_out, k, stride, pad
LAYERS = [
    ("conv1 7x7/2", 3, 224, 64, 7, 2, 3),
    ("res2 1x1 64->64", 64, 56, 64, 1, 1, 0),
    ("res2 3x3 64->64", 64, 56, 64, 3, 1, 1),
    ("res2 1x1 64->256", 64, 56, 256, 1, 1, 0),
    ("res3 3x3/2 128", 128, 56, 128, 3, 2, 1),
    ("res3 3x3 128->128", 128, 28, 128, 3, 1, 1),
    ("res3 1x1/2 256->512", 256, 56, 512, 1, 2, 0),
    ("res4 3x3 256->256", 256, 14, 256, 3, 1, 1),
    ("res4 1x1 1024->256", 1024, 14, 256, 1, 1, 0),
    ("res5 3x3 512->512", 512, 7, 512, 3, 1, 1),
    ("res5 1x1 512->2048", 512, 7, 2048, 1, 1, 0),
]


def model(c, h, m, k, s, p):
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((m, c, k, k)) * 0.05).astype(np.float32)
    b = rng.standard_normal(m).astype(np.float32)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[k, k],
                            strides=[s, s], pads=[p] * 4)
    g = helper.make_graph(
        [node], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, (1, c, h, h))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cpu", action="store_true",
                    help="time with process CPU time (fairer on a loaded machine; use with "
                         "--threads 1)")
    args = ap.parse_args()
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    print(f"{'layer':24s} {'GFLOP':>6s} {'onnxrun ms':>10s} {'ort ms':>8s} {'ratio':>6s} "
          f"{'GFLOP/s':>8s}")
    ratios = []
    for name, c, h, m, k, s, p in LAYERS:
        data = model(c, h, m, k, s, p).SerializeToString()
        x = np.random.default_rng(1).standard_normal((1, c, h, h)).astype(np.float32)
        ours = onnxrun.InferenceSession(data)
        theirs = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])
        ya = ours.run(None, {"x": x})[0]
        yb = theirs.run(None, {"x": x})[0]
        err = float(np.max(np.abs(ya - yb)) / (np.max(np.abs(yb)) + 1e-12))
        ta, tb = [], []
        clock = time.process_time if args.cpu else time.perf_counter
        for _ in range(args.repeat):
            t0 = clock()
            ours.run(None, {"x": x})
            t1 = clock()
            theirs.run(None, {"x": x})
            t2 = clock()
            ta.append(t1 - t0)
            tb.append(t2 - t1)
        ma, mb = statistics.median(ta) * 1e3, statistics.median(tb) * 1e3
        oh = ya.shape[2]
        gflop = 2.0 * m * c * k * k * oh * oh / 1e9
        ratios.append(ma / mb)
        print(f"{name:24s} {gflop:6.3f} {ma:10.2f} {mb:8.2f} {ma / mb:6.2f} "
              f"{gflop / ma * 1e3:8.1f}" + (f"  (max rel err {err:.1e})" if err > 1e-5 else ""))
    geo = float(np.exp(np.mean(np.log(ratios))))
    print(f"geometric-mean ratio onnxrun/onnxruntime: {geo:.2f}")


if __name__ == "__main__":
    main()
