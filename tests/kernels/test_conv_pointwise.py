"""1x1 convs: the bias-folded weights are built only when the input shape (known at init) makes
the fold pay, and results match onnxruntime either way."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxrun
from onnxrun.kernels.nn import conv as conv_mod

ort = pytest.importorskip("onnxruntime")


def _model(xs, ws, static=True, group=1):
    rng = np.random.default_rng(5)
    w = rng.standard_normal(ws).astype(np.float32)
    b = rng.standard_normal(ws[0]).astype(np.float32)
    shape = xs if static else [xs[0], xs[1], "h", "w"]
    g = helper.make_graph(
        [helper.make_node("Conv", ["x", "w", "b"], ["y"], group=group)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    return m.SerializeToString(), {"x": rng.standard_normal(xs).astype(np.float32)}


@pytest.mark.parametrize("xs,ws,static,folded", [
    ((1, 8, 7, 7), (32, 8, 1, 1), True, False),      # few outputs: bias added afterwards
    ((1, 8, 48, 50), (32, 8, 1, 1), True, True),     # many outputs: bias in the GEMM
    ((1, 8, 7, 7), (32, 8, 1, 1), False, True),      # shape unknown at init: ready to fold
    ((1, 32, 48, 50), (8, 32, 1, 1), True, False),   # fewer outputs than inputs: never folds
])
def test_pointwise_fold_decided_at_init(monkeypatch, xs, ws, static, folded):
    built = []
    orig = conv_mod._with_bias_column

    def spy(wmat, bias):
        built.append(wmat.shape)
        return orig(wmat, bias)

    monkeypatch.setattr(conv_mod, "_with_bias_column", spy)
    model, feeds = _model(xs, ws, static)
    sess = onnxrun.InferenceSession(model)
    assert bool(built) == folded
    a = sess.run(None, feeds)[0]
    e = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4)


def test_grouped_pointwise_vs_ort():
    for xs, ws in (((1, 24, 30, 30), (112, 6, 1, 1)), ((2, 16, 9, 9), (16, 4, 1, 1))):
        model, feeds = _model(xs, ws, group=4)
        a = onnxrun.InferenceSession(model).run(None, feeds)[0]
        e = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, feeds)[0]
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4)
