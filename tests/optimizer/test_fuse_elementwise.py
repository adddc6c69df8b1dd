"""Elementwise-chain fusion: which nodes become one ElementwiseChain, and numbers identical to
the unfused graph (the chain kernel runs the same NumPy ufuncs)."""

import numpy as np
import pytest
from onnx import TensorProto, helper

import onnxrun
from onnxrun.errors import InvalidArgument
from onnxrun.kernels import load_all
from onnxrun.kernels.fused.elementwise_chain import resolve_links

from .test_transformers import _model, vi

RNG = np.random.default_rng(1)
ALL = onnxrun.GraphOptimizationLevel.ORT_ENABLE_ALL
OFF = onnxrun.GraphOptimizationLevel.ORT_DISABLE_ALL


def _sessions(model):
    out = []
    for level in (ALL, OFF):
        so = onnxrun.SessionOptions()
        so.graph_optimization_level = level
        out.append(onnxrun.InferenceSession(model, so))
    return out


def _ops(sess):
    return [n.op_type for n in sess._core.graph.nodes]


def _same(model, feeds):
    opt, plain = _sessions(model)
    for a, b in zip(opt.run(None, feeds), plain.run(None, feeds)):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    return opt


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chain_of_binary_and_unary_ops_is_one_node(dtype):
    t = TensorProto.FLOAT if dtype == np.float32 else TensorProto.DOUBLE
    nodes = [helper.make_node("Add", ["x", "b"], ["a1"]),
             helper.make_node("Mul", ["s", "a1"], ["a2"]),      # running value on the right
             helper.make_node("Sub", ["b", "a2"], ["a3"]),      # non-commutative, swapped
             helper.make_node("Relu", ["a3"], ["a4"]),
             helper.make_node("Div", ["a4", "s"], ["a5"]),
             helper.make_node("Abs", ["a5"], ["a6"]),
             helper.make_node("Sqrt", ["a6"], ["a7"]),
             helper.make_node("Exp", ["a7"], ["a8"]),
             helper.make_node("Tanh", ["a8"], ["y"])]
    m = _model(nodes, [vi("x", [2, 3, 4], t), vi("b", [4], t), vi("s", [1], t)],
               [vi("y", [2, 3, 4], t)])
    feeds = {"x": RNG.standard_normal((2, 3, 4)).astype(dtype),
             "b": RNG.standard_normal(4).astype(dtype), "s": np.array([1.7], dtype)}
    opt = _same(m, feeds)
    assert _ops(opt) == ["ElementwiseChain"]


def test_operand_that_grows_the_running_value_is_not_written_in_place():
    # x [4] + b [3, 4] -> [3, 4]; then * c [2, 1, 4] grows it again to [2, 3, 4]
    nodes = [helper.make_node("Add", ["x", "b"], ["a1"]),
             helper.make_node("Mul", ["a1", "c"], ["a2"]),
             helper.make_node("Neg", ["a2"], ["y"])]
    m = _model(nodes, [vi("x", [4]), vi("b", [3, 4]), vi("c", [2, 1, 4])], [vi("y", None)])
    feeds = {"x": RNG.standard_normal(4).astype(np.float32),
             "b": RNG.standard_normal((3, 4)).astype(np.float32),
             "c": RNG.standard_normal((2, 1, 4)).astype(np.float32)}
    opt = _same(m, feeds)
    assert _ops(opt) == ["ElementwiseChain"]
    assert opt._core.graph.nodes[0].attrs["inplace"] == [0, 0, 1]


def test_unknown_shapes_fall_back_to_new_arrays():
    nodes = [helper.make_node("Add", ["x", "b"], ["a1"]),
             helper.make_node("Mul", ["a1", "c"], ["y"])]
    m = _model(nodes, [vi("x", ["n"]), vi("b", ["m", "n"]), vi("c", None)], [vi("y", None)])
    opt = _sessions(m)[0]
    assert opt._core.graph.nodes[0].attrs["inplace"] == [0, 0]
    feeds = {"x": RNG.standard_normal(4).astype(np.float32),
             "b": RNG.standard_normal((3, 4)).astype(np.float32),
             "c": RNG.standard_normal((5, 1, 1)).astype(np.float32)}
    assert _same(m, feeds).run(None, feeds)[0].shape == (5, 3, 4)


