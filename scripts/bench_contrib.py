"""Micro-benchmark: onnxrun's com.microsoft fused kernels against the unfused ONNX subgraphs
they replace, both run by onnxrun, at BERT-base and Llama-ish shapes.

    python scripts/bench_contrib.py [--repeat 15] [--only NAME ...] [--threads N]

Each case is a pair of models with the same inputs, constant weights and output: one fused
node (as onnxruntime's transformer optimizer or the genai model builder writes it) and the
subgraph an exporter writes for it. Both run with onnxrun's default session options (so the
unfused graph gets onnxrun's own fusions), interleaved; the table shows median times and the
ratio fused / unfused (below 1: the fused node is faster). The outputs are checked equal first.
``--threads`` sets the BLAS threads (before NumPy loads). Times are process CPU time by default:
on a machine shared with other jobs, wall time mostly measures when the process was scheduled
(run with ``--threads 1`` so CPU time is the work of one thread); ``--clock wall`` for elapsed
time."""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time

if __name__ == "__main__" and "--threads" in sys.argv:
    _n = sys.argv[sys.argv.index("--threads") + 1]
    for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_v, _n)

import numpy as np  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import onnxrun  # noqa: E402

F, I32, I64 = TensorProto.FLOAT, TensorProto.INT32, TensorProto.INT64
MS = "com.microsoft"


class Graph:
    """A small model builder: inputs with example values, constants, nodes."""

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.inputs, self.feeds, self.n = [], [], [], {}, 0

    def input(self, name, arr):
        self.inputs.append(helper.make_tensor_value_info(
            name, helper.np_dtype_to_tensor_dtype(arr.dtype), arr.shape))
        self.feeds[name] = arr
        return name

    def const(self, arr):
        self.n += 1
        name = f"c{self.n}"
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def op(self, op_type, inputs, n_out=1, domain="", **attrs):
        self.n += 1
        outs = [f"t{self.n}_{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, domain=domain, **attrs))
        return outs[0] if n_out == 1 else outs

    def model(self, output, opset=17):
        g = helper.make_graph(self.nodes, "bench", self.inputs,
                              [helper.make_tensor_value_info(output, F, None)], self.inits)
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset),
                                                   helper.make_opsetid(MS, 1)], ir_version=9)


