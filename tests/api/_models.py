"""Small models for the API tests, built with onnx.helper."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper


def vi(name, elem, shape):
    return h.make_tensor_value_info(name, elem, shape)


def model(nodes, inputs, outputs, inits=(), opset=17, ir=8, **kw) -> onnx.ModelProto:
    g = h.make_graph(nodes, "g", inputs, outputs, list(inits),
                     sparse_initializer=kw.pop("sparse", None))
    opsets = [h.make_opsetid("", opset)] + [h.make_opsetid(d, v) for d, v in kw.pop("extra", ())]
    return h.make_model(g, opset_imports=opsets, ir_version=ir, **kw)


def mul_model() -> onnx.ModelProto:
    """``Y = X * W``, X float[3, 2], W = [[1, 2], [3, 4], [5, 6]] (onnxruntime's mul_1)."""
    w = numpy_helper.from_array(np.array([[1, 2], [3, 4], [5, 6]], np.float32), "W")
    return model([h.make_node("Mul", ["X", "W"], ["Y"], name="mul")],
                 [vi("X", T.FLOAT, [3, 2])], [vi("Y", T.FLOAT, [3, 2])], [w])


def add_mul_add() -> onnx.ModelProto:
    nodes = [h.make_node("Add", ["A", "B"], ["t0"], name="add_0"),
             h.make_node("Mul", ["t0", "C"], ["t1"], name="mul_0"),
             h.make_node("Add", ["t1", "D"], ["Y"], name="add_1")]
    return model(nodes, [vi(n, T.FLOAT, [3, 2]) for n in "ABCD"], [vi("Y", T.FLOAT, [3, 2])])


def tiny_decoder(vocab: int = 11, dim: int = 8, seed: int = 0) -> onnx.ModelProto:
    """A one-layer, one-head decoder with a KV cache, shaped like an optimum export:
    inputs ``input_ids`` int64[batch, seq], ``attention_mask`` int64[batch, total],
    ``past_key_values.0.key/value`` float[batch, 1, past, dim]; outputs ``logits``
    float[batch, seq, vocab], ``present.0.key/value`` float[batch, 1, total, dim]."""
    rng = np.random.default_rng(seed)

    def w(name, *shape):
        return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)

    c = {"axes1": np.array([1], np.int64), "one": np.array(1.0, np.float32),
         "neg": np.array(-1e4, np.float32), "scale": np.array(1 / np.sqrt(dim), np.float32),
         "axes12": np.array([1, 2], np.int64)}
    inits = [w("emb", vocab, dim), w("wq", dim, dim), w("wk", dim, dim), w("wv", dim, dim),
             w("wo", dim, vocab)] + [numpy_helper.from_array(v, k) for k, v in c.items()]
    n = h.make_node
    nodes = [
        n("Gather", ["emb", "input_ids"], ["x"]),                       # [b, s, d]
        n("MatMul", ["x", "wq"], ["q0"]), n("Unsqueeze", ["q0", "axes1"], ["q"]),
        n("MatMul", ["x", "wk"], ["k0"]), n("Unsqueeze", ["k0", "axes1"], ["k"]),
        n("MatMul", ["x", "wv"], ["v0"]), n("Unsqueeze", ["v0", "axes1"], ["v"]),
        n("Concat", ["past_key_values.0.key", "k"], ["present.0.key"], axis=2),
        n("Concat", ["past_key_values.0.value", "v"], ["present.0.value"], axis=2),
        n("Transpose", ["present.0.key"], ["kt"], perm=[0, 1, 3, 2]),
        n("MatMul", ["q", "kt"], ["s0"]), n("Mul", ["s0", "scale"], ["s1"]),  # [b, 1, s, T]
        n("Cast", ["attention_mask"], ["mf"], to=T.FLOAT),
        n("Sub", ["one", "mf"], ["inv"]), n("Mul", ["inv", "neg"], ["bias0"]),
        n("Unsqueeze", ["bias0", "axes12"], ["bias"]),                  # [b, 1, 1, T]
        n("Add", ["s1", "bias"], ["s2"]), n("Softmax", ["s2"], ["p"], axis=-1),
        n("MatMul", ["p", "present.0.value"], ["o0"]),                   # [b, 1, s, d]
        n("Squeeze", ["o0", "axes1"], ["o"]), n("MatMul", ["o", "wo"], ["logits"]),
    ]
    kv = ["batch", 1, "past", dim]
    out_kv = ["batch", 1, "total", dim]
    return model(nodes,
                 [vi("input_ids", T.INT64, ["batch", "seq"]),
                  vi("attention_mask", T.INT64, ["batch", "total"]),
                  vi("past_key_values.0.key", T.FLOAT, kv),
                  vi("past_key_values.0.value", T.FLOAT, kv)],
                 [vi("logits", T.FLOAT, ["batch", "seq", vocab]),
                  vi("present.0.key", T.FLOAT, out_kv), vi("present.0.value", T.FLOAT, out_kv)],
                 inits)
