"""Models whose dynamic sizes are written as a negative ``dim_value`` (PaddlePaddle exports write
-1 for the batch and image sizes, in inputs, value_info and outputs): onnxruntime accepts any size
there, and so must onnxrun, its command-line tools included."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import helper
from onnx import numpy_helper as nh

import onnxrun
from onnxrun.cli.main import main


def paddle_like() -> onnx.ModelProto:
    """Conv + Relu + Reshape(0, 8, -1), every dynamic size written as dim_value -1, opset 11."""
    rng = np.random.default_rng(0)
    inits = [nh.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32), "W"),
             nh.from_array(rng.standard_normal(8).astype(np.float32), "B"),
             nh.from_array(np.array([0, 8, -1], np.int64), "shape")]
    nodes = [helper.make_node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Reshape", ["r", "shape"], ["y"])]
    vi = [helper.make_tensor_value_info(n, T.FLOAT, [-1, 8, -1, -1]) for n in ("c", "r")]
    g = helper.make_graph(nodes, "paddle_like",
                          [helper.make_tensor_value_info("x", T.FLOAT, [-1, 3, -1, -1])],
                          [helper.make_tensor_value_info("y", T.FLOAT, [-1, 8, -1])],
                          inits, value_info=vi)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)])
    m.ir_version = 6
    return m


def test_negative_dims_accept_any_size():
    m = paddle_like().SerializeToString()
    ours = onnxrun.InferenceSession(m)
    theirs = ort.InferenceSession(m, providers=["CPUExecutionProvider"])
    assert [i.shape for i in ours.get_inputs()] == [i.shape for i in theirs.get_inputs()] \
        == [[None, 3, None, None]]
    assert ours.get_outputs()[0].shape == theirs.get_outputs()[0].shape == [None, 8, None]
    for shape in [(1, 3, 32, 100), (2, 3, 7, 5), (3, 3, 1, 1)]:
        x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
        (a,) = ours.run(None, {"x": x})
        (b,) = theirs.run(None, {"x": x})
        assert a.shape == b.shape == (shape[0], 8, shape[2] * shape[3])
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_fixed_dims_are_still_checked():
    m = paddle_like()
    m.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 3  # still fixed
    sess = onnxrun.InferenceSession(m.SerializeToString())
    with pytest.raises(onnxrun.InvalidArgument, match="index: 1 Got: 4 Expected: 3"):
        sess.run(None, {"x": np.zeros((1, 4, 5, 5), np.float32)})


@pytest.mark.parametrize("command", [["run"], ["compare", "--against", "onnxruntime"],
                                     ["compare", "--against", "onnxruntime", "--per-node"],
                                     ["profile", "--runs", "2"], ["info"]])
def test_cli_tools_make_inputs_for_negative_dims(tmp_path, capsys, command):
    path = tmp_path / "paddle_like.onnx"
    onnx.save(paddle_like(), str(path))
    assert main([command[0], str(path)] + command[1:]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "negative" not in out
