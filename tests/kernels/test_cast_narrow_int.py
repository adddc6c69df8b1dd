"""Cast to INT4 / UINT4 / INT2 / UINT2 by onnxrun's own rule (kernels/math/_cast_impl.py):
round half to even, keep the low bits, NaN/inf -> 0. Expected values are written out here, so
the tests mean the same whatever ml_dtypes is installed (0.5 keeps low bits, 0.7 gives 0 for
out-of-range values); where onnxruntime computes the same thing (every value but exact halves)
it is the oracle too."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import helper

import onnxrun

X = np.array([-20, -17, -16.5, -9, -8.5, -8, -7.5, -1.5, -0.5, 0.5, 1.5, 2.5, 7, 7.5, 8, 8.5,
              15, 15.5, 16, 17, 20, 31, 33, 0.7, -0.7, 1e30, -1e30, np.nan, np.inf, -np.inf],
             np.float32)
# written out by hand: rint (ties to even), then the low bits in two's complement
EXPECTED = {
    T.INT4: [-4, -1, 0, 7, -8, -8, -8, -2, 0, 0, 2, 2, 7, -8, -8, -8,
             -1, 0, 0, 1, 4, -1, 1, 1, -1, 0, 0, 0, 0, 0],
    T.UINT4: [12, 15, 0, 7, 8, 8, 8, 14, 0, 0, 2, 2, 7, 8, 8, 8,
              15, 0, 0, 1, 4, 15, 1, 1, 15, 0, 0, 0, 0, 0],
    T.INT2: [0, -1, 0, -1, 0, 0, 0, -2, 0, 0, -2, -2, -1, 0, 0, 0,
             -1, 0, 0, 1, 0, -1, 1, 1, -1, 0, 0, 0, 0, 0],
    T.UINT2: [0, 3, 0, 3, 0, 0, 0, 2, 0, 0, 2, 2, 3, 0, 0, 0,
              3, 0, 0, 1, 0, 3, 1, 1, 3, 0, 0, 0, 0, 0],
}
NARROW = {T.INT4: ml_dtypes.int4, T.UINT4: ml_dtypes.uint4,
          T.INT2: ml_dtypes.int2, T.UINT2: ml_dtypes.uint2}


def _model(src, to, opset=25, widen=False):
    """Cast src -> to (and on to INT8 when ``widen``: onnxruntime returns no 4-bit arrays)."""
    nodes = [helper.make_node("Cast", ["x"], ["t" if widen else "y"], to=to)]
    out = to
    if widen:
        nodes.append(helper.make_node("Cast", ["t"], ["y"], to=T.INT8))
        out = T.INT8
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", src, [None])],
                          [helper.make_tensor_value_info("y", out, [None])])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=11)


@pytest.mark.parametrize("to", list(EXPECTED))
@pytest.mark.parametrize("src", [T.FLOAT, T.FLOAT16, T.DOUBLE])
def test_float_to_narrow_int_rule(src, to):
    dt = {T.FLOAT: np.float32, T.FLOAT16: np.float16, T.DOUBLE: np.float64}[src]
    with np.errstate(over="ignore"):
        x = X.astype(dt)  # +-1e30 is +-inf in float16: 0 either way
    want = np.array(EXPECTED[to], np.int8)
    (y,) = onnxrun.InferenceSession(_model(src, to).SerializeToString()).run(None, {"x": x})
    assert y.dtype == np.dtype(NARROW[to])
    np.testing.assert_array_equal(y.astype(np.int8), want)


@pytest.mark.parametrize("to", list(EXPECTED))
def test_castlike_uses_the_same_rule(to):
    target = np.zeros(1, NARROW[to])
    g = helper.make_graph(
        [helper.make_node("CastLike", ["x", "t"], ["y"])], "g",
        [helper.make_tensor_value_info("x", T.FLOAT, [None]),
         helper.make_tensor_value_info("t", to, [1])],
        [helper.make_tensor_value_info("y", to, [None])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 25)], ir_version=11)
    (y,) = onnxrun.InferenceSession(m.SerializeToString()).run(None, {"x": X, "t": target})
    np.testing.assert_array_equal(y.astype(np.int8), np.array(EXPECTED[to], np.int8))


@pytest.mark.parametrize("to,opset", [(T.INT4, 21), (T.UINT4, 21), (T.INT4, 25),
                                      (T.UINT4, 25), (T.INT2, 25), (T.UINT2, 25)])
def test_matches_onnxruntime_away_from_ties(to, opset):
    """onnxruntime rounds exact halves away from zero; everywhere else it agrees."""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(4000) * 40).astype(np.float32)
    x = x[np.abs(x - np.trunc(x)) != 0.5]
    x = np.concatenate([x, np.arange(-40, 41, dtype=np.float32)])
    m = _model(T.FLOAT, to, opset, widen=True).SerializeToString()
    ours = onnxrun.InferenceSession(m).run(None, {"x": x})[0]
    theirs = ort.InferenceSession(m, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("to", list(EXPECTED))
def test_integers_keep_low_bits(to):
    x = np.arange(-40, 41, dtype=np.int32)
    (y,) = onnxrun.InferenceSession(_model(T.INT32, to).SerializeToString()).run(None, {"x": x})
    bits = 4 if to in (T.INT4, T.UINT4) else 2
    low = x & ((1 << bits) - 1)
    if to in (T.INT4, T.INT2):
        low = np.where(low >= 1 << (bits - 1), low - (1 << bits), low)
    np.testing.assert_array_equal(y.astype(np.int32), low)
