"""Whole models made by onnxruntime's own quantization tools (quantize_static in QOperator
format with a calibration reader, quantize_dynamic, onnxruntime's graph optimizer writing its
fused/NHWC model) run on onnxrun and onnxruntime; each test asserts the model really contains
the com.microsoft ops it is about."""

import logging

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from ._msq import MS, F32, assert_close, assert_same, op_types, run_both

pytest.importorskip("onnxruntime.quantization")
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat,  # noqa: E402
                                      QuantType, quantize_dynamic, quantize_static)

logging.getLogger("onnxruntime.quantization").setLevel(logging.ERROR)
RNG = np.random.default_rng(40)


def _param(inits, *shape, s=0.3):
    name = f"w{len(inits)}"
    inits.append(numpy_helper.from_array((RNG.standard_normal(shape) * s).astype(F32), name))
    return name


def _save(tmp_path, nodes, inputs, outputs, inits, opset=13, ms=False):
    ops = [helper.make_opsetid("", opset)] + ([helper.make_opsetid(MS, 1)] if ms else [])
    m = helper.make_model(helper.make_graph(nodes, "g", inputs, outputs, inits),
                          opset_imports=ops)
    m.ir_version = 8
    path = tmp_path / "float.onnx"
    onnx.save(m, path)
    return path


def _optimized(tmp_path, path, level):
    """The model as onnxruntime's graph optimizer rewrites it at ``level``."""
    so = ort.SessionOptions()
    so.graph_optimization_level = level
    so.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    so.log_severity_level = 3
    ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return onnx.load(tmp_path / "optimized.onnx")


@pytest.fixture(scope="module")
def cnn_path(tmp_path_factory):
    """Conv/Relu/Add/Mul/Sigmoid/LeakyRelu/AveragePool/Concat/GlobalAveragePool/Gemm/MatMul/
    Softmax: every op QOperator static quantization maps to a com.microsoft QLinear op."""
    tmp = tmp_path_factory.mktemp("cnn")
    inits = []
    c1 = [_param(inits, 8, 3, 3, 3), _param(inits, 8, s=0.1)]
    c2 = [_param(inits, 8, 8, 3, 3), _param(inits, 8, s=0.1)]
    nodes = [
        helper.make_node("Conv", ["x"] + c1, ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1"] + c2, ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "r1"], ["a1"]),
        helper.make_node("Mul", ["a1", "c1"], ["m1"]),
        helper.make_node("Sigmoid", ["m1"], ["s1"]),
        helper.make_node("LeakyRelu", ["s1"], ["l1"], alpha=0.1),
        helper.make_node("AveragePool", ["l1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Concat", ["p1", "p1"], ["cc"], axis=1),
        helper.make_node("GlobalAveragePool", ["cc"], ["g1"]),
        helper.make_node("Flatten", ["g1"], ["f1"]),
        helper.make_node("Gemm", ["f1", _param(inits, 16, 10), _param(inits, 10)], ["gm"]),
        helper.make_node("MatMul", ["gm", _param(inits, 10, 6)], ["mm"]),
        helper.make_node("Softmax", ["mm"], ["y"], axis=-1)]
    return _save(tmp, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                             [1, 3, 8, 8])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])], inits)


class _Reader(CalibrationDataReader):
    def __init__(self, name, shape, n=8):
        self.it = iter([{name: RNG.standard_normal(shape).astype(F32)} for _ in range(n)])

    def get_next(self):
        return next(self.it, None)


QOPS = {"QLinearAdd", "QLinearMul", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearAveragePool",
        "QLinearConcat", "QLinearGlobalAveragePool", "QGemm", "QLinearSoftmax"}


@pytest.mark.parametrize("act,wt", [(QuantType.QUInt8, QuantType.QUInt8),
                                    (QuantType.QInt8, QuantType.QInt8),
                                    (QuantType.QUInt8, QuantType.QInt8)])
