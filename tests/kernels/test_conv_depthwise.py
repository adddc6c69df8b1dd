"""2-D depthwise convs (the GEMM-over-channels path), fused activations and the per-channel bias
epilogue, compared with onnxruntime. Sessions name the CPU provider: these test the NumPy
kernels (test_numba_conv.py runs the same cases on the Numba provider)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxrun

ort = pytest.importorskip("onnxruntime")


def _model(xs, ws, attrs, act=None, const_w=True, bias=True, opset=13):
    rng = np.random.default_rng(7)
    w = rng.standard_normal(ws).astype(np.float32)
    b = rng.standard_normal(ws[0]).astype(np.float32)
    names = ["x", "w", "b"] if bias else ["x", "w"]
    inits, inputs = [], [helper.make_tensor_value_info("x", TensorProto.FLOAT, xs)]
    feeds = {}
    for name, arr in (("w", w), ("b", b))[:len(names) - 1]:
        if const_w:
            inits.append(numpy_helper.from_array(arr, name))
        else:
            inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, arr.shape))
            feeds[name] = arr
    nodes = [helper.make_node("Conv", names, ["c" if act else "y"], **attrs)]
    if act == "Relu":
        nodes.append(helper.make_node("Relu", ["c"], ["y"]))
    elif act == "Clip":
        inits += [numpy_helper.from_array(np.float32(0), "lo"),
                  numpy_helper.from_array(np.float32(6), "hi")]
        nodes.append(helper.make_node("Clip", ["c", "lo", "hi"], ["y"]))
    g = helper.make_graph(nodes, "g", inputs,
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    feeds["x"] = rng.standard_normal(xs).astype(np.float32)
    return m.SerializeToString(), feeds


def _check(model, feeds):
    so = onnxrun.SessionOptions()
    a = onnxrun.InferenceSession(model, so, providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    e = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    assert a.shape == e.shape and a.dtype == e.dtype
    assert a.flags.c_contiguous
    np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4)


DW_CASES = [
    # x shape, kernel, attrs
    ((1, 8, 12, 12), (3, 3), dict(pads=[1, 1, 1, 1])),                      # flat taps
    ((2, 5, 9, 7), (3, 3), dict(pads=[1, 1, 1, 1])),                        # batch
    ((1, 4, 10, 11), (5, 5), dict(pads=[2, 2, 2, 2])),                      # flat, wide shifts
    ((1, 3, 8, 9), (3, 5), dict(pads=[0, 2, 3, 2])),                        # flat, asym rows
    ((1, 6, 9, 9), (3, 3), dict(pads=[2, 1, 0, 1], dilations=[2, 1])),      # flat, dilated
    ((1, 4, 7, 8), (3, 3), dict(pads=[1, 3, 1, 1], dilations=[1, 2])),      # flat, dilated cols
    ((1, 4, 6, 6), (3, 3), dict(pads=[4, 4, 4, 4])),                        # wide padding
    ((1, 3, 2, 9), (3, 3), dict(pads=[5, 1, 5, 1], dilations=[5, 1])),      # taps all padding
    ((1, 3, 2, 9), (3, 3), dict(pads=[5, 1, 5, 1], dilations=[5, 1], strides=[1, 2])),
    ((1, 8, 13, 13), (3, 3), dict(pads=[1, 1, 1, 1], strides=[2, 2])),     # strided copies
    ((1, 8, 12, 12), (3, 3), dict(pads=[0, 1, 1, 0], strides=[2, 2])),
    ((2, 5, 14, 10), (3, 3), dict(pads=[2, 1, 2, 2], strides=[3, 2], dilations=[2, 3])),
    ((1, 6, 9, 9), (3, 3), dict(strides=[1, 2], pads=[1, 1, 1, 1])),
    ((1, 6, 9, 9), (3, 3), dict(strides=[2, 1], pads=[1, 1, 1, 1])),
    ((1, 6, 9, 9), (3, 3), dict(auto_pad="SAME_UPPER", strides=[2, 2])),
    ((1, 6, 10, 9), (2, 2), dict(auto_pad="SAME_LOWER")),                   # even kernel, flat
    ((1, 6, 9, 9), (3, 3), dict(auto_pad="VALID")),                         # no pads, narrower
    ((1, 5, 7, 7), (1, 1), {}),                                             # 1x1 depthwise
    ((1, 3, 1, 9), (1, 3), dict(pads=[0, 1, 0, 1])),
    ((2, 4, 2, 2), (5, 5), dict(pads=[2, 2, 2, 2])),                        # kernel > input
    ((1, 4, 1, 1), (3, 3), dict(pads=[1, 1, 1, 1])),                        # 1x1 map
    ((1, 4, 5, 1), (3, 3), dict(pads=[1, 1, 1, 1])),                        # one column
    ((1, 4, 4, 4), (3, 3), dict(pads=[1, 1, 1, 1], strides=[2, 2])),        # 2x2 phases
    ((1, 4, 9, 12), (3, 3), dict(pads=[3, 1, 3, 1], strides=[3, 3], dilations=[3, 1])),
]


@pytest.mark.parametrize("xs,k,attrs", DW_CASES)
@pytest.mark.parametrize("const_w", [True, False])
def test_depthwise_vs_ort(xs, k, attrs, const_w):
    C = xs[1]
    model, feeds = _model(xs, (C, 1) + k, dict(attrs, group=C), const_w=const_w)
    _check(model, feeds)


def test_depthwise_without_bias_and_channel_multiplier():
    model, feeds = _model((1, 6, 9, 9), (6, 1, 3, 3), dict(group=6, pads=[1, 1, 1, 1]),
                          bias=False)
    _check(model, feeds)
    # group == C but two filters per channel: not depthwise in the 1-filter sense
    model, feeds = _model((1, 4, 9, 9), (8, 1, 3, 3), dict(group=4, pads=[1, 1, 1, 1]))
    _check(model, feeds)


def test_depthwise_many_channel_blocks(monkeypatch):
    from onnxrun.kernels.nn import _conv_depthwise

    # blocks of a few channels, the last one partial: the zeros written once must stay put
    monkeypatch.setattr(_conv_depthwise, "COLS_BLOCK_BYTES", 3 * 10 * 16 * 4)
    for attrs in (dict(pads=[1, 1, 1, 1]), dict(pads=[1, 1, 1, 1], strides=[2, 2])):
        model, feeds = _model((2, 11, 8, 8), (11, 1, 3, 3), dict(attrs, group=11))
        _check(model, feeds)


@pytest.mark.parametrize("act", ["Relu", "Clip"])
@pytest.mark.parametrize("xs,ws,attrs", [
    ((1, 16, 20, 20), (16, 1, 3, 3), dict(group=16, pads=[1, 1, 1, 1])),
    ((1, 16, 20, 20), (16, 1, 3, 3), dict(group=16, pads=[1, 1, 1, 1], strides=[2, 2])),
    ((1, 8, 30, 30), (24, 2, 1, 1), dict(group=4)),                         # grouped 1x1
    ((1, 8, 30, 30), (12, 8, 1, 1), {}),
])
def test_fused_activation_vs_ort(act, xs, ws, attrs):
    model, feeds = _model(xs, ws, attrs, act=act)
    _check(model, feeds)


def test_fused_relu_keeps_nan_and_ints():
    from onnxrun.kernels.fused import _activation

    relu = _activation.make("Relu", [])
    y = relu(np.array([np.nan, -1.0, 0.0, 2.5, -np.inf, np.inf], np.float32))
    assert np.isnan(y[0]) and list(y[1:]) == [0, 0, 2.5, 0, np.inf]
    assert relu(np.array([-3, 4], np.int32)).tolist() == [0, 4]


@pytest.mark.parametrize("shape", [(1, 7, 40, 40), (2, 3, 30, 20), (1, 5, 7, 7), (1, 4, 100, 100),
                                   (1, 6, 600)])
def test_add_channel_bias(shape):
    from onnxrun.kernels.nn._conv_epilogue import add_channel_bias

    rng = np.random.default_rng(0)
    y = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(shape[1]).astype(np.float32)
    expect = y + b.reshape((-1,) + (1,) * (len(shape) - 2))
    before = np.getbufsize()
    out = add_channel_bias(y, b)
    assert out is y and np.getbufsize() == before
    np.testing.assert_array_equal(y, expect)


@pytest.mark.parametrize("dtype", [np.float16, np.float64])
@pytest.mark.parametrize("strides", [[1, 1], [2, 2]])
def test_depthwise_dtypes(dtype, strides):
    from onnx import helper as h

    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 10, 10))
    w = rng.standard_normal((6, 1, 3, 3))
    b = rng.standard_normal(6)
    tt = {np.float16: TensorProto.FLOAT16, np.float64: TensorProto.DOUBLE}[dtype]
    node = h.make_node("Conv", ["x", "w", "b"], ["y"], group=6, pads=[1, 1, 1, 1],
                       strides=strides)
    g = h.make_graph([node], "g", [h.make_tensor_value_info("x", tt, x.shape)],
                     [h.make_tensor_value_info("y", tt, None)],
                     [numpy_helper.from_array(w.astype(dtype), "w"),
                      numpy_helper.from_array(b.astype(dtype), "b")])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)], ir_version=8)
    y = onnxrun.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, {"x": x.astype(dtype)})[0]
    assert y.dtype == dtype
    # reference: direct sum over taps in float64
    xp = np.pad(x.astype(dtype).astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    s = strides[0]
    oh = (10 + 2 - 3) // s + 1
    ref = np.zeros((2, 6, oh, oh)) + b.astype(dtype).astype(np.float64)[:, None, None]
    wd = w.astype(dtype).astype(np.float64)
    for i in range(3):
        for j in range(3):
            ref += wd[:, 0, i, j][:, None, None] * xp[:, :, i:i + s * (oh - 1) + 1:s,
                                                     j:j + s * (oh - 1) + 1:s]
    tol = 2e-2 if dtype == np.float16 else 1e-10
    np.testing.assert_allclose(y.astype(np.float64), ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("strides", [[1, 1], [2, 2], [2, 1]])
def test_depthwise2d_non_contiguous_input(strides):
    from onnxrun.kernels.nn import _conv_depthwise as dwmod

    rng = np.random.default_rng(11)
    w = rng.standard_normal((6, 3, 3)).astype(np.float32)
    wm = dwmod.filters_with_bias(w, rng.standard_normal(6).astype(np.float32))
    base = rng.standard_normal((2, 8, 6, 8)).astype(np.float32)
    x = base.transpose(0, 3, 2, 1)[:, ::-1][:, :6]  # (2, 6, 6, 8), no unit stride anywhere
    oh = (6 + 2 - 3) // strides[0] + 1
    ow = (8 + 2 - 3) // strides[1] + 1
    args = ([3, 3], strides, [1, 1], [1, 1], [oh, ow])
    a = dwmod.depthwise2d(x, wm, *args)
    e = dwmod.depthwise2d(np.ascontiguousarray(x), wm, *args)
    np.testing.assert_array_equal(a, e)