def rand(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def pair(build):
    """[(fused model, feeds), (unfused model, feeds)]: ``build(g, fused)`` adds the nodes to a
    Graph with the same seed (so the same inputs and weights) and returns the output name."""
    models = []
    for fused in (True, False):
        g = Graph()
        out = build(g, fused)
        models.append((g.model(out), g.feeds))
    return models


# --- cases ------------------------------------------------------------------------------------

def skip_layer_norm(B, S, D):
    def build(g, fused):
        x, s = g.input("x", rand(g.rng, B, S, D)), g.input("skip", rand(g.rng, B, S, D))
        gamma, beta, bias = (g.const(rand(g.rng, D)) for _ in range(3))
        if fused:
            return g.op("SkipLayerNormalization", [x, s, gamma, beta, bias], domain=MS,
                        epsilon=1e-5)
        return g.op("LayerNormalization", [g.op("Add", [g.op("Add", [x, s]), bias]), gamma, beta],
                    epsilon=1e-5)
    return build


def skip_simplified_layer_norm(B, S, D):
    def build(g, fused):
        x, s = g.input("x", rand(g.rng, B, S, D)), g.input("skip", rand(g.rng, B, S, D))
        gamma = g.const(rand(g.rng, D))
        if fused:
            return g.op("SkipSimplifiedLayerNormalization", [x, s, gamma], domain=MS,
                        epsilon=1e-5)
        return _rms(g, g.op("Add", [x, s]), gamma)
    return build


def _rms(g, x, gamma):
    ms = g.op("ReduceMean", [g.op("Pow", [x, g.const(np.float32(2))])], axes=[-1])
    inv = g.op("Reciprocal", [g.op("Sqrt", [g.op("Add", [ms, g.const(np.float32(1e-5))])])])
    return g.op("Mul", [g.op("Mul", [x, inv]), gamma])


def simplified_layer_norm(B, S, D):
    def build(g, fused):
        x, gamma = g.input("x", rand(g.rng, B, S, D)), g.const(rand(g.rng, D))
        if fused:
            return g.op("SimplifiedLayerNormalization", [x, gamma], epsilon=1e-5)
        return _rms(g, x, gamma)
    return build


def embed_layer_norm(B, S, D, V=30522):
    def build(g, fused):
        ids = g.input("ids", g.rng.integers(0, V, (B, S)).astype(np.int32))
        seg = g.input("seg", g.rng.integers(0, 2, (B, S)).astype(np.int32))
        we, pe, se = g.const(rand(g.rng, V, D)), g.const(rand(g.rng, 512, D)), \
            g.const(rand(g.rng, 2, D))
        gamma, beta = g.const(rand(g.rng, D)), g.const(rand(g.rng, D))
        if fused:
            return g.op("EmbedLayerNormalization", [ids, seg, we, pe, se, gamma, beta],
                        domain=MS, epsilon=1e-5)
        pos = g.const(np.arange(S, dtype=np.int64)[None])
        s = g.op("Add", [g.op("Add", [g.op("Gather", [we, ids]), g.op("Gather", [pe, pos])]),
                         g.op("Gather", [se, seg])])
        return g.op("LayerNormalization", [s, gamma, beta], epsilon=1e-5)
    return build


def _gelu_erf(g, x):
    e = g.op("Erf", [g.op("Div", [x, g.const(np.float32(math.sqrt(2)))])])
    return g.op("Mul", [g.op("Mul", [x, g.op("Add", [e, g.const(np.float32(1))])]),
                        g.const(np.float32(0.5))])


def _gelu_tanh(g, x):
    c = g.op("Mul", [g.op("Mul", [g.op("Mul", [x, x]), x]), g.const(np.float32(0.044715))])
    t = g.op("Tanh", [g.op("Mul", [g.op("Add", [x, c]),
                                   g.const(np.float32(math.sqrt(2 / math.pi)))])])
    return g.op("Mul", [g.op("Mul", [x, g.const(np.float32(0.5))]),
                        g.op("Add", [t, g.const(np.float32(1))])])


def gelu_case(kind, B, S, F_):
    def build(g, fused):
        x = g.input("x", rand(g.rng, B, S, F_))
        bias = g.const(rand(g.rng, F_)) if kind in ("BiasGelu", "FastGelu") else None
        if fused:
            ins = [x] + ([bias] if bias else [])
            return g.op(kind, ins, domain=MS)
        if bias:
            x = g.op("Add", [x, bias])
        if kind == "QuickGelu":
            return g.op("Mul", [x, g.op("Sigmoid", [g.op("Mul", [x, g.const(
                np.float32(1.702))])])])
        return _gelu_tanh(g, x) if kind == "FastGelu" else _gelu_erf(g, x)
    return build


def fused_matmul(B, N, S, H):
    def build(g, fused):  # Q @ K^T * scale, K given as [B, N, S, H]
        q, k = g.input("q", rand(g.rng, B, N, S, H)), g.input("k", rand(g.rng, B, N, S, H))
        if fused:
            return g.op("FusedMatMul", [q, k], domain=MS, transB=1, alpha=0.125)
        return g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])]),
                            g.const(np.float32(0.125))])
    return build


def fused_gemm(M, K, N_):
    def build(g, fused):
        a = g.input("a", rand(g.rng, M, K))
        w, c = g.const(rand(g.rng, K, N_, scale=0.05)), g.const(rand(g.rng, N_))
        if fused:
            return g.op("FusedGemm", [a, w, c], domain=MS, activation="LeakyRelu",
                        activation_alpha=0.1)
        return g.op("LeakyRelu", [g.op("Gemm", [a, w, c])], alpha=0.1)
    return build


