"""Tool-made models: float models turned into what onnxruntime's own tools give users
(transformers optimizer, dynamic / static quantization, MatMulNBits quantization, models saved
by onnxruntime at an optimization level), then run in onnxrun and onnxruntime and compared.

Used by ``scripts/toolmade_models.py`` (builds the full set, with torch exports, into a cache
folder), ``scripts/conformance.py --toolmade`` (runs it) and ``tests/tools/test_toolmade.py``
(a few models built here without torch). Needs onnxruntime; nothing here is runtime code.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

#: the variants applied to every float model, in the order they are listed
VARIANTS = ("plain", "opt", "opt99", "qdyn", "qstatic_qop", "qstatic_qdq", "nbits4", "nbits8",
            "ort_basic", "ort_extended", "ort_all")
#: max |onnxrun - onnxruntime| allowed: ATOL + RTOL * max |onnxruntime|; quantized models get
#: one quantization step of room (a rounding tie may land on the other integer)
TOLERANCE = {"float": (1e-4, 1e-3), "quantized": (1e-3, 2e-2)}
QUANTIZED = ("qdyn", "qstatic_qop", "qstatic_qdq", "nbits4", "nbits8")


# ---- float models built with onnx.helper -------------------------------------------------
class _Graph:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []

    def const(self, arr, dtype=np.float32):
        name = f"c{len(self.inits)}"
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype), name))
        return name

    def op(self, op, inputs, **attrs):
        out = f"{op.lower()}_{len(self.nodes)}"
        self.nodes.append(h.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def conv_bn(self, x, cin, cout, k=1, stride=1, group=1, act=True):
        fan_in = cin // group * k * k
        w = self.rng.standard_normal((cout, cin // group, k, k)) * math.sqrt(2 / fan_in)
        y = self.op("Conv", [x, self.const(w)], kernel_shape=[k, k], strides=[stride] * 2,
                    pads=[k // 2] * 4, group=group)
        stats = [self.rng.uniform(0.5, 1.5, cout), self.rng.standard_normal(cout) * 0.1,
                 self.rng.standard_normal(cout) * 0.1, self.rng.uniform(0.5, 1.5, cout)]
        y = self.op("BatchNormalization", [y] + [self.const(s) for s in stats])
        return self.op("Clip", [y, self.const(0.0), self.const(6.0)]) if act else y

    def linear(self, x, n_in, n_out):
        w = self.rng.standard_normal((n_in, n_out)) / math.sqrt(n_in)
        return self.op("Add", [self.op("MatMul", [x, self.const(w)]),
                               self.const(self.rng.standard_normal(n_out) * 0.1)])

    def layer_norm(self, x, n):
        return self.op("LayerNormalization", [x, self.const(self.rng.uniform(0.5, 1.5, n)),
                                              self.const(self.rng.standard_normal(n) * 0.1)],
                       axis=-1, epsilon=1e-5)

    def model(self, inputs, outputs, opset=17):
        g = h.make_graph(self.nodes, "g", inputs, outputs, self.inits)
        return h.make_model(g, opset_imports=[h.make_opsetid("", opset)], ir_version=8)


def cnn_model(seed: int = 0) -> onnx.ModelProto:
    """A MobileNetV2-like CNN: stem conv, two inverted residual blocks (1x1 expand, 3x3
    depthwise, 1x1 project, BN, ReLU6), a strided block, global pool, classifier."""
    g = _Graph(seed)
    x = g.conv_bn("x", 3, 32, k=3, stride=2)
    for cin, cout, stride in ((32, 32, 1), (32, 48, 2), (48, 48, 1)):
        y = g.conv_bn(x, cin, cin * 2)
        y = g.conv_bn(y, cin * 2, cin * 2, k=3, stride=stride, group=cin * 2)
        y = g.conv_bn(y, cin * 2, cout, act=False)
        x = g.op("Add", [x, y]) if cin == cout and stride == 1 else y
    x = g.op("Flatten", [g.op("GlobalAveragePool", [g.conv_bn(x, 48, 64)])])
    w = g.rng.standard_normal((10, 64)) / 8
    y = g.op("Gemm", [x, g.const(w), g.const(np.zeros(10))], transB=1)
    return g.model([h.make_tensor_value_info("x", T.FLOAT, ["batch", 3, 64, 64])],
                   [h.make_tensor_value_info(y, T.FLOAT, ["batch", 10])])


def encoder_model(seed: int = 1, hidden: int = 64, heads: int = 4, layers: int = 2
                  ) -> onnx.ModelProto:
    """A BERT-like encoder built op by op (embeddings given as input): per layer self-attention
    (Q/K/V MatMul+Add, Reshape/Transpose to heads, scaled MatMul, Softmax), residual +
    LayerNormalization, an erf-GELU feed-forward, residual + LayerNormalization: the patterns
    onnxruntime's BERT optimizer fuses."""
    g = _Graph(seed)
    dh = hidden // heads
    x = "x"
    split = g.const([0, 0, heads, dh], np.int64)
    merge = g.const([0, 0, hidden], np.int64)
    for _ in range(layers):
        q, k, v = (g.op("Transpose", [g.op("Reshape", [g.linear(x, hidden, hidden), split])],
                        perm=perm) for perm in ([0, 2, 1, 3], [0, 2, 3, 1], [0, 2, 1, 3]))
        scores = g.op("Div", [g.op("MatMul", [q, k]), g.const(math.sqrt(dh))])
        ctx = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        ctx = g.op("Reshape", [g.op("Transpose", [ctx], perm=[0, 2, 1, 3]), merge])
        x = g.layer_norm(g.op("Add", [g.linear(ctx, hidden, hidden), x]), hidden)
        f = g.linear(x, hidden, 4 * hidden)
        erf = g.op("Erf", [g.op("Div", [f, g.const(math.sqrt(2.0))])])
        gelu = g.op("Mul", [g.op("Mul", [f, g.op("Add", [erf, g.const(1.0)])]), g.const(0.5)])
        x = g.layer_norm(g.op("Add", [g.linear(gelu, 4 * hidden, hidden), x]), hidden)
    return g.model([h.make_tensor_value_info("x", T.FLOAT, ["batch", "sequence", hidden])],
                   [h.make_tensor_value_info(x, T.FLOAT, ["batch", "sequence", hidden])])


