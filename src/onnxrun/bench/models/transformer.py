"""BERT-base- and GPT-2-small-shaped transformers, laid out the way PyTorch exports them."""

from __future__ import annotations

import math

import numpy as np
import onnx

from ._builder import FLOAT, INT64, GraphBuilder, tensor_info


def _linear(g: GraphBuilder, x: str, n_in: int, n_out: int) -> str:
    """MatMul by a [n_in, n_out] weight, then Add of the bias (as torch.onnx exports Linear)."""
    y = g.op("MatMul", [x, g.weight((n_in, n_out))])
    return g.op("Add", [y, g.weight((n_out,), 0.01)])


def _layer_norm_decomposed(g: GraphBuilder, x: str, hidden: int, eps: float = 1e-12) -> str:
    """LayerNorm as older exports write it: ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add."""
    mean = g.op("ReduceMean", [x], axes=[-1], keepdims=1)
    d = g.op("Sub", [x, mean])
    var = g.op("ReduceMean", [g.op("Pow", [d, g.const(2.0)])], axes=[-1], keepdims=1)
    std = g.op("Sqrt", [g.op("Add", [var, g.const(eps)])])
    y = g.op("Div", [d, std])
    y = g.op("Mul", [y, g.weight((hidden,), 0.05, mean=1.0)])
    return g.op("Add", [y, g.weight((hidden,), 0.02)])


def _layer_norm(g: GraphBuilder, x: str, hidden: int, eps: float = 1e-5) -> str:
    """LayerNormalization (opset 17) with weight and bias."""
    return g.op("LayerNormalization", [x, g.weight((hidden,), 0.05, mean=1.0),
                                       g.weight((hidden,), 0.02)], axis=-1, epsilon=eps)


def _heads(g: GraphBuilder, x: str, heads: int, head_dim: int, perm) -> str:
    r = g.op("Reshape", [x, g.const([0, 0, heads, head_dim], np.int64)])
    return g.op("Transpose", [r], perm=list(perm))


def _merge_heads(g: GraphBuilder, x: str, hidden: int) -> str:
    t = g.op("Transpose", [x], perm=[0, 2, 1, 3])
    return g.op("Reshape", [t, g.const([0, 0, hidden], np.int64)])


def bert(layers: int = 12, hidden: int = 768, heads: int = 12, ffn: int = 3072,
         seq: int = 128, batch: int = 1, vocab: int = 30522, seed: int = 1) -> onnx.ModelProto:
    """A BERT-base-shaped encoder: embeddings, ``layers`` post-norm blocks, additive mask."""
    g = GraphBuilder(seed)
    head_dim = hidden // heads
    word = g.op("Gather", [g.weight((vocab, hidden)), "input_ids"], axis=0)
    pos = g.op("Gather", [g.weight((512, hidden)), g.const(np.arange(seq)[None, :], np.int64)])
    typ = g.weight((1, 1, hidden))
    h = g.op("Add", [g.op("Add", [word, pos]), typ])
    h = _layer_norm_decomposed(g, h, hidden)
    # extended attention mask: (1 - mask[:, None, None, :]) * -10000
    m = g.op("Unsqueeze", ["attention_mask", g.const([1, 2], np.int64)])
    m = g.op("Cast", [m], to=onnx.TensorProto.FLOAT)
    m = g.op("Mul", [g.op("Sub", [g.const(1.0), m]), g.const(-10000.0)])
    scale = g.const(math.sqrt(head_dim))
    for _ in range(layers):
        q = _heads(g, _linear(g, h, hidden, hidden), heads, head_dim, (0, 2, 1, 3))
        k = _heads(g, _linear(g, h, hidden, hidden), heads, head_dim, (0, 2, 3, 1))
        v = _heads(g, _linear(g, h, hidden, hidden), heads, head_dim, (0, 2, 1, 3))
        s = g.op("Div", [g.op("MatMul", [q, k]), scale])
        p = g.op("Softmax", [g.op("Add", [s, m])], axis=-1)
        ctx = _merge_heads(g, g.op("MatMul", [p, v]), hidden)
        h = _layer_norm_decomposed(g, g.op("Add", [_linear(g, ctx, hidden, hidden), h]), hidden)
        f = _linear(g, h, hidden, ffn)
        # exact GELU as torch exports it: x * 0.5 * (1 + erf(x / sqrt(2)))
        e = g.op("Erf", [g.op("Div", [f, g.const(math.sqrt(2.0))])])
        f = g.op("Mul", [g.op("Mul", [f, g.op("Add", [e, g.const(1.0)])]), g.const(0.5)])
        h = _layer_norm_decomposed(g, g.op("Add", [_linear(g, f, ffn, hidden), h]), hidden)
    g.op("Identity", [h], out=["last_hidden_state"])
    return g.model(
        [tensor_info("input_ids", INT64, [batch, seq]),
         tensor_info("attention_mask", INT64, [batch, seq])],
        [tensor_info("last_hidden_state", FLOAT, [batch, seq, hidden])],
        opset=14, name="bert_base",
        doc=f"BERT-base-shaped encoder: {layers} layers, hidden {hidden}, {heads} heads, "
            f"FFN {ffn}, seq {seq}, batch {batch}; random weights (seed {seed})")