def fused_conv(C, Hs, M):
    def build(g, fused):
        x = g.input("x", rand(g.rng, 1, C, Hs, Hs))
        z = g.input("z", rand(g.rng, 1, M, Hs, Hs))
        w, b = g.const(rand(g.rng, M, C, 3, 3, scale=0.05)), g.const(rand(g.rng, M))
        if fused:
            return g.op("FusedConv", [x, w, b, z], domain=MS, pads=[1] * 4, activation="Relu")
        return g.op("Relu", [g.op("Add", [g.op("Conv", [x, w, b], pads=[1] * 4), z])])
    return build


def bias_softmax(B, N, S):
    def build(g, fused):
        x = g.input("x", rand(g.rng, B, N, S, S))
        m = g.input("m", rand(g.rng, B, 1, 1, S))
        if fused:  # bias blocks of [S] per batch entry, repeated over heads and rows
            return g.op("BiasSoftmax", [x, m], domain=MS, axis=3, is_inner_broadcast=1)
        return g.op("Softmax", [g.op("Add", [x, m])], axis=-1)
    return build


def _mask_bias(g, mask):
    """(1 - mask) * -10000 as [B, 1, 1, T] (as BERT exports it)."""
    m = g.op("Unsqueeze", [g.op("Unsqueeze", [mask, g.const(np.array([1]))]),
                           g.const(np.array([2]))])
    m = g.op("Sub", [g.const(np.float32(1)), g.op("Cast", [m], to=F)])
    return g.op("Mul", [m, g.const(np.float32(-10000))])


def _heads(g, x, N, H, perm=(0, 2, 1, 3)):
    return g.op("Transpose", [g.op("Reshape", [x, g.const(np.array([0, 0, N, H]))])],
                perm=list(perm))


def _sdpa(g, q, k, v, N, H, bias):
    """softmax(q k^T / sqrt(H) + bias) v for [B, S, N*H] q/k/v, merged back to [B, S, N*H]."""
    s = g.op("Div", [g.op("MatMul", [_heads(g, q, N, H), _heads(g, k, N, H, (0, 2, 3, 1))]),
                     g.const(np.float32(math.sqrt(H)))])
    p = g.op("Softmax", [g.op("Add", [s, bias])], axis=-1)
    ctx = g.op("Transpose", [g.op("MatMul", [p, _heads(g, v, N, H)])], perm=[0, 2, 1, 3])
    return g.op("Reshape", [ctx, g.const(np.array([0, 0, N * H]))])


