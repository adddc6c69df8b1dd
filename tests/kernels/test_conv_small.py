"""Small convs (kernels/nn/_conv_small.py): one gather and one GEMM per run, planned per input
shape. Compared with onnxruntime and with the general path (the small path turned off)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxrun
from onnxrun.errors import InvalidArgument
from onnxrun.kernels.nn import _conv_small

ort = pytest.importorskip("onnxruntime")

RNG = np.random.default_rng(11)
_ELEM = {np.float16: TensorProto.FLOAT16, np.float32: TensorProto.FLOAT,
         np.float64: TensorProto.DOUBLE}


def _model(ws, attrs, dtype=np.float32, bias="const"):
    """A one-Conv model with constant W; ``bias``: "const", "input" (fed) or "none"."""
    elem = _ELEM[dtype]
    w = RNG.standard_normal(ws).astype(dtype)
    inits = [numpy_helper.from_array(w, "w")]
    inputs = [helper.make_tensor_value_info("x", elem, None)]
    names = ["x", "w"]
    b = RNG.standard_normal(ws[0]).astype(dtype)
    if bias != "none":
        names.append("b")
        if bias == "const":
            inits.append(numpy_helper.from_array(b, "b"))
        else:
            inputs.append(helper.make_tensor_value_info("b", elem, None))
    g = helper.make_graph([helper.make_node("Conv", names, ["y"], **attrs)], "g", inputs,
                          [helper.make_tensor_value_info("y", elem, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    return m.SerializeToString(), ({"b": b} if bias == "input" else {})


def _conv_kernel(sess):
    return sess._core.plan.steps[0].fn


CASES = [
    # (x shape, w shape, attrs)
    ((1, 129, 3), (128, 129, 3), dict(pads=[1, 1])),                       # VAD encoder
    ((1, 128, 3), (64, 128, 3), dict(pads=[1, 1], strides=[2])),
    ((1, 1, 576), (258, 1, 256), dict(strides=[128])),                     # STFT basis
    ((1, 128, 1), (1, 128, 1), {}),                                        # 1x1 decoder
    ((2, 6, 7), (4, 3, 3), dict(group=2, pads=[2, 1], dilations=[2])),     # grouped, batch 2
    ((3, 4, 5, 6), (5, 4, 3, 2), dict(strides=[2, 1], pads=[1, 0, 0, 1])),
    ((1, 4, 5, 5), (6, 4, 3, 3), dict(auto_pad="SAME_LOWER", strides=[2, 2])),
    ((2, 4, 4, 4), (6, 2, 1, 1), dict(group=2, strides=[2, 2], pads=[1, 1, 0, 0])),  # 1x1
    ((1, 2, 3, 4, 5), (3, 2, 2, 3, 2), dict(pads=[1, 0, 1, 0, 1, 1])),     # 3-D
    ((1, 3, 2, 2), (4, 3, 3, 3), dict(pads=[2, 2, 2, 2], dilations=[2, 2])),  # mostly padding
]


@pytest.mark.parametrize("xs,ws,attrs", CASES)
@pytest.mark.parametrize("bias", ["const", "input", "none"])
def test_small_conv_vs_ort(xs, ws, attrs, bias):
    model, feeds = _model(ws, attrs, bias=bias)
    feeds["x"] = RNG.standard_normal(xs).astype(np.float32)
    sess = onnxrun.InferenceSession(model)
    a = sess.run(None, feeds)[0]
    assert any(g[-1] is not None for g in _conv_kernel(sess)._geometry.values())
    e = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    assert a.dtype == e.dtype and a.shape == e.shape
    np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float16, np.float64])
def test_small_conv_keeps_dtype_and_matches_general_path(monkeypatch, dtype):
    model, feeds = _model((8, 5, 3), dict(pads=[1, 1]), dtype=dtype)
    feeds["x"] = RNG.standard_normal((2, 5, 4)).astype(dtype)
    a = onnxrun.InferenceSession(model).run(None, feeds)[0]
    monkeypatch.setattr(_conv_small, "MAX_COLS", 0)
    e = onnxrun.InferenceSession(model).run(None, feeds)[0]
    assert a.dtype == e.dtype == dtype and a.shape == e.shape
    if dtype == np.float64:  # the same GEMM on the same operands
        np.testing.assert_array_equal(a, e)
    else:
        np.testing.assert_allclose(a.astype(np.float32), e.astype(np.float32), rtol=2e-3,
                                   atol=2e-3)


def test_small_conv_plans_per_input_shape():
    """One session, several shapes (small, large, small again): each gets its own plan and
    the large one takes the general path."""
    model, feeds = _model((6, 4, 3), dict(pads=[1, 1], strides=[2]))
    ours = onnxrun.InferenceSession(model)
    theirs = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    for shape in [(1, 4, 9), (2, 4, 5), (1, 4, 9000), (1, 4, 9), (3, 4, 1)]:
        x = RNG.standard_normal(shape).astype(np.float32)
        a = ours.run(None, {"x": x})[0]
        e = theirs.run(None, {"x": x})[0]
        assert a.shape == e.shape
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4)
    plans = {key[0]: geo[-1] for key, geo in _conv_kernel(ours)._geometry.items()}
    assert plans[(1, 4, 9000)] is None
    assert all(plans[s] is not None for s in [(1, 4, 9), (2, 4, 5), (3, 4, 1)])


def test_small_conv_plans_at_most_max_shapes(monkeypatch):
    monkeypatch.setattr(_conv_small, "MAX_SHAPES", 2)
    model, _ = _model((3, 2, 3), dict(pads=[1, 1]))
    sess = onnxrun.InferenceSession(model)
    for n in range(3, 7):
        sess.run(None, {"x": RNG.standard_normal((1, 2, n)).astype(np.float32)})
    plans = [geo[-1] for geo in _conv_kernel(sess)._geometry.values()]
    assert len(plans) == 4 and sum(p is not None for p in plans) == 2


def test_small_conv_bad_bias_and_channels_raise():
    model, feeds = _model((4, 3, 3), {}, bias="input")
    sess = onnxrun.InferenceSession(model)
    x = RNG.standard_normal((1, 3, 5)).astype(np.float32)
    sess.run(None, {"x": x, "b": feeds["b"]})
    with pytest.raises(InvalidArgument, match="B must"):
        sess.run(None, {"x": x, "b": feeds["b"][:2]})
    with pytest.raises(InvalidArgument,
                       match="channels"):
        sess.run(None, {"x": x[:, :2], "b": feeds["b"]})
