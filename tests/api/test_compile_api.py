"""ModelCompiler with no compiling provider: the model as optimized at the requested level,
initializers placed as asked, and onnxruntime's errors."""

import os

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

import onnxrun

from ._models import model, mul_model, vi


def casts_model():
    """Nine Casts, one of them to the type its input already has (BASIC removes it)."""
    nodes, prev = [], "X"
    for i, to in enumerate([T.INT32, T.FLOAT, T.INT64, T.FLOAT, T.FLOAT, T.INT8, T.FLOAT, T.UINT8,
                            T.FLOAT]):
        nodes.append(h.make_node("Cast", [prev], [f"c{i}"], to=to))
        prev = f"c{i}"
        if i == 4:
            nodes.append(h.make_node("Relu", [prev], ["r"]))
            prev = "r"
    nodes.append(h.make_node("Neg", [prev], ["Y"]))
    return model(nodes, [vi("X", T.FLOAT, [2, 3])], [vi("Y", T.FLOAT, [2, 3])])


@pytest.mark.parametrize("level,casts", [(None, 9), ("ORT_ENABLE_BASIC", 8)])
def test_compile_to_file_at_levels_like_onnxruntime(tmp_path, level, casts):
    src = casts_model().SerializeToString()
    for rt in (onnxrun, ort):
        kwargs = {} if level is None else {
            "graph_optimization_level": getattr(rt.GraphOptimizationLevel, level)}
        out = tmp_path / f"{rt.__name__}.onnx"
        rt.ModelCompiler(rt.SessionOptions(), src, **kwargs).compile_to_file(str(out))
        assert sum(n.op_type == "Cast" for n in onnx.load(str(out)).graph.node) == casts
        got = rt.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(
            None, {"X": np.array([[1.5, -2.5, 300], [0, 7.9, -1]], np.float32)})
        np.testing.assert_array_equal(got[0], ort.InferenceSession(src).run(
            None, {"X": np.array([[1.5, -2.5, 300], [0, 7.9, -1]], np.float32)})[0])


def test_compile_to_bytes_and_stream():
    src = mul_model().SerializeToString()
    data = onnxrun.ModelCompiler(onnxrun.SessionOptions(), src).compile_to_bytes()
    assert isinstance(data, bytes) and onnx.load_from_string(data).graph.node[0].op_type == "Mul"
    chunks = []
    onnxrun.ModelCompiler(onnxrun.SessionOptions(), src).compile_to_stream(chunks.append)
    assert b"".join(chunks) == data

    def fails(buffer):
        raise ValueError("My Python Error")
    with pytest.raises(onnxrun.Fail, match="ValueError: My Python Error"):
        onnxrun.ModelCompiler(onnxrun.SessionOptions(), src).compile_to_stream(fails)


def test_flags_give_onnxruntime_errors(tmp_path):
    src = mul_model().SerializeToString()
    out = tmp_path / "o.onnx"
    c = onnxrun.ModelCompiler(onnxrun.SessionOptions(), src,
                              flags=onnxrun.OrtCompileApiFlags.ERROR_IF_NO_NODES_COMPILED)
    with pytest.raises(onnxrun.Fail, match="Unable to compile any nodes"):
        c.compile_to_file(str(out))
    assert not out.exists()
    c = onnxrun.ModelCompiler(onnxrun.SessionOptions(), src,
                              flags=onnxrun.OrtCompileApiFlags.ERROR_IF_OUTPUT_FILE_EXISTS)
    c.compile_to_file(str(out))
    with pytest.raises(onnxrun.Fail, match="exists already"):
        c.compile_to_file(str(out))


def test_initializer_placement(tmp_path):
    w = numpy_helper.from_array(np.arange(64, dtype=np.float32).reshape(8, 8), "W")
    b = numpy_helper.from_array(np.ones(8, np.float32), "B")
    src = model([h.make_node("MatMul", ["X", "W"], ["m"]), h.make_node("Add", ["m", "B"], ["Y"])],
                [vi("X", T.FLOAT, [1, 8])], [vi("Y", T.FLOAT, [1, 8])], [w, b]).SerializeToString()
    seen = []
    ext = tmp_path / "weights.bin"
    with open(ext, "wb") as f:
        def place(name, value, info):
            seen.append((name, value.tensor_size_in_bytes(), info))
            if value.tensor_size_in_bytes() < 64:
                return None
            offset = f.tell()
            f.write(value.numpy().tobytes())
            return onnxrun.OrtExternalInitializerInfo("weights.bin", offset,
                                                      value.tensor_size_in_bytes())
        out = tmp_path / "placed.onnx"
        onnxrun.ModelCompiler(onnxrun.SessionOptions(), src,
                              get_initializer_location_func=place).compile_to_file(str(out))
    assert sorted(seen) == [("B", 32, None), ("W", 256, None)]
    x = np.ones((1, 8), np.float32)
    np.testing.assert_allclose(ort.InferenceSession(str(out)).run(None, {"X": x})[0],
                               x @ np.arange(64, dtype=np.float32).reshape(8, 8) + 1)
    out2 = tmp_path / "threshold.onnx"
    onnxrun.ModelCompiler(onnxrun.SessionOptions(), src, external_initializers_file_path="ext.bin",
                          external_initializers_size_threshold=100).compile_to_file(str(out2))
    assert os.path.getsize(tmp_path / "ext.bin") == 256
    np.testing.assert_allclose(onnxrun.InferenceSession(str(out2)).run(None, {"X": x})[0],
                               ort.InferenceSession(src).run(None, {"X": x})[0])