def _padding_mask(B, S):
    mask = np.ones((B, S), np.int64)
    mask[1::2, S * 3 // 4:] = 0
    return mask


def attention(B, S, D, N):
    H = D // N

    def build(g, fused):
        x = g.input("x", rand(g.rng, B, S, D))
        mask = _padding_mask(B, S)
        ws = [rand(g.rng, D, D, scale=0.05) for _ in range(3)]
        bs = [rand(g.rng, D, scale=0.1) for _ in range(3)]
        if fused:
            g.input("mask", mask.astype(np.int32))
            return g.op("Attention", [x, g.const(np.concatenate(ws, 1)),
                                      g.const(np.concatenate(bs)), "mask"],
                        domain=MS, num_heads=N)
        g.input("mask", mask)
        q, k, v = (g.op("Add", [g.op("MatMul", [x, g.const(w)]), g.const(b)])
                   for w, b in zip(ws, bs))
        return _sdpa(g, q, k, v, N, H, _mask_bias(g, "mask"))
    return build


def multihead_attention(B, S, D, N):
    H = D // N

    def build(g, fused):
        q, k, v = (g.input(n, rand(g.rng, B, S, D)) for n in "qkv")
        bias = rand(g.rng, 3 * D, scale=0.1)
        mask = _padding_mask(B, S)
        if fused:
            g.input("mask", mask.astype(np.int32))
            return g.op("MultiHeadAttention", [q, k, v, g.const(bias), "mask"], domain=MS,
                        num_heads=N)
        g.input("mask", mask)
        q, k, v = (g.op("Add", [t, g.const(bias[i * D:(i + 1) * D])])
                   for i, t in enumerate((q, k, v)))
        return _sdpa(g, q, k, v, N, H, _mask_bias(g, "mask"))
    return build


def _rotate_half(g, x, cos, sin, H):
    """HF Llama rotary on [B, N, S, H]: x * cos + rotate_half(x) * sin."""
    x1 = g.op("Slice", [x, g.const(np.array([0])), g.const(np.array([H // 2])),
                        g.const(np.array([-1]))])
    x2 = g.op("Slice", [x, g.const(np.array([H // 2])), g.const(np.array([H])),
                        g.const(np.array([-1]))])
    rot = g.op("Concat", [g.op("Neg", [x2]), x1], axis=-1)
    return g.op("Add", [g.op("Mul", [x, cos]), g.op("Mul", [rot, sin])])


def group_query_attention(S, P, N=32, NK=8, H=64, B=1, MAX=4096):
    """One Llama-ish layer's attention: prompt (P == 0) or decoding step, rotary, KV cache."""
    T = P + S
    inv = 1.0 / 10000 ** (np.arange(0, H, 2) / H)
    ang = np.arange(MAX)[:, None] * inv[None, :]
    cos, sin = np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)

    def build(g, fused):
        q = g.input("q", rand(g.rng, B, S, N * H))
        k = g.input("k", rand(g.rng, B, S, NK * H))
        v = g.input("v", rand(g.rng, B, S, NK * H))
        pk = g.input("past_key", rand(g.rng, B, NK, P, H))
        pv = g.input("past_value", rand(g.rng, B, NK, P, H))
        if fused:
            seqlens = g.const(np.full(B, T - 1, np.int32))
            outs = g.op("GroupQueryAttention", [q, k, v, pk, pv, seqlens,
                                                g.const(np.array(T, np.int32)), g.const(cos),
                                                g.const(sin)], n_out=3, domain=MS,
                        num_heads=N, kv_num_heads=NK, do_rotary=1)
            return outs[0]
        c = np.concatenate([cos[P:T], cos[P:T]], -1)[None, None]
        s = np.concatenate([sin[P:T], sin[P:T]], -1)[None, None]
        cc, ss = g.const(c), g.const(s)
        qh = _rotate_half(g, _heads(g, q, N, H), cc, ss, H)
        kh = _rotate_half(g, _heads(g, k, NK, H), cc, ss, H)
        kh = g.op("Concat", [pk, kh], axis=2)
        vh = g.op("Concat", [pv, _heads(g, v, NK, H)], axis=2)

        def repeat_kv(t):  # [B, NK, T, H] -> [B, N, T, H]
            t = g.op("Unsqueeze", [t, g.const(np.array([2]))])
            t = g.op("Expand", [t, g.const(np.array([B, NK, N // NK, T, H]))])
            return g.op("Reshape", [t, g.const(np.array([B, N, T, H]))])

        sc = g.op("Mul", [g.op("MatMul", [qh, g.op("Transpose", [repeat_kv(kh)],
                                                    perm=[0, 1, 3, 2])]),
                          g.const(np.float32(1 / math.sqrt(H)))])
        causal = np.where(np.arange(T)[None, :] > P + np.arange(S)[:, None], -np.inf,
                          0).astype(np.float32)
        p = g.op("Softmax", [g.op("Add", [sc, g.const(causal)])], axis=-1)
        ctx = g.op("Transpose", [g.op("MatMul", [p, repeat_kv(vh)])], perm=[0, 2, 1, 3])
        return g.op("Reshape", [ctx, g.const(np.array([0, 0, N * H]))])
    return build


def rotary_embedding(B, S, N, H):
    inv = 1.0 / 10000 ** (np.arange(0, H, 2) / H)
    ang = np.arange(4096)[:, None] * inv[None, :]
    cos, sin = np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)

    def build(g, fused):
        x = g.input("x", rand(g.rng, B, N, S, H))
        if fused:
            return g.op("RotaryEmbedding", [x, g.const(np.array([0])), g.const(cos),
                                            g.const(sin)], domain=MS)
        c = np.concatenate([cos[:S], cos[:S]], -1)[None, None]
        s = np.concatenate([sin[:S], sin[:S]], -1)[None, None]
        return _rotate_half(g, x, g.const(c), g.const(s), H)
    return build


CASES = {
    "SkipLayerNormalization": (skip_layer_norm, (8, 128, 768)),
    "SkipSimplifiedLayerNormalization": (skip_simplified_layer_norm, (1, 128, 2048)),
    "SimplifiedLayerNormalization": (simplified_layer_norm, (1, 128, 2048)),
    "EmbedLayerNormalization": (embed_layer_norm, (8, 128, 768)),
    "Attention (BERT-base)": (attention, (8, 128, 768, 12)),
    "MultiHeadAttention (BERT-base)": (multihead_attention, (8, 128, 768, 12)),
    "GroupQueryAttention prompt 128": (group_query_attention, (128, 0)),
    "GroupQueryAttention decode @511": (group_query_attention, (1, 511)),
    "RotaryEmbedding": (rotary_embedding, (1, 128, 32, 64)),
    "Gelu": (lambda *a: gelu_case("Gelu", *a), (8, 128, 3072)),
    "BiasGelu": (lambda *a: gelu_case("BiasGelu", *a), (8, 128, 3072)),
    "FastGelu": (lambda *a: gelu_case("FastGelu", *a), (8, 128, 3072)),
    "QuickGelu": (lambda *a: gelu_case("QuickGelu", *a), (8, 128, 3072)),
    "FusedMatMul (Q K^T)": (fused_matmul, (8, 12, 128, 64)),
    "FusedGemm": (fused_gemm, (1024, 768, 768)),
    "FusedConv": (fused_conv, (64, 56, 64)),
    "BiasSoftmax": (bias_softmax, (8, 12, 128)),
}


def bench(name, repeat, clock=time.process_time):
    fn, args = CASES[name]
    (fused, ff), (unfused, fu) = pair(fn(*args))
    sf, su = onnxrun.InferenceSession(fused), onnxrun.InferenceSession(unfused)
    a, b = sf.run(None, ff)[0], su.run(None, fu)[0]
    np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-3, err_msg=name)
    tf, tu = [], []
    for _ in range(repeat):
        for sess, feeds, acc in ((sf, ff, tf), (su, fu, tu)):
            t0 = clock()
            sess.run(None, feeds)
            acc.append(clock() - t0)
    return statistics.median(tf), statistics.median(tu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--threads", type=int, default=0, help="BLAS threads (0: default)")
    ap.add_argument("--only", nargs="*", help="case names (substrings)")
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                    help="cpu: process CPU time (default; stable on a shared machine, use with "
                         "--threads 1), wall: elapsed time")
    args = ap.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    names = [n for n in CASES if not args.only or any(s in n for s in args.only)]
    print(f"{'case':36s} {'shape':22s} {'fused ms':>9s} {'unfused ms':>10s} {'ratio':>6s}")
    for name in names:
        tf, tu = bench(name, args.repeat, clock)
        shape = "x".join(str(a) for a in CASES[name][1])
        print(f"{name:36s} {shape:22s} {tf * 1e3:9.2f} {tu * 1e3:10.2f} {tf / tu:6.2f}",
              flush=True)


if __name__ == "__main__":
    main()
