"""Unit tests of the nn kernel family (conv, pooling, matmul, normalization, losses), compared
with onnxruntime on random inputs or with formulas."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxrun
from onnxrun.errors import InvalidArgument

ort = pytest.importorskip("onnxruntime")

_NP2ONNX = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE,
            np.dtype(np.float16): TensorProto.FLOAT16, np.dtype(np.int64): TensorProto.INT64,
            np.dtype(np.int32): TensorProto.INT32, np.dtype(bool): TensorProto.BOOL}


def make_model(op, inputs, consts=None, attrs=None, n_out=1, opset=22, out_types=None):
    """A one-node model: ``inputs`` is a list of (name, array) fed at run time, ``consts`` a
    list of (name, array) initializers (order: inputs then consts unless names say otherwise)."""
    consts = consts or []
    names = [n for n, _ in inputs] + [n for n, _ in consts]
    outs = [f"y{i}" for i in range(n_out)]
    node = helper.make_node(op, names, outs, **(attrs or {}))
    g_in = [helper.make_tensor_value_info(n, _NP2ONNX[a.dtype], a.shape) for n, a in inputs]
    out_types = out_types or [_NP2ONNX[inputs[0][1].dtype]] * n_out
    g_out = [helper.make_tensor_value_info(o, t, None) for o, t in zip(outs, out_types)]
    inits = [numpy_helper.from_array(a, n) for n, a in consts]
    g = helper.make_graph([node], "g", g_in, g_out, inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)


def run_both(model, feeds):
    data = model.SerializeToString()
    a = onnxrun.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, feeds)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    b = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"]).run(None, feeds)
    return a, b


def run_ours(model, feeds):
    return onnxrun.InferenceSession(model.SerializeToString(),
                                    providers=["CPUExecutionProvider"]).run(None, feeds)


RNG = np.random.default_rng(0)


def rand(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


# ----------------------------------------------------------------------------- Conv
CONV_CASES = [
    # (x shape, w shape, attrs)            path exercised
    ((1, 128, 14, 14), (64, 128, 3, 3), dict(pads=[1, 1, 1, 1])),          # winograd
    ((2, 128, 13, 11), (80, 128, 3, 3), dict(pads=[1, 0, 1, 2])),          # winograd odd
    ((1, 128, 16, 12), (64, 128, 3, 3), dict(auto_pad="SAME_LOWER")),      # winograd
    ((1, 16, 10, 10), (32, 16, 1, 1), {}),                                 # pointwise
    ((2, 16, 9, 9), (32, 16, 1, 1), dict(strides=[2, 2])),                 # strided pointwise
    ((1, 8, 11, 11), (8, 1, 3, 3), dict(group=8, pads=[1, 1, 1, 1], strides=[2, 2])),  # dw
    ((2, 6, 11, 9), (6, 1, 5, 3), dict(group=6, dilations=[2, 1])),         # depthwise
    ((1, 8, 10, 10), (12, 4, 3, 3), dict(group=2, pads=[0, 1, 2, 1])),     # grouped im2col
    ((2, 3, 15, 13), (5, 3, 7, 7), dict(strides=[2, 3], pads=[3, 3, 3, 3])),  # im2col
    ((1, 4, 12), (6, 4, 3), dict(auto_pad="SAME_UPPER", strides=[2])),     # 1-D
    ((1, 2, 5, 6, 7), (3, 2, 3, 2, 3), dict(pads=[1, 0, 1, 1, 1, 0])),     # 3-D
    ((1, 4, 9, 9), (4, 2, 3, 3), dict(group=2, dilations=[2, 2], auto_pad="VALID")),
]


@pytest.mark.parametrize("xs,ws,attrs", CONV_CASES)
@pytest.mark.parametrize("const_w", [True, False])
def test_conv_vs_ort(xs, ws, attrs, const_w):
    x, w, b = rand(*xs), rand(*ws), rand(ws[0])
    if const_w:
        m = make_model("Conv", [("x", x)], [("w", w), ("b", b)], attrs)
        feeds = {"x": x}
    else:
        m = make_model("Conv", [("x", x), ("w", w), ("b", b)], None, attrs)
        feeds = {"x": x, "w": w, "b": b}
    (a,), (e,) = run_both(m, feeds)
    assert a.dtype == np.float32 and a.shape == e.shape
    np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4)


def test_conv_float16_and_float64():
    x, w = rand(1, 64, 6, 6), rand(64, 64, 3, 3)
    for dt in (np.float16, np.float64):
        m = make_model("Conv", [("x", x.astype(dt))], [("w", w.astype(dt))],
                       dict(pads=[1, 1, 1, 1]))
        (a,) = run_ours(m, {"x": x.astype(dt)})
        assert a.dtype == dt
        ref = run_ours(make_model("Conv", [("x", x.astype(np.float64))],
                                  [("w", w.astype(np.float64))], dict(pads=[1, 1, 1, 1])),
                       {"x": x.astype(np.float64)})[0]
        np.testing.assert_allclose(a.astype(np.float64), ref, rtol=1e-2 if dt == np.float16
                                   else 1e-10, atol=0.2 if dt == np.float16 else 1e-10)


def test_conv_channel_mismatch_raises():
    m = make_model("Conv", [("x", rand(1, 3, 5, 5)), ("w", rand(4, 2, 3, 3))])
    with pytest.raises(InvalidArgument):
        run_ours(m, {"x": rand(1, 3, 5, 5), "w": rand(4, 2, 3, 3)})