# ---- feeds ---------------------------------------------------------------------------------
def random_feeds(path: str, dims: Dict[str, int], seed: int = 0, vocab: int = 100
                 ) -> Dict[str, np.ndarray]:
    """Inputs for the model at ``path``: symbolic dims from ``dims`` (else 1); int64 ids in
    [0, vocab), masks all ones, other ints zero; floats standard normal."""
    rng = np.random.default_rng(seed)
    model = onnx.load(path, load_external_data=False)
    inits = {t.name for t in model.graph.initializer}
    feeds = {}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        tt = vi.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else dims.get(d.dim_param, 1)
                 for d in tt.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type)
        if np.issubdtype(dtype, np.integer):
            if "mask" in vi.name:
                arr = np.ones(shape, dtype)
            elif "ids" in vi.name and "type" not in vi.name:
                arr = rng.integers(0, vocab, shape).astype(dtype)
            else:
                arr = np.zeros(shape, dtype)
        else:
            arr = rng.standard_normal(shape).astype(dtype)
        feeds[vi.name] = arr
    return feeds


# ---- variants --------------------------------------------------------------------------------
@dataclass
class Family:
    """How the tools are told about a float model: the optimizer's model type, heads, hidden."""

    name: str
    model_type: str
    num_heads: int = 0
    hidden_size: int = 0
    dims: Dict[str, int] = field(default_factory=dict)
    #: MatMulNBits quantizes MatMul nodes only: a model whose weights are Gemm nodes (GPT-2's
    #: Conv1D layers) is optimized first (optimize_model turns them into MatMul + Add)
    nbits_after_opt: bool = False


