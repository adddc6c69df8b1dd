"""Unit tests of the reduction kernels (Reduce*, ArgMax/ArgMin): every op against
onnxruntime on random inputs, axes as attribute and as input, keepdims, noop_with_empty_axes,
empty-set reductions and float16 accumulation."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto

from onnxrun.errors import InvalidArgument

from .test_tensor import check, make_model, ours, run

REDUCE_OPS = ["ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax",
              "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare"]
RNG = np.random.default_rng(1)


def _x(op, shape=(3, 4, 5), dtype=np.float32):
    x = RNG.standard_normal(shape).astype(dtype)
    if op == "ReduceLogSum":
        x = np.abs(x) + np.asarray(0.1, dtype)
    return x


@pytest.mark.parametrize("op", REDUCE_OPS)
@pytest.mark.parametrize("keepdims", [0, 1])
def test_reduce_axes_input(op, keepdims):
    x = _x(op)
    check(op, [("x", x), ("a", np.array([0, -1], np.int64))], {"keepdims": keepdims},
          opset=18)
    check(op, [("x", x)], {"keepdims": keepdims}, opset=18)


@pytest.mark.parametrize("op", REDUCE_OPS)
def test_reduce_axes_attribute(op):
    x = _x(op)
    check(op, [("x", x)], {"axes": [1], "keepdims": 0}, opset=11)
    check(op, [("x", x)], {"keepdims": 1}, opset=11)


@pytest.mark.parametrize("op", REDUCE_OPS)
def test_reduce_noop_with_empty_axes(op):
    x = _x(op)
    (y,) = run(op, [("x", x), ("a", np.zeros(0, np.int64))], {"noop_with_empty_axes": 1},
               opset=18)
    np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize("op,expect", [
    ("ReduceSum", 0.0), ("ReduceProd", 1.0), ("ReduceMax", -np.inf), ("ReduceMin", np.inf),
    ("ReduceLogSumExp", -np.inf), ("ReduceLogSum", -np.inf), ("ReduceL1", 0.0),
    ("ReduceL2", 0.0), ("ReduceSumSquare", 0.0)])
def test_reduce_empty_set(op, expect):
    x = np.zeros((2, 0, 4), np.float32)
    (y,) = run(op, [("x", x), ("a", np.array([1], np.int64))], {"keepdims": 1}, opset=18)
    assert y.shape == (2, 1, 4) and y.dtype == np.float32
    assert np.all(y == expect)


def test_reduce_int_dtypes_kept():
    x = RNG.integers(-50, 50, size=(4, 6)).astype(np.int32)
    for op in ("ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSumSquare",
               "ReduceL1"):
        check(op, [("x", x), ("a", np.array([1], np.int64))], opset=18)
    (y,) = run("ReduceMax", [("x", np.zeros((0, 3), np.int32)),
                             ("a", np.array([0], np.int64))], opset=18)
    assert y.dtype == np.int32 and np.all(y == np.iinfo(np.int32).min)


def test_reduce_mean_float16_accumulates():
    x = np.full((1, 70000), 1.0, np.float16)
    (y,) = run("ReduceMean", [("x", x)], opset=18)
    assert y.dtype == np.float16 and float(y.reshape(-1)[0]) == 1.0
    (y,) = run("ReduceSum", [("x", np.full(4096, 1.0, np.float16))], opset=13)
    assert float(y.reshape(-1)[0]) == 4096.0


def test_reduce_bad_axis_raises():
    with pytest.raises(InvalidArgument):
        run("ReduceSum", [("x", _x("ReduceSum")), ("a", np.array([3], np.int64))], opset=13)


def test_logsumexp_large_values_stable():
    x = np.array([[1000.0, 1000.0], [-np.inf, -np.inf]], np.float32)
    (y,) = run("ReduceLogSumExp", [("x", x), ("a", np.array([1], np.int64))],
               {"keepdims": 0}, opset=18)
    np.testing.assert_allclose(y[0], 1000.0 + np.log(2.0), rtol=1e-6)
    assert y[1] == -np.inf


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
@pytest.mark.parametrize("last", [0, 1])
def test_argmax_argmin(op, last):
    x = RNG.integers(0, 3, size=(4, 6)).astype(np.float32)
    for axis in (0, -1):
        for kd in (0, 1):
            check(op, [("x", x)], {"axis": axis, "keepdims": kd, "select_last_index": last},
                  out_types=[TensorProto.INT64], opset=13)


def test_argmax_empty_axis_raises():
    m = make_model("ArgMax", [("x", np.zeros((0, 3), np.float32))], {"axis": 0},
                   out_types=[TensorProto.INT64], opset=13)
    with pytest.raises(InvalidArgument):
        ours(m, [("x", np.zeros((0, 3), np.float32))])


def test_reduce_mean_empty_is_nan_and_int_truncates():
    (y,) = run("ReduceMean", [("x", np.zeros((2, 0), np.float32)),
                              ("a", np.array([1], np.int64))], opset=18)
    assert y.shape == (2, 1) and np.isnan(y).all()
    x = np.array([[-2, -1, 0], [1, 2, 4]], np.int32)
    (y,) = check("ReduceMean", [("x", x), ("a", np.array([1], np.int64))], opset=18)
    assert y.ravel().tolist() == [-1, 2]


def _session_dynamic(op, x, attrs, consts=(), opset=18):
    """A one-node session whose input has symbolic dims (one node, several input shapes)."""
    import onnxrun
    m = make_model(op, [("x", x)], attrs, opset=opset, consts=consts)
    for d in m.graph.input[0].type.tensor_type.shape.dim:
        d.dim_param = "n"
    return onnxrun.InferenceSession(m.SerializeToString())


@pytest.mark.parametrize("op", REDUCE_OPS)
@pytest.mark.parametrize("axes_as", ["attribute", "constant input"])
def test_reduce_constant_axes_plans_per_shape(op, axes_as):
    """Constant axes: normalized once per input shape (a one-element reduction over kept
    axes of size 1 is a copy for Sum/Mean/Max/Min/Prod); every shape matches onnxruntime."""
    from .test_tensor import theirs
    if axes_as == "attribute":
        kw = dict(attrs={"axes": [-1], "keepdims": 1}, opset=11)
    else:
        kw = dict(attrs={"keepdims": 1}, consts=[("a", np.array([-1], np.int64))], opset=18)
    sess = _session_dynamic(op, _x(op, (2, 3)), **kw)
    for shape in [(2, 3), (4, 1), (2, 3), (1, 1), (3, 0)]:
        if shape == (3, 0) and op == "ReduceMean":
            continue  # the mean of an empty set: NaN here, 0 in onnxruntime (as before)
        x = _x(op, shape)
        if x.size and op != "ReduceLogSum":
            x[0, 0] = np.nan
        m = make_model(op, [("x", x)], **kw)
        (e,) = theirs(m, [("x", x)])
        for _ in range(2):  # the first run of a shape records its plan, the second uses it
            (y,) = sess.run(None, {"x": x})
            assert y.dtype == e.dtype and y.shape == e.shape
            np.testing.assert_allclose(y, e, rtol=1e-5, atol=1e-6)
            assert not np.shares_memory(y, x)


def test_reduce_one_element_copy_float16_and_scalar():
    x = RNG.standard_normal((3, 1)).astype(np.float16)
    sess = _session_dynamic("ReduceMean", x, {"axes": [1], "keepdims": 1}, opset=13)
    for _ in range(2):
        (y,) = sess.run(None, {"x": x})
        assert y.dtype == np.float16
        np.testing.assert_array_equal(y, x)
    # a scalar: no axes to reduce; LogSum still takes the log (not a copy)
    (y,) = run("ReduceLogSum", [("x", np.array(2.0, np.float32))], {"keepdims": 1}, opset=18)
    np.testing.assert_allclose(y, np.log(2.0), rtol=1e-6)


def test_reduce_constant_axes_out_of_range_raises_each_time():
    sess = _session_dynamic("ReduceSum", _x("ReduceSum", (2, 3)), {"keepdims": 1},
                            consts=[("a", np.array([2], np.int64))])
    for _ in range(2):
        with pytest.raises(InvalidArgument, match="out of range"):
            sess.run(None, {"x": _x("ReduceSum", (2, 3))})