def test_chain_stops_at_fanout_graph_outputs_and_other_types():
    nodes = [helper.make_node("Add", ["x", "x"], ["a1"]),
             helper.make_node("Relu", ["a1"], ["a2"]),
             helper.make_node("Neg", ["a2"], ["mid"]),           # a graph output: ends a chain
             helper.make_node("Exp", ["mid"], ["e"]),
             helper.make_node("Abs", ["e"], ["y1"]),
             helper.make_node("Neg", ["e"], ["y2"]),               # e read twice: no chain
             helper.make_node("Cast", ["x"], ["xi"], to=TensorProto.INT32),
             helper.make_node("Add", ["xi", "xi"], ["i1"]),
             helper.make_node("Mul", ["i1", "xi"], ["yi"])]       # int32: not fused
    m = _model(nodes, [vi("x", [3])],
               [vi("mid", [3]), vi("y1", [3]), vi("y2", [3]), vi("yi", [3], TensorProto.INT32)])
    opt = _same(m, {"x": np.array([-1.5, 0.25, 2.0], np.float32)})
    assert _ops(opt) == ["ElementwiseChain", "Exp", "Abs", "Neg", "Cast", "Add", "Mul"]


def test_operands_produced_between_links_are_ready():
    # the Mul's operand is computed after the chain starts: the fused node must come after it
    nodes = [helper.make_node("Add", ["x", "x"], ["a1"]),
             helper.make_node("Exp", ["x"], ["late"]),
             helper.make_node("Sigmoid", ["late"], ["late2"]),
             helper.make_node("Mul", ["a1", "late2"], ["a2"]),
             helper.make_node("Relu", ["a2"], ["y"])]
    m = _model(nodes, [vi("x", [5])], [vi("y", [5])])
    opt = _same(m, {"x": RNG.standard_normal(5).astype(np.float32)})
    assert _ops(opt)[-1] == "ElementwiseChain"


def test_intermediates_stay_fetchable_by_name():
    nodes = [helper.make_node("Add", ["x", "x"], ["a1"]),
             helper.make_node("Relu", ["a1"], ["a2"]),
             helper.make_node("Neg", ["a2"], ["y"])]
    m = _model(nodes, [vi("x", [3])], [vi("y", [3])])
    opt, plain = _sessions(m)
    x = np.array([-1.0, 0.5, 2.0], np.float32)
    got = opt.run(["a2", "y"], {"x": x})
    want = plain.run(["a2", "y"], {"x": x})
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_chain_kernel_rejects_bad_attributes():
    load_all()
    with pytest.raises(InvalidArgument, match=r"link 1 \(Pow, version 15\) has no registered"):
        resolve_links(["Add", "Pow"], [14, 15], [1, 1], [0, 0], [0, 1], 2)
    with pytest.raises(InvalidArgument, match=r"reads input 5, expected an index in \[0, 2\)"):
        resolve_links(["Add"], [14], [5], [0], [0], 2)
    with pytest.raises(InvalidArgument, match="one length"):
        resolve_links(["Add", "Relu"], [14, 14], [1], [0], [0], 2)


def test_replaced_kernel_is_not_fused(monkeypatch):
    # a kernel registered without an in-place float form (e.g. a user's own) stays a node
    load_all()
    from onnxrun.kernels.registry import REGISTRY
    monkeypatch.setattr(REGISTRY.lookup("", "Tanh", 13), "float_out", None)
    nodes = [helper.make_node("Add", ["x", "x"], ["a1"]),
             helper.make_node("Tanh", ["a1"], ["a2"]),
             helper.make_node("Neg", ["a2"], ["y"])]
    m = _model(nodes, [vi("x", [3])], [vi("y", [3])])
    opt = _same(m, {"x": np.array([-1.0, 0.5, 2.0], np.float32)})
    assert _ops(opt) == ["Add", "Tanh", "Neg"]


def test_scalar_chain_returns_arrays():
    nodes = [helper.make_node("Sub", ["x", "y0"], ["a1"]),
             helper.make_node("Mul", ["a1", "y0"], ["a2"]),
             helper.make_node("Exp", ["a2"], ["y"])]
    m = _model(nodes, [vi("x", []), vi("y0", [])], [vi("y", [])])
    opt = _same(m, {"x": np.array(0.5, np.float32), "y0": np.array(2.0, np.float32)})
    assert _ops(opt) == ["ElementwiseChain"]


def test_chain_reading_its_own_input_again():
    # softsign x / (1 + |x|): the last link reads the chain's input
    nodes = [helper.make_node("Abs", ["x"], ["a1"]),
             helper.make_node("Add", ["a1", "one"], ["a2"]),
             helper.make_node("Div", ["x", "a2"], ["y"])]
    m = _model(nodes, [vi("x", [6])], [vi("y", [6])], [("one", np.array(1.0, np.float32))])
    opt = _same(m, {"x": RNG.standard_normal(6).astype(np.float32)})
    assert _ops(opt) == ["ElementwiseChain"]
