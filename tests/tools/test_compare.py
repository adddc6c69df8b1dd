"""compare_with_onnxruntime: outputs, and the first diverging node of a wrong kernel."""

import numpy as np
import pytest

from onnxrun.kernels import REGISTRY, load_all
from onnxrun.tools.compare import compare_values, compare_with_onnxruntime

from .models import chain, conv_relu

pytest.importorskip("onnxruntime")


@pytest.fixture
def wrong_tanh(monkeypatch):
    """Make onnxrun's Tanh kernel 1% off (for the sessions created in the test)."""
    load_all()
    kdef = REGISTRY.lookup("", "Tanh", 13)
    monkeypatch.setattr(kdef, "factory", lambda info: (lambda x: np.tanh(x) * np.float32(1.01)))
    # no longer np.tanh, so the elementwise-chain fusion must not stand in for it
    monkeypatch.setattr(kdef, "float_out", None)


def test_outputs_match():
    r = compare_with_onnxruntime(conv_relu(), dims={"N": 2})
    assert r.ok and [d.name for d in r.outputs] == ["y"]
    assert r.outputs[0].shape == (2, 4, 8, 8) and r.outputs[0].max_abs < 1e-5
    assert "MATCH" in r.report()


def test_per_node_all_match_with_given_feeds():
    x = np.linspace(-2, 2, 8, dtype=np.float32).reshape(2, 4)
    r = compare_with_onnxruntime(chain(), feeds={"x": x}, per_node=True, chunk_size=2)
    assert r.ok and r.first_divergence is None and r.nodes_checked == 5


def test_per_node_finds_first_diverging_node(wrong_tanh):
    seen = []
    r = compare_with_onnxruntime(chain(), per_node=True, dims={"N": 3}, chunk_size=2,
                                 progress=lambda done, total: seen.append((done, total)))
    assert not r.ok
    assert not r.outputs[0].ok and not r.outputs[1].ok
    div = r.first_divergence
    assert div is not None and div.node_name == "tanh" and div.op_type == "Tanh"
    assert div.index == 1 and div.output_name == "t"
    (inp,) = div.inputs
    assert inp.name == "a" and inp.ok and inp.max_abs_diff == 0 and inp.shape == (3, 4)
    (out,) = div.outputs
    assert out.name == "t" and not out.ok and out.max_abs_diff > 1e-3
    assert out.min is not None and out.max >= out.mean >= out.min
    text = r.report()
    assert "first diverging node" in text and "'tanh'" in text and "DIFFERENT" in text
    assert seen == []  # stopped in the first chunk


def test_compare_values_rules():
    a = np.array([1.0, np.nan, np.inf], np.float32)
    assert compare_values("v", a, a.copy(), 1e-4, 1e-5).ok
    assert not compare_values("v", a, np.array([1.0, 0, np.inf], np.float32), 1e-4, 1e-5).ok
    assert compare_values("v", a[:1], np.array([1.00001], np.float32), 1e-4, 1e-5).ok
    d = compare_values("v", np.zeros(2, np.int64), np.zeros(3, np.int64), 0, 0)
    assert not d.ok and "shape" in d.reason
    assert not compare_values("v", np.array([1, 2]), np.array([1, 3]), 1, 1).ok
    assert compare_values("s", np.array(["a"], object), np.array(["a"], object), 0, 0).ok
    assert compare_values("q", [np.ones(2)], [np.ones(2)], 0, 0).ok


def test_newer_ir_version_than_onnxruntime_reads():
    from onnx import TensorProto as T
    from onnx import helper as h
    g = h.make_graph([h.make_node("Relu", ["x"], ["y"])], "g",
                     [h.make_tensor_value_info("x", T.FLOAT, [2])],
                     [h.make_tensor_value_info("y", T.FLOAT, [2])])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 21)])
    assert compare_with_onnxruntime(m).ok


def test_onnxruntime_failure_is_an_onnxrun_error():
    import onnxrun
    from onnx import TensorProto as T
    from onnx import helper as h

    @onnxrun.custom_op("com.example.only.onnxrun", "Twice")
    def twice(x):
        return x * 2
    try:
        g = h.make_graph([h.make_node("Twice", ["x"], ["y"], domain="com.example.only.onnxrun")],
                         "g", [h.make_tensor_value_info("x", T.FLOAT, [2])],
                         [h.make_tensor_value_info("y", T.FLOAT, [2])])
        m = h.make_model(g, opset_imports=[h.make_opsetid("", 17),
                                           h.make_opsetid("com.example.only.onnxrun", 1)],
                         ir_version=8)
        with pytest.raises(onnxrun.Fail, match="onnxruntime could not"):
            compare_with_onnxruntime(m)
    finally:
        from onnxrun.tools.custom_ops import remove_custom_op
        remove_custom_op("com.example.only.onnxrun", "Twice")
