"""Small models made of com.microsoft ops, onnxrun against onnxruntime: a BERT-like encoder
fused by onnxruntime's own transformer optimizer (EmbedLayerNormalization, Attention,
SkipLayerNormalization, BiasGelu, LayerNormalization below opset 17), and a Llama-like decoder
with GroupQueryAttention whose KV cache is fed back over several greedy decoding steps."""

import collections

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.transformers.optimizer import optimize_model

from ._microsoft import run_mine, run_ort

RNG = np.random.default_rng(11)


class _Builder:
    """Collects nodes and initializers; ``op`` returns the (first) output name."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.n = [], [], 0

    def const(self, arr, name=None):
        self.n += 1
        name = name or f"c{self.n}"
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def weight(self, *shape, scale=0.2):
        return self.const((self.rng.standard_normal(shape) * scale).astype(np.float32))

    def op(self, op_type, inputs, outputs=None, domain="", **attrs):
        self.n += 1
        outputs = outputs or [f"{op_type.lower()}_{self.n}"]
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=f"n{self.n}",
                                           domain=domain, **attrs))
        return outputs[0]

    def model(self, inputs, outputs, opsets):
        g = helper.make_graph(self.nodes, "g", inputs, outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])
        m.ir_version = 8
        return m


# --- BERT-like encoder, fused by onnxruntime.transformers.optimizer ---------------------------

BB, BS, BD, BN, BF, BV = 2, 8, 32, 4, 64, 50


def bert_like(opset, embed, layers=2):
    """Embeddings (or a float input) + LayerNorm, then encoder layers as PyTorch exports them:
    Q/K/V MatMul+Add, Reshape/Transpose, scaled QK^T + (1 - mask) * -10000, Softmax, output
    projection + residual + LayerNorm, erf-GELU feed-forward + residual + LayerNorm. Below
    opset 17 LayerNorm is the decomposed ReduceMean/Sub/Pow/Sqrt/Div subgraph."""
    b = _Builder(seed=opset)
    H = BD // BN

    def layernorm(x):
        g, beta = b.weight(BD, scale=1.0), b.weight(BD)
        if opset >= 17:
            return b.op("LayerNormalization", [x, g, beta], axis=-1, epsilon=1e-5)
        m = b.op("ReduceMean", [x], axes=[-1])
        d = b.op("Sub", [x, m])
        v = b.op("ReduceMean", [b.op("Pow", [d, b.const(np.float32(2))])], axes=[-1])
        s = b.op("Sqrt", [b.op("Add", [v, b.const(np.float32(1e-5))])])
        return b.op("Add", [b.op("Mul", [b.op("Div", [d, s]), g]), beta])

    def linear(x, din, dout):
        return b.op("Add", [b.op("MatMul", [x, b.weight(din, dout)]), b.weight(dout, scale=0.1)])

    inputs = []
    if embed:
        inputs += [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [BB, BS]),
                   helper.make_tensor_value_info("token_type_ids", TensorProto.INT64, [BB, BS])]
        words = b.op("Gather", [b.weight(BV, BD), "input_ids"])
        pos = b.op("Gather", [b.weight(16, BD), b.const(np.arange(BS, dtype=np.int64)[None])])
        types = b.op("Gather", [b.weight(2, BD), "token_type_ids"])
        x = layernorm(b.op("Add", [b.op("Add", [words, pos]), types]))
    else:
        inputs.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, [BB, BS, BD]))
        x = layernorm("x")
    inputs.append(helper.make_tensor_value_info("attention_mask", TensorProto.INT64, [BB, BS]))
    m = "attention_mask"
    for axis in (1, 2):
        m = b.op("Unsqueeze", [m, b.const(np.array([axis], np.int64))])
    m = b.op("Sub", [b.const(np.float32(1)), b.op("Cast", [m], to=TensorProto.FLOAT)])
    mask_bias = b.op("Mul", [m, b.const(np.float32(-10000))])
    shape4 = b.const(np.array([0, 0, BN, H], np.int64))
    shape3 = b.const(np.array([0, 0, BD], np.int64))
    for _ in range(layers):
        q, k, v = (b.op("Transpose", [b.op("Reshape", [linear(x, BD, BD), shape4])], perm=p)
                   for p in ([0, 2, 1, 3], [0, 2, 3, 1], [0, 2, 1, 3]))
        s = b.op("Div", [b.op("MatMul", [q, k]), b.const(np.float32(np.sqrt(H)))])
        p = b.op("Softmax", [b.op("Add", [s, mask_bias])], axis=-1)
        ctx = b.op("Reshape", [b.op("Transpose", [b.op("MatMul", [p, v])], perm=[0, 2, 1, 3]),
                               shape3])
        x = layernorm(b.op("Add", [linear(ctx, BD, BD), x]))
        h = linear(x, BD, BF)
        erf = b.op("Erf", [b.op("Div", [h, b.const(np.float32(np.sqrt(2)))])])
        gelu = b.op("Mul", [b.op("Mul", [h, b.op("Add", [erf, b.const(np.float32(1))])]),
                            b.const(np.float32(0.5))])
        x = layernorm(b.op("Add", [linear(gelu, BF, BD), x]))
    out = helper.make_tensor_value_info(x, TensorProto.FLOAT, [BB, BS, BD])
    return b.model(inputs, [out], [("", opset)])


@pytest.mark.parametrize("opset,embed,expected", [
    (13, True, {"EmbedLayerNormalization": 1, "Attention": 2, "SkipLayerNormalization": 4,
                "BiasGelu": 2}),
    (13, False, {"LayerNormalization": 1, "Attention": 2, "SkipLayerNormalization": 4,
                 "BiasGelu": 2}),
    (17, True, {"EmbedLayerNormalization": 1, "Attention": 2, "SkipLayerNormalization": 4,
                "BiasGelu": 2}),
])
def test_bert_fused_by_onnxruntime_optimizer(opset, embed, expected):
    model = bert_like(opset, embed)
    fused = optimize_model(model, model_type="bert", num_heads=BN, hidden_size=BD,
                           opt_level=0).model
    ops = collections.Counter(n.op_type for n in fused.graph.node)
    for op, count in expected.items():  # the fusions really happened
        assert ops[op] == count, (op, ops)
    assert not {"Softmax", "Erf", "ReduceMean"} & set(ops), ops
    feeds = {"attention_mask": np.array([[1] * BS, [1] * 5 + [0] * 3], np.int64)}
    if embed:
        feeds["input_ids"] = RNG.integers(0, BV, (BB, BS))
        feeds["token_type_ids"] = RNG.integers(0, 2, (BB, BS))
    else:
        feeds["x"] = RNG.standard_normal((BB, BS, BD)).astype(np.float32)
    ref = run_ort(model, feeds)[0]
    for m in (model, fused):  # the in-memory fused model has no com.microsoft opset import
        np.testing.assert_allclose(run_mine(m, feeds)[0], run_ort(m, feeds)[0], rtol=1e-4,
                                   atol=1e-5)
    np.testing.assert_allclose(run_mine(fused, feeds)[0], ref, rtol=1e-4, atol=1e-4)


# --- Llama-like decoder with GroupQueryAttention and a KV cache -------------------------------

LB, LD, LN, LNK, LH, LV, MAXLEN = 2, 64, 4, 2, 16, 40, 16


def llama_like():
    """Embedding, RMSNorm, Q/K/V MatMuls, GroupQueryAttention (rotary, KV cache in/out,
    seqlens_k and total_sequence_length from the attention mask), output projection with
    SkipSimplifiedLayerNormalization, SiLU-gated MLP, final norm and LM head."""
    b = _Builder(seed=5)
    x = b.op("Gather", [b.weight(LV, LD, scale=1.0), "input_ids"])
    h = b.op("SimplifiedLayerNormalization", [x, b.weight(LD, scale=1.0)], epsilon=1e-5)
    q, k, v = (b.op("MatMul", [h, b.weight(LD, n * LH)]) for n in (LN, LNK, LNK))
    ones = b.op("ReduceSum", ["attention_mask", b.const(np.array([1], np.int64))], keepdims=0)
    seqlens = b.op("Cast", [b.op("Sub", [ones, b.const(np.int64(1))])], to=TensorProto.INT32)
    total = b.op("Cast", [b.op("Gather", [b.op("Shape", ["attention_mask"]),
                                          b.const(np.int64(1))])], to=TensorProto.INT32)
    inv = 1.0 / 10000 ** (np.arange(0, LH, 2) / LH)
    ang = np.arange(MAXLEN)[:, None] * inv[None, :]
    cos, sin = b.const(np.cos(ang).astype(np.float32)), b.const(np.sin(ang).astype(np.float32))
    attn = b.op("GroupQueryAttention", [q, k, v, "past_key", "past_value", seqlens, total, cos,
                                        sin], ["attn", "present_key", "present_value"],
                domain="com.microsoft", num_heads=LN, kv_num_heads=LNK, do_rotary=1)
    o = b.op("MatMul", [attn, b.weight(LN * LH, LD)])
    h2 = b.op("SkipSimplifiedLayerNormalization", [o, x, b.weight(LD, scale=1.0)],
              ["h2", "", "", "resid"], domain="com.microsoft", epsilon=1e-5)
    gate, up = b.op("MatMul", [h2, b.weight(LD, 96)]), b.op("MatMul", [h2, b.weight(LD, 96)])
    act = b.op("Mul", [b.op("Mul", [gate, b.op("Sigmoid", [gate])]), up])
    d = b.op("MatMul", [act, b.weight(96, LD)])
    h3 = b.op("SkipSimplifiedLayerNormalization", [d, "resid", b.weight(LD, scale=1.0)],
              domain="com.microsoft", epsilon=1e-5)
    b.op("MatMul", [h3, b.weight(LD, LV)], ["logits"])
    f, i64 = TensorProto.FLOAT, TensorProto.INT64
    inputs = [helper.make_tensor_value_info("input_ids", i64, [LB, "s"]),
              helper.make_tensor_value_info("attention_mask", i64, [LB, "t"]),
              helper.make_tensor_value_info("past_key", f, [LB, LNK, "p", LH]),
              helper.make_tensor_value_info("past_value", f, [LB, LNK, "p", LH])]
    outputs = [helper.make_tensor_value_info("logits", f, [LB, "s", LV]),
               helper.make_tensor_value_info("present_key", f, [LB, LNK, "q", LH]),
               helper.make_tensor_value_info("present_value", f, [LB, LNK, "q", LH])]
    return b.model(inputs, outputs, [("", 17), ("com.microsoft", 1)])


@pytest.mark.parametrize("cache", ["growing", "max_length_buffer"])
def test_llama_decoder_gqa_kv_cache_over_steps(cache):
    import onnxruntime as ort

    import onnxrun
    model = llama_like()
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sessions = {"ort": ort.InferenceSession(model.SerializeToString(), so,
                                            providers=["CPUExecutionProvider"]),
                "mine": onnxrun.InferenceSession(model)}
    ids = RNG.integers(0, LV, (LB, 5))
    mask = np.array([[1] * 5, [1] * 3 + [0] * 2], np.int64)  # second prompt right-padded
    P = 0 if cache == "growing" else MAXLEN
    past = {name: np.zeros((LB, LNK, P, LH), np.float32) for name in sessions}
    past_v = dict(past)
    for step in range(5):
        feeds = {"input_ids": ids, "attention_mask": mask}
        res = {}
        for name, sess in sessions.items():
            res[name] = sess.run(None, dict(feeds, past_key=past[name], past_value=past_v[name]))
        (le, ke, ve), (lm, km, vm) = res["ort"], res["mine"]
        assert lm.shape == le.shape and km.shape == ke.shape
        rows = mask.sum(1)  # cache rows in use per sequence
        if step == 0:
            np.testing.assert_allclose(lm[0], le[0], rtol=1e-4, atol=1e-4)
            np.testing.assert_allclose(lm[1, :3], le[1, :3], rtol=1e-4, atol=1e-4)
        else:
            np.testing.assert_allclose(lm, le, rtol=1e-4, atol=1e-4)
        for bi, n in enumerate(rows):
            np.testing.assert_allclose(km[bi, :, :n], ke[bi, :, :n], rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(vm[bi, :, :n], ve[bi, :, :n], rtol=1e-5, atol=1e-5)
        last = le[np.arange(LB), rows - 1 if step == 0 else 0]
        nxt = last.argmax(-1)
        assert (lm[np.arange(LB), rows - 1 if step == 0 else 0].argmax(-1) == nxt).all()
        ids = nxt[:, None]
        mask = np.concatenate([mask, np.ones((LB, 1), np.int64)], axis=1)
        past = {"ort": ke, "mine": km}
        past_v = {"ort": ve, "mine": vm}
    assert mask.shape[1] == 10


# --- models saved by onnxruntime (optimized_model_filepath) -----------------------------------

def conv_gemm_model():
    """Conv + Add + Relu, 1x1 Conv + LeakyRelu, Flatten, Gemm + Sigmoid."""
    b = _Builder(seed=2)
    c = b.op("Conv", ["x", b.weight(8, 3, 3, 3), b.weight(8)], pads=[1, 1, 1, 1])
    r = b.op("Relu", [b.op("Add", [c, "z"])])
    y = b.op("LeakyRelu", [b.op("Conv", [r, b.weight(4, 8, 1, 1)])], alpha=0.2)
    g = b.op("Gemm", [b.op("Flatten", [y]), b.weight(10, 256), b.weight(10)], transB=1)
    b.op("Sigmoid", [g], ["y"])
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 8, 8]),
              helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 8, 8, 8])]
    return b.model(inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                   [("", 17)])


@pytest.mark.parametrize("name,expected", [
    ("bert13", {"SkipLayerNormalization", "FusedMatMul", "Gelu"}),
    ("bert17", {"SkipLayerNormalization", "FusedMatMul", "Gelu", "LayerNormalization"}),
    ("conv", {"FusedConv", "FusedGemm"}),
])
def test_models_saved_by_onnxruntime_extended_optimizations(name, expected, tmp_path):
    import onnx
    import onnxruntime as ort
    if name == "conv":
        model = conv_gemm_model()
        feeds = {"x": RNG.standard_normal((2, 3, 8, 8)).astype(np.float32),
                 "z": RNG.standard_normal((2, 8, 8, 8)).astype(np.float32)}
    else:
        model = bert_like(int(name[4:]), embed=False)
        feeds = {"x": RNG.standard_normal((BB, BS, BD)).astype(np.float32),
                 "attention_mask": np.array([[1] * BS, [1] * 5 + [0] * 3], np.int64)}
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    so.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    saved = onnx.load(so.optimized_model_filepath)
    ms_ops = {n.op_type for n in saved.graph.node if n.domain == "com.microsoft"}
    assert expected - {"LayerNormalization"} <= ms_ops, ms_ops
    assert expected <= {n.op_type for n in saved.graph.node}
    np.testing.assert_allclose(run_mine(saved, feeds)[0], run_ort(model, feeds)[0], rtol=1e-4,
                               atol=1e-5)