@pytest.mark.parametrize("per_channel", [False, True])
def test_quantize_static_qoperator(tmp_path, cnn_path, act, wt, per_channel):
    """Bit-exact on the quantized model and on onnxruntime's optimized rewrite of it (NHWC
    com.microsoft QLinearConv with channels_last)."""
    qpath = tmp_path / "q.onnx"
    quantize_static(str(cnn_path), str(qpath), _Reader("x", (1, 3, 8, 8)),
                    quant_format=QuantFormat.QOperator, activation_type=act, weight_type=wt,
                    per_channel=per_channel)
    qm = onnx.load(qpath)
    assert {f"{MS}:{o}" for o in QOPS} <= op_types(qm)
    feeds = {"x": RNG.standard_normal((1, 3, 8, 8)).astype(F32)}
    assert_same(*run_both(qm, feeds))
    om = _optimized(tmp_path, qpath, ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
    assert any(n.op_type == "QLinearConv" and n.domain == MS and
               any(a.name == "channels_last" and a.i for a in n.attribute)
               for n in om.graph.node)
    assert_same(*run_both(om, feeds))


def test_quantize_dynamic_matmul_fusions(tmp_path):
    """quantize_dynamic's MatMulInteger graphs, fused by onnxruntime into DynamicQuantizeMatMul
    (one consumer) and MatMulIntegerToFloat (an activation quantized once for two MatMuls)."""
    inits = []
    nodes = [helper.make_node("MatMul", ["x", _param(inits, 16, 12)], ["h"]),
             helper.make_node("Add", ["h", _param(inits, 12, s=0.1)], ["h2"]),
             helper.make_node("Relu", ["h2"], ["h3"]),
             helper.make_node("MatMul", ["h3", _param(inits, 12, 5)], ["y1"]),
             helper.make_node("MatMul", ["h3", _param(inits, 12, 5)], ["y2"])]
    path = _save(tmp_path, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                 [4, 16])],
                 [helper.make_tensor_value_info(n, TensorProto.FLOAT, [4, 5])
                  for n in ("y1", "y2")], inits)
    for wt, pc in ((QuantType.QInt8, False), (QuantType.QUInt8, True)):
        qpath = tmp_path / "q.onnx"
        quantize_dynamic(str(path), str(qpath), weight_type=wt, per_channel=pc)
        om = _optimized(tmp_path, qpath, ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED)
        ops = op_types(om)
        assert f"{MS}:DynamicQuantizeMatMul" in ops and f"{MS}:MatMulIntegerToFloat" in ops
        assert_same(*run_both(om, {"x": RNG.standard_normal((4, 16)).astype(F32)}))


@pytest.mark.parametrize("kw", [dict(), dict(direction="bidirectional"),
                                dict(peepholes=True, initial=True, clip=2.0),
                                dict(seq_lens=True, direction="reverse")])