def ort_saved(src: str, dst: str, level: str) -> None:
    """The model as onnxruntime saves it (optimized_model_filepath) at ``level``."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}[level]
    so.optimized_model_filepath = dst
    so.log_severity_level = 3
    ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])


def optimized(src: str, dst: str, fam: Family, opt_level: Optional[int]) -> None:
    """onnxruntime.transformers.optimizer.optimize_model (opt_level None: its default)."""
    from onnxruntime.transformers.optimizer import optimize_model
    kw = {} if opt_level is None else {"opt_level": opt_level}
    opt = optimize_model(src, model_type=fam.model_type, num_heads=fam.num_heads,
                         hidden_size=fam.hidden_size, use_gpu=False, **kw)
    opt.save_model_to_file(dst)


class _Reader:
    """CalibrationDataReader over a few random feeds."""

    def __init__(self, batches):
        self.batches = iter(batches)

    def get_next(self):
        return next(self.batches, None)


def quant_static(src: str, dst: str, fmt: str, calib: List[Dict[str, np.ndarray]]) -> None:
    from onnxruntime.quantization import QuantFormat, quantize_static
    quantize_static(src, dst, _Reader(calib),
                    quant_format=QuantFormat.QDQ if fmt == "qdq" else QuantFormat.QOperator)


def quant_dynamic(src: str, dst: str) -> None:
    from onnxruntime.quantization import quantize_dynamic
    quantize_dynamic(src, dst)


def nbits(src: str, dst: str, bits: int) -> None:
    """MatMulNBitsQuantizer (block size 32, symmetric) at ``bits`` bits."""
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
    q = MatMulNBitsQuantizer(onnx.load(src), bits=bits, block_size=32, is_symmetric=True)
    q.process()
    q.model.save_model_to_file(dst, use_external_data_format=False)


def make_variant(variant: str, src: str, dst: str, fam: Family,
                 calib: Callable[[], List[Dict[str, np.ndarray]]]) -> None:
    """Write ``variant`` of the float model ``src`` to ``dst``."""
    if variant == "plain":
        onnx.save(onnx.load(src), dst)
    elif variant in ("opt", "opt99"):
        optimized(src, dst, fam, None if variant == "opt" else 99)
    elif variant == "qdyn":
        quant_dynamic(src, dst)
    elif variant.startswith("qstatic_"):
        quant_static(src, dst, variant.split("_")[1], calib())
    elif variant.startswith("nbits"):
        if fam.nbits_after_opt:
            optimized(src, dst, fam, None)
            src = dst
        nbits(src, dst, int(variant[5:]))
    elif variant.startswith("ort_"):
        ort_saved(src, dst, variant[4:])
    else:
        raise ValueError(f"unknown variant {variant}")


# ---- run and compare ---------------------------------------------------------------------
@dataclass
class Result:
    name: str
    ok: bool
    detail: str
    max_diff: Optional[float] = None
    missing: List[str] = field(default_factory=list)


def _ort_run(path: str, feeds, optimize: bool):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.log_severity_level = 3
    if not optimize:
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"]).run(None, feeds)


def compare(name: str, path: str, feeds: Dict[str, np.ndarray], quantized: bool) -> Result:
    """Run ``path`` in onnxrun and onnxruntime on ``feeds``; match within TOLERANCE.

    onnxruntime runs it at its default level (ORT_ENABLE_ALL); where that differs beyond the
    tolerance it runs again with optimizations off: its fused kernels (QDQ groups become
    integer kernels) may round otherwise than the graph as written, which onnxrun runs. A
    match with either counts, and the detail says which."""
    import onnxrun
    from onnxrun.tools.inspect import model_info
    try:
        want = _ort_run(path, feeds, True)
    except Exception as exc:  # noqa: BLE001 - a tool made a model onnxruntime cannot run
        return Result(name, False, f"onnxruntime cannot run it: {_line(exc)}")
    try:
        sess = onnxrun.InferenceSession(path)
    except Exception as exc:  # noqa: BLE001
        missing = model_info(path)["missing_kernels"]
        what = "missing ops: " + ", ".join(missing) if missing else _line(exc)
        return Result(name, False, what, missing=missing)
    try:
        got = sess.run(None, feeds)
    except Exception as exc:  # noqa: BLE001
        return Result(name, False, f"run failed: {_line(exc)}")
    tol = TOLERANCE["quantized" if quantized else "float"]
    worst, ok, why = _diff(got, want, tol)
    if ok or why:
        return Result(name, ok, why or "match", worst)
    unfused, ok2, why2 = _diff(got, _ort_run(path, feeds, False), tol)
    if ok2:
        return Result(name, True, f"matches onnxruntime without optimizations (max diff "
                                  f"{unfused:.3g}); its optimized run differs by {worst:.3g}",
                      unfused)
    return Result(name, False, why2 or "outputs differ", worst)


def _diff(got, want, tol):
    """(max |got - want|, within tolerance, reason if shapes or types differ)."""
    atol, rtol = tol
    worst, ok = 0.0, True
    for g, w in zip(got, want):
        w, g = np.asarray(w), np.asarray(g)
        if g.shape != w.shape or g.dtype != w.dtype:
            return worst, False, f"output {g.dtype}{g.shape}, onnxruntime {w.dtype}{w.shape}"
        if w.size == 0:
            continue
        d = float(np.max(np.abs(g.astype(np.float64) - w.astype(np.float64))))
        worst = max(worst, d)
        ok &= d <= atol + rtol * float(np.max(np.abs(w.astype(np.float64))))
    return worst, ok, ""


def _line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def model_path(cache: str, family: str, variant: str) -> str:
    return os.path.join(cache, f"{family}.{variant}.onnx")