def gpt2(layers: int = 12, hidden: int = 768, heads: int = 12, seq: int = 128,
         batch: int = 1, vocab: int = 50257, n_ctx: int = 1024,
         seed: int = 2) -> onnx.ModelProto:
    """A GPT-2-small-shaped decoder: pre-norm blocks, fused QKV + Split, causal Where mask,
    tanh GELU, and the LM head over the vocabulary."""
    g = GraphBuilder(seed)
    head_dim = hidden // heads
    wte = g.rng.standard_normal((vocab, hidden), dtype=np.float32) * np.float32(0.02)
    word = g.op("Gather", [g.tensor(wte, "wte"), "input_ids"], axis=0)
    pos = g.op("Gather", [g.weight((n_ctx, hidden), 0.01),
                          g.const(np.arange(seq)[None, :], np.int64)])
    h = g.op("Add", [word, pos])
    causal = g.const(np.tril(np.ones((seq, seq), dtype=bool))[None, None], np.bool_)
    neg = g.const(np.finfo(np.float32).min)
    scale = g.const(float(head_dim) ** 0.5)
    split = g.const([hidden, hidden, hidden], np.int64)
    for _ in range(layers):
        a = _layer_norm(g, h, hidden)
        qkv = _linear(g, a, hidden, 3 * hidden)
        q, k, v = g.op("Split", [qkv, split], n_out=3, axis=2)
        q = _heads(g, q, heads, head_dim, (0, 2, 1, 3))
        k = _heads(g, k, heads, head_dim, (0, 2, 3, 1))
        v = _heads(g, v, heads, head_dim, (0, 2, 1, 3))
        w = g.op("Div", [g.op("MatMul", [q, k]), scale])
        w = g.op("Softmax", [g.op("Where", [causal, w, neg])], axis=-1)
        ctx = _merge_heads(g, g.op("MatMul", [w, v]), hidden)
        h = g.op("Add", [h, _linear(g, ctx, hidden, hidden)])
        f = _linear(g, _layer_norm(g, h, hidden), hidden, 4 * hidden)
        # gelu_new: 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
        c = g.op("Mul", [g.op("Pow", [f, g.const(3.0)]), g.const(0.044715)])
        t = g.op("Tanh", [g.op("Mul", [g.op("Add", [f, c]), g.const(math.sqrt(2 / math.pi))])])
        f = g.op("Mul", [g.op("Mul", [g.const(0.5), f]), g.op("Add", [g.const(1.0), t])])
        h = g.op("Add", [h, _linear(g, f, 4 * hidden, hidden)])
    h = _layer_norm(g, h, hidden)
    g.op("MatMul", [h, g.tensor(np.ascontiguousarray(wte.T), "lm_head")], out=["logits"])
    return g.model(
        [tensor_info("input_ids", INT64, [batch, seq])],
        [tensor_info("logits", FLOAT, [batch, seq, vocab])],
        opset=17, name="gpt2_small",
        doc=f"GPT-2-small-shaped decoder: {layers} layers, hidden {hidden}, {heads} heads, "
            f"seq {seq}, batch {batch}, vocab {vocab}; random weights (seed {seed})")