@pytest.mark.parametrize("wt", [QuantType.QInt8, QuantType.QUInt8])
def test_quantize_dynamic_lstm(tmp_path, kw, wt):
    """DynamicQuantizeLSTM against onnxruntime with one thread: with several, onnxruntime
    quantizes the hidden state per batch chunk (thread-dependent results). Its sigmoid and
    tanh approximations leave differences of a few 1e-7."""
    I, H, D = 8, 6, 2 if kw.get("direction") == "bidirectional" else 1
    inits = [numpy_helper.from_array((RNG.standard_normal((D, 4 * H, I)) * 0.3).astype(F32), "W"),
             numpy_helper.from_array((RNG.standard_normal((D, 4 * H, H)) * 0.3).astype(F32), "R"),
             numpy_helper.from_array((RNG.standard_normal((D, 8 * H)) * 0.1).astype(F32), "B")]
    ins = ["X", "W", "R", "B", "sl" if kw.get("seq_lens") else "",
           "h0" if kw.get("initial") else "", "c0" if kw.get("initial") else ""]
    gin = [helper.make_tensor_value_info("X", TensorProto.FLOAT, [5, 3, I])]
    feeds = {"X": RNG.standard_normal((5, 3, I)).astype(F32)}
    if kw.get("seq_lens"):
        gin.append(helper.make_tensor_value_info("sl", TensorProto.INT32, [3]))
        feeds["sl"] = np.array([5, 3, 4], np.int32)
    if kw.get("initial"):
        for n in ("h0", "c0"):
            gin.append(helper.make_tensor_value_info(n, TensorProto.FLOAT, [D, 3, H]))
            feeds[n] = RNG.standard_normal((D, 3, H)).astype(F32)
    if kw.get("peepholes"):
        ins.append("P")
        inits.append(numpy_helper.from_array((RNG.standard_normal((D, 3 * H)) * 0.1).astype(F32),
                                             "P"))
    while ins[-1] == "":
        ins.pop()
    attrs = {"hidden_size": H, "direction": kw.get("direction", "forward")}
    if "clip" in kw:
        attrs["clip"] = kw["clip"]
    nodes = [helper.make_node("LSTM", ins, ["Y", "Yh", "Yc"], **attrs)]
    path = _save(tmp_path, nodes, gin, [helper.make_tensor_value_info(n, TensorProto.FLOAT, None)
                                        for n in ("Y", "Yh", "Yc")], inits, opset=14)
    qpath = tmp_path / "q.onnx"
    quantize_dynamic(str(path), str(qpath), weight_type=wt, per_channel=wt == QuantType.QInt8)
    qm = onnx.load(qpath)
    assert op_types(qm) == {f"{MS}:DynamicQuantizeLSTM"}
    assert_close(*run_both(qm, feeds), rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("mask_kind", [None, "1d", "2b", "2d", "3d", "past"])
def test_quantize_dynamic_attention(tmp_path, mask_kind):
    """com.microsoft Attention -> QAttention (masks of every form, unidirectional with past)."""
    Bn, S, Din, hid, N = 2, 5, 16, 12, 3
    inits = [numpy_helper.from_array((RNG.standard_normal((Din, 3 * hid)) * 0.2).astype(F32), "W"),
             numpy_helper.from_array((RNG.standard_normal(3 * hid) * 0.1).astype(F32), "Bq")]
    gin = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [Bn, S, Din])]
    feeds = {"x": RNG.standard_normal((Bn, S, Din)).astype(F32)}
    masks = {"1d": np.array([5, 3], np.int32), "2b": np.array([5, 4, 0, 1], np.int32),
             "2d": np.array([[1, 1, 1, 0, 0], [1] * 5], np.int32),
             "3d": RNG.integers(0, 2, (Bn, S, S)).astype(np.int32),
             "past": RNG.integers(0, 2, (Bn, S + 3)).astype(np.int32)}
    ins, outs, attrs = ["x", "W", "Bq"], ["y"], {"num_heads": N}
    if mask_kind:
        ins.append("mask")
        feeds["mask"] = masks[mask_kind]
        gin.append(helper.make_tensor_value_info("mask", TensorProto.INT32,
                                                 list(feeds["mask"].shape)))
    if mask_kind == "past":
        ins.append("past")
        outs.append("present")
        attrs["unidirectional"] = 1
        feeds["past"] = RNG.standard_normal((2, Bn, N, 3, hid // N)).astype(F32)
        gin.append(helper.make_tensor_value_info("past", TensorProto.FLOAT, [2, Bn, N, 3, 4]))
    nodes = [helper.make_node("Attention", ins, outs, domain=MS, **attrs)]
    path = _save(tmp_path, nodes, gin, [helper.make_tensor_value_info(o, TensorProto.FLOAT, None)
                                        for o in outs], inits, opset=14, ms=True)
    qpath = tmp_path / "q.onnx"
    quantize_dynamic(str(path), str(qpath), weight_type=QuantType.QInt8, per_channel=True)
    qm = onnx.load(qpath)
    assert f"{MS}:QAttention" in op_types(qm)
    assert_close(*run_both(qm, feeds), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("segment,mask", [(True, True), (False, False)])
@pytest.mark.parametrize("wt", [QuantType.QUInt8, QuantType.QInt8])
def test_quantize_dynamic_embed_layer_norm(tmp_path, segment, mask, wt):
    V, P, hid = 30, 16, 8
    inits = [numpy_helper.from_array(RNG.standard_normal((V, hid)).astype(F32), "we"),
             numpy_helper.from_array(RNG.standard_normal((P, hid)).astype(F32), "pe"),
             numpy_helper.from_array((RNG.random(hid) + 0.5).astype(F32), "gamma"),
             numpy_helper.from_array((RNG.standard_normal(hid) * 0.1).astype(F32), "beta")]
    gin = [helper.make_tensor_value_info("ids", TensorProto.INT32, [2, 6])]
    feeds = {"ids": RNG.integers(0, V, (2, 6)).astype(np.int32)}
    ins = ["ids", "", "we", "pe", "", "gamma", "beta"]
    if segment:
        inits.append(numpy_helper.from_array(RNG.standard_normal((2, hid)).astype(F32), "se"))
        ins[1], ins[4] = "sids", "se"
        gin.append(helper.make_tensor_value_info("sids", TensorProto.INT32, [2, 6]))
        feeds["sids"] = RNG.integers(0, 2, (2, 6)).astype(np.int32)
    if mask:
        ins.append("mask")
        gin.append(helper.make_tensor_value_info("mask", TensorProto.INT32, [2, 6]))
        feeds["mask"] = np.array([[1, 1, 1, 0, 0, 0], [1] * 6], np.int32)
    nodes = [helper.make_node("EmbedLayerNormalization", ins, ["y", "mi"], domain=MS,
                              epsilon=1e-5)]
    path = _save(tmp_path, nodes, gin, [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                                                      None),
                                        helper.make_tensor_value_info("mi", TensorProto.INT32,
                                                                      None)],
                 inits, opset=14, ms=True)
    qpath = tmp_path / "q.onnx"
    quantize_dynamic(str(path), str(qpath), weight_type=wt,
                     op_types_to_quantize=["EmbedLayerNormalization"])
    qm = onnx.load(qpath)
    assert op_types(qm) == {f"{MS}:QEmbedLayerNormalization"}
    exp, got = run_both(qm, feeds)
    assert_close(exp[:1], got[:1], rtol=1e-5, atol=1e-5)
    assert_same(exp[1:], got[1:])
