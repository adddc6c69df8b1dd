"""Micro-benchmark: onnxrun's com.microsoft quantization kernels against onnxruntime, and
against the unfused float graph each replaces.

    python scripts/bench_quant_contrib.py [--repeat 15] [--threads 2] [--only NAME]

Cases: MatMulNBits (4-bit, block 32, K = N = 4096) at M = 1 and M = 128 with accuracy_level 0
and 4; DynamicQuantizeMatMul and QGemm (M = 128, K = N = 1024); QLinearConv (3x3, 64 -> 64
channels on 56x56, uint8). Every case is a one-node model with constant weights; the float
reference is the model the quantizer started from (MatMul / Gemm / Conv with float weights).
The four sessions (onnxrun and onnxruntime, quantized and float) run interleaved; medians are
reported, with onnxrun's session-creation time (where MatMulNBits dequantizes its weight).
``--threads`` sets onnxruntime's intra-op threads and (before NumPy loads) the BLAS threads."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

if __name__ == "__main__" and "--threads" in sys.argv:
    _n = sys.argv[sys.argv.index("--threads") + 1]
    for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_v, _n)

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import onnxrun  # noqa: E402

RNG = np.random.default_rng(0)
F32 = np.float32


def _model(nodes, inputs, inits, ms=True):
    g = helper.make_graph(nodes, "g", inputs, [onnx.ValueInfoProto(name="y")], inits)
    ops = [helper.make_opsetid("", 21)] + ([helper.make_opsetid("com.microsoft", 1)]
                                           if ms else [])
    return helper.make_model(g, opset_imports=ops, ir_version=10).SerializeToString()


def _in(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, list(shape))


def matmul_nbits(M, K=4096, N=4096, block=32, level=0):
    kb = K // block
    B = RNG.integers(0, 256, (N, kb, block // 2), dtype=np.uint8)
    S = (RNG.random((N, kb)) * 0.02 + 0.001).astype(F32)
    Z = RNG.integers(0, 256, (N, kb // 2), dtype=np.uint8)
    q = np.stack([B & 15, B >> 4], -1).reshape(N, K).astype(F32)
    z = np.stack([Z & 15, Z >> 4], -1).reshape(N, kb).astype(F32)
    W = ((q - np.repeat(z, block, 1)) * np.repeat(S, block, 1)).T.copy()
    node = helper.make_node("MatMulNBits", ["x", "B", "S", "Z"], ["y"], domain="com.microsoft",
                            K=K, N=N, bits=4, block_size=block, accuracy_level=level)
    quant = _model([node], [_in("x", TensorProto.FLOAT, (M, K))],
                   [numpy_helper.from_array(B, "B"), numpy_helper.from_array(S, "S"),
                    numpy_helper.from_array(Z, "Z")])
    flt = _model([helper.make_node("MatMul", ["x", "W"], ["y"])],
                 [_in("x", TensorProto.FLOAT, (M, K))], [numpy_helper.from_array(W, "W")], False)
    return quant, flt, {"x": RNG.standard_normal((M, K)).astype(F32)}


def dynamic_quantize_matmul(M=128, K=1024, N=1024):
    Bq = RNG.integers(-128, 128, (K, N)).astype(np.int8)
    bs = np.array(0.01, F32)
    node = helper.make_node("DynamicQuantizeMatMul", ["x", "B", "bs"], ["y"],
                            domain="com.microsoft")
    quant = _model([node], [_in("x", TensorProto.FLOAT, (M, K))],
                   [numpy_helper.from_array(Bq, "B"), numpy_helper.from_array(bs, "bs")])
    flt = _model([helper.make_node("MatMul", ["x", "W"], ["y"])],
                 [_in("x", TensorProto.FLOAT, (M, K))],
                 [numpy_helper.from_array(Bq.astype(F32) * bs, "W")], False)
    return quant, flt, {"x": RNG.standard_normal((M, K)).astype(F32)}


def _requant_inits(w):
    """Initializers of a u8 x s8 -> u8 product: input scale/zp, weight, weight scale/zp,
    output scale/zp (names xs, xz, w, ws, wz, ys, yz)."""
    vals = [("xs", np.array(0.02, F32)), ("xz", np.array(128, np.uint8)), ("w", w),
            ("ws", np.array(0.01, F32)), ("wz", np.array(0, np.int8)),
            ("ys", np.array(4.0, F32)), ("yz", np.array(128, np.uint8))]
    return [numpy_helper.from_array(v, n) for n, v in vals]


def _float_of(x):
    return {"x": (x.astype(F32) - 128) * F32(0.02)}


def qgemm(M=128, K=1024, N=1024):
    Bq = RNG.integers(-128, 128, (K, N)).astype(np.int8)
    node = helper.make_node("QGemm", ["x", "xs", "xz", "w", "ws", "wz", "", "ys", "yz"], ["y"],
                            domain="com.microsoft")
    quant = _model([node], [_in("x", TensorProto.UINT8, (M, K))], _requant_inits(Bq))
    flt = _model([helper.make_node("Gemm", ["x", "W"], ["y"])],
                 [_in("x", TensorProto.FLOAT, (M, K))],
                 [numpy_helper.from_array(Bq.astype(F32) * F32(0.01), "W")], False)
    x = RNG.integers(0, 256, (M, K)).astype(np.uint8)
    return quant, flt, {"x": x}, _float_of(x)


def qlinear_conv(C=64, H=56, Mo=64):
    W = RNG.integers(-128, 128, (Mo, C, 3, 3)).astype(np.int8)
    node = helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["y"],
                            pads=[1, 1, 1, 1])
    quant = _model([node], [_in("x", TensorProto.UINT8, (1, C, H, H))], _requant_inits(W),
                   ms=False)
    flt = _model([helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])],
                 [_in("x", TensorProto.FLOAT, (1, C, H, H))],
                 [numpy_helper.from_array(W.astype(F32) * F32(0.01), "w")], False)
    x = RNG.integers(0, 256, (1, C, H, H)).astype(np.uint8)
    return quant, flt, {"x": x}, _float_of(x)


CASES = {
    "MatMulNBits M=1 lvl0": lambda: matmul_nbits(1),
    "MatMulNBits M=1 lvl4": lambda: matmul_nbits(1, level=4),
    "MatMulNBits M=128 lvl0": lambda: matmul_nbits(128),
    "MatMulNBits M=128 lvl4": lambda: matmul_nbits(128, level=4),
    "DynamicQuantizeMatMul": dynamic_quantize_matmul,
    "QGemm u8s8->u8": qgemm,
    "QLinearConv 3x3 64ch 56x56": qlinear_conv,
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="", help="run the cases whose name contains this")
    args = ap.parse_args()
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    print(f"{'case':28s} {'init s':>6s} {'onnxrun':>9s} {'ort':>9s} {'ratio':>6s} "
          f"{'float onnxrun':>13s} {'float ort':>9s}   (median ms)")
    for name, make in CASES.items():
        if args.only not in name:
            continue
        built = make()
        quant, flt, feeds = built[:3]
        ffeeds = built[3] if len(built) > 3 else feeds
        t0 = time.perf_counter()
        ours = onnxrun.InferenceSession(quant)
        init = time.perf_counter() - t0
        theirs = ort.InferenceSession(quant, so, providers=["CPUExecutionProvider"])
        ours_f = onnxrun.InferenceSession(flt)
        theirs_f = ort.InferenceSession(flt, so, providers=["CPUExecutionProvider"])
        ya, yb = ours.run(None, feeds)[0], theirs.run(None, feeds)[0]
        diff = float(np.max(np.abs(ya.astype(np.float64) - yb.astype(np.float64))))
        times = [[], [], [], []]
        for _ in range(args.repeat):
            for i, (sess, fd) in enumerate(((ours, feeds), (theirs, feeds), (ours_f, ffeeds),
                                            (theirs_f, ffeeds))):
                t = time.perf_counter()
                sess.run(None, fd)
                times[i].append(time.perf_counter() - t)
        med = [statistics.median(t) * 1e3 for t in times]
        print(f"{name:28s} {init:6.2f} {med[0]:9.2f} {med[1]:9.2f} {med[0] / med[1]:6.1f} "
              f"{med[2]:13.2f} {med[3]:9.2f}   max|diff| {diff:.2g}")


if __name__ == "__main__":
    main()
