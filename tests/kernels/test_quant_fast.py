"""The fast paths of the quantization kernels against the general formulas and onnxruntime:
blocked per-tensor Quantize/DequantizeLinear (rounding ties, saturation, NaN, infinities, zero
scales, 0-d, empty, non-contiguous and multi-threaded inputs)."""

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxrun

ort = pytest.importorskip("onnxruntime")
RNG = np.random.default_rng(11)
CPU = ["CPUExecutionProvider"]


def _c(name, value, dtype=None):
    return numpy_helper.from_array(np.array(value, dtype), name)


def _model(nodes, inputs, outputs, inits=(), opset=21):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                             ir_version=10).SerializeToString()


def _run(model, feeds, threads=1, providers=None):
    so = onnxrun.SessionOptions()
    so.intra_op_num_threads = threads
    return onnxrun.InferenceSession(model, so, providers=providers).run(None, feeds)


def _quantize_ref(x, s, z, dt):
    """QuantizeLinear's formula: float32 x / s, round half to even, + z, saturate, NaN ->
    the type's minimum."""
    info = np.iinfo(dt)
    with np.errstate(all="ignore"):
        q = np.rint(x / np.float32(s)) + np.float32(z)
    return np.minimum(np.fmax(q, info.min), info.max).astype(dt)


@pytest.mark.parametrize("dt,z", [(np.uint8, 128), (np.int8, -7), (np.int16, 300),
                                  (np.uint16, 0)])
@pytest.mark.parametrize("scale", [0.037, 0.0, -0.5, np.inf])
def test_quantize_and_dequantize_per_tensor(dt, z, scale):
    x = (RNG.standard_normal(5000) * 300).astype(np.float32)
    x[:8] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 3e38, -3e38, 1e-30]
    x[8:200] = (np.arange(-96, 96) + 0.5) * np.float32(0.037)  # ties
    f = helper.make_tensor_value_info
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dt))
    inits = [_c("s", scale, np.float32), _c("z", z, dt)]
    q = _model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"])],
               [f("x", TensorProto.FLOAT, None)], [f("y", elem, None)], inits)
    for xx in (x, x.reshape(50, 100)[:, ::3], np.float32(x[0]), x[:0]):  # strided, 0-d, empty
        xx = np.asarray(xx)
        got = _run(q, {"x": xx})[0]
        assert got.dtype == dt and got.shape == xx.shape
        np.testing.assert_array_equal(got, _quantize_ref(xx, scale, z, dt))
    if scale == 0.037:
        np.testing.assert_array_equal(
            _run(q, {"x": x})[0],
            ort.InferenceSession(q, providers=CPU).run(None, {"x": x})[0])
        codes = np.arange(np.iinfo(dt).min, np.iinfo(dt).max + 1).astype(dt)  # every code
        d = _model([helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"])],
                   [f("q", elem, None)], [f("y", TensorProto.FLOAT, None)], inits)
        got = _run(d, {"q": codes})[0]
        want = (codes.astype(np.float32) - np.float32(z)) * np.float32(scale)
        assert got.tobytes() == want.tobytes()
        np.testing.assert_array_equal(
            got, ort.InferenceSession(d, providers=CPU).run(None, {"q": codes})[0])


def test_large_tensors_split_over_threads_give_the_same_bits():
    x = (RNG.standard_normal((3, 1000, 300)) * 4).astype(np.float32)
    f = helper.make_tensor_value_info
    m = _model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
                helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"])],
               [f("x", TensorProto.FLOAT, None)],
               [f("y", TensorProto.FLOAT, None), f("q", TensorProto.INT8, None)],
               [_c("s", 0.02, np.float32), _c("z", 3, np.int8)])
    one, two = _run(m, {"x": x}, 1), _run(m, {"x": x}, 2)
    np.testing.assert_array_equal(one[1], _quantize_ref(x, 0.02, 3, np.int8))
    for a, b in zip(one, two):
        assert a.tobytes() == b.tobytes()
