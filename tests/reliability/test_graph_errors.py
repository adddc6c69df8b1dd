"""Malformed graphs: a clear error of onnxrun's classes (never a raw Python exception)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import AttributeProto, TensorProto, helper, numpy_helper

import onnxrun
from onnxrun.errors import Fail, InvalidGraph, OnnxRuntimeError

from ._util import (F, I64, const_i64, make_model, needs, ort_error, ort_session, raw_tensor,
                    session, vi)

X23 = vi("X", shape=[2, 3])
Y23 = vi("Y", shape=[2, 3])


def _dangling():
    return make_model([helper.make_node("Add", ["X", "Z"], ["Y"], name="a")], [X23], [Y23])


def _cycle():
    return make_model([helper.make_node("Add", ["X", "B"], ["A"], name="a"),
                       helper.make_node("Relu", ["A"], ["B"], name="r"),
                       helper.make_node("Identity", ["A"], ["Y"], name="i")], [X23], [Y23])


def _self_loop():
    return make_model([helper.make_node("Add", ["X", "A"], ["A"], name="a"),
                       helper.make_node("Identity", ["A"], ["Y"], name="i")], [X23], [Y23])


def _unknown_op():
    return make_model([helper.make_node("Frobnicate", ["X"], ["Y"], name="f")], [X23], [Y23])


def _unknown_domain():
    return make_model([helper.make_node("Frobnicate", ["X"], ["Y"], name="f", domain="com.evil")],
                      [X23], [Y23], extra_opsets=[("com.evil", 1)])


def _unknown_domain_no_opset():
    return make_model([helper.make_node("Frobnicate", ["X"], ["Y"], name="f", domain="com.evil")],
                      [X23], [Y23])


def _new_opset():
    return make_model([helper.make_node("Relu", ["X"], ["Y"], name="r")], [X23], [Y23], opset=99)


def _raw_mismatch():
    return make_model([helper.make_node("Add", ["X", "W"], ["Y"], name="a")], [X23], [Y23],
                      [raw_tensor("W", F, [2, 3], b"\0" * 10)])


def _typed_mismatch():
    t = helper.make_tensor("W", F, [5], [1.0] * 5)
    t.dims[:] = [2, 3]
    return make_model([helper.make_node("Add", ["X", "W"], ["Y"], name="a")], [X23], [Y23], [t])


def _constant_raw_mismatch():
    c = helper.make_node("Constant", [], ["W"], name="c",
                         value=raw_tensor("v", F, [2, 3], b"\0" * 7))
    return make_model([c, helper.make_node("Add", ["X", "W"], ["Y"], name="a")], [X23], [Y23])


def _subgraph_raw_mismatch():
    then = helper.make_graph([helper.make_node("Add", ["X", "W"], ["T"])], "then", [],
                             [vi("T", shape=[2, 3])], [raw_tensor("W", F, [2, 3], b"\0" * 5)])
    other = helper.make_graph([helper.make_node("Identity", ["X"], ["E"])], "else", [],
                              [vi("E", shape=[2, 3])])
    node = helper.make_node("If", ["C"], ["Y"], name="if", then_branch=then, else_branch=other)
    return make_model([node], [X23, vi("C", TensorProto.BOOL, [])], [Y23])


def _duplicate_output():
    return make_model([helper.make_node("Relu", ["X"], ["Y"], name="r1"),
                       helper.make_node("Relu", ["X"], ["Y"], name="r2")], [X23], [Y23])


def _duplicate_graph_input():
    return make_model([helper.make_node("Add", ["X", "X"], ["Y"], name="a")], [X23, X23], [Y23])


def _output_named_like_input():
    return make_model([helper.make_node("Relu", ["X"], ["X"], name="r")], [X23], [X23])


def _output_not_produced():
    return make_model([helper.make_node("Relu", ["X"], ["A"], name="r")], [X23], [Y23])


# (model, onnxrun class expected, substring of the message); the classes are compared with
# onnxruntime's below.
CASES = {
    "dangling_input": (_dangling, OnnxRuntimeError,
                       "'Z' is not a graph input, initializer, or output of a previous node"),
    "cycle": (_cycle, OnnxRuntimeError, "not acyclic"),
    "self_loop": (_self_loop, OnnxRuntimeError, "acyclic"),
    "unknown_op": (_unknown_op, InvalidGraph, "No Op registered for Frobnicate"),
    "unknown_domain": (_unknown_domain, OnnxRuntimeError, "Frobnicate"),
    "unknown_domain_no_opset": (_unknown_domain_no_opset, InvalidGraph, "Frobnicate"),
    "opset_too_new": (_new_opset, OnnxRuntimeError, "99"),
    "raw_data_size": (_raw_mismatch, Fail, "raw_data"),
    "typed_data_count": (_typed_mismatch, Fail, "'W'"),
    "constant_raw_data_size": (_constant_raw_mismatch, Fail, "raw_data"),
    "subgraph_raw_data_size": (_subgraph_raw_mismatch, Fail, "raw_data"),
    "duplicate_output": (_duplicate_output, OnnxRuntimeError, "'Y'"),
    "output_not_produced": (_output_not_produced, OnnxRuntimeError, "'Y'"),
    "output_named_like_input": (_output_named_like_input, OnnxRuntimeError, "X"),
}



@pytest.mark.parametrize("case", sorted(CASES))
def test_clear_error(case):
    build, cls, text = CASES[case]
    with pytest.raises(cls) as info:
        session(build())
    assert text in str(info.value)


@pytest.mark.parametrize("case", [
    c for c in ("dangling_input", "cycle", "unknown_op", "unknown_domain",
              "unknown_domain_no_opset", "opset_too_new", "raw_data_size", "typed_data_count",
              "constant_raw_data_size", "duplicate_graph_input", "output_named_like_input")])
def test_error_class_matches_onnxruntime(case):
    model = CASES[case][0]() if case in CASES else globals()["_" + case]()
    expected = ort_error(lambda: ort_session(model))
    assert expected is not None
    with pytest.raises(OnnxRuntimeError) as info:
        session(model)
    assert type(info.value).__name__ == expected[0], (str(info.value), expected[1])


# ---- attributes / initializers whose shapes disagree with what the kernel needs --------------

def _f(shape, name):
    return numpy_helper.from_array(np.zeros(shape, np.float32), name)


X4 = np.random.default_rng(0).random((1, 3, 5, 5), dtype=np.float32)
X2 = np.ones((2, 3), np.float32)
SHAPE_CASES = {
    "conv_weight_channels": ("Conv", dict(), [("W", (4, 2, 3, 3))], X4),
    "conv_weight_rank": ("Conv", dict(), [("W", (4, 3, 3))], X4),
    "conv_bias_length": ("Conv", dict(), [("W", (4, 3, 3, 3)), ("B", (3,))], X4),
    "conv_kernel_shape": ("Conv", dict(kernel_shape=[2, 2]), [("W", (4, 3, 3, 3))], X4),
    "conv_pads_length": ("Conv", dict(pads=[1, 1]), [("W", (4, 3, 3, 3))], X4),
    "matmul_inner": ("MatMul", dict(), [("W", (4, 5))], X2),
    "gemm_bias": ("Gemm", dict(), [("W", (3, 4)), ("C", (5,))], X2),
    "add_broadcast": ("Add", dict(), [("W", (4,))], X2),
    "batchnorm_params": ("BatchNormalization", dict(),
                         [("s", (2,)), ("b", (2,)), ("m", (2,)), ("v", (2,))], X4),
    "transpose_perm": ("Transpose", dict(perm=[0, 0]), [], X2),
    "concat_axis": ("Concat", dict(axis=5), [], X2),
    "softmax_axis": ("Softmax", dict(axis=3), [], X2),
    "lstm_weights": ("LSTM", dict(hidden_size=4), [("W", (1, 12, 3)), ("R", (1, 16, 4))],
                     np.ones((2, 1, 3), np.float32)),
}


@pytest.mark.parametrize("case", sorted(SHAPE_CASES))
def test_kernel_shape_disagreement(case):
    op, attrs, inits, x = SHAPE_CASES[case]
    needs(op)
    names = ["X"] + [n for n, _ in inits]
    if op == "Concat":
        names = ["X", "X"]
    node = helper.make_node(op, names, ["Y"], name="n1", **attrs)
    model = make_model([node], [vi("X", shape=list(x.shape))], [vi("Y")],
                       [_f(s, n) for n, s in inits])
    with pytest.raises(OnnxRuntimeError) as info:
        session(model).run(None, {"X": x})
    msg = str(info.value)
    assert ("Non-zero status code returned while running " + op + " node. Name:'n1'" in msg
            or f"{op} node 'n1'" in msg), msg


def test_reshape_to_wrong_size_reports_like_onnxruntime():
    needs("Reshape")
    model = make_model([helper.make_node("Reshape", ["X", "S"], ["Y"], name="rs")],
                       [X23], [vi("Y")], [const_i64("S", [4, 4])])
    with pytest.raises(OnnxRuntimeError) as info:
        session(model).run(None, {"X": X2})
    prefix = "Non-zero status code returned while running Reshape node. Name:'rs' Status Message: "
    assert prefix in str(info.value)
    expected = ort_error(lambda: ort_session(model).run(None, {"X": X2}))
    assert expected is not None and prefix in expected[1]


# ---- deep nesting ----------------------------------------------------------------------------

def _nested_if(depth: int) -> onnx.ModelProto:
    """``depth`` If nodes, each in the then-branch of the previous (built by mutation: onnx's
    helpers copy through protobuf parsing, which stops at about 32 levels)."""
    m = onnx.ModelProto()
    m.ir_version = 10
    m.opset_import.add().version = 17
    g = m.graph
    g.name = "main"
    g.input.extend([vi("X", F, [2]), vi("C", TensorProto.BOOL, [])])
    for i in range(depth, 0, -1):
        g.output.append(vi(f"Y{i}", F, [2]))
        n = g.node.add()
        n.op_type, n.name = "If", f"if{i}"
        n.input.append("C")
        n.output.append(f"Y{i}")
        e = n.attribute.add()
        e.name, e.type = "else_branch", AttributeProto.GRAPH
        e.g.name = f"e{i}"
        e.g.node.append(helper.make_node("Neg", ["X"], [f"E{i}"]))
        e.g.output.append(vi(f"E{i}", F, [2]))
        a = n.attribute.add()
        a.name, a.type = "then_branch", AttributeProto.GRAPH
        g = a.g
        g.name = f"b{i}"
    g.node.append(helper.make_node("Identity", ["X"], ["Y0"]))
    g.output.append(vi("Y0", F, [2]))
    return m


@pytest.mark.parametrize("depth", [200, 5000])
def test_deeply_nested_if_is_refused_cleanly(depth):
    m = _nested_if(depth)
    with pytest.raises(onnxrun.InvalidProtobuf):  # bytes: protobuf's own depth limit
        session(m.SerializeToString())
    with pytest.raises(onnxrun.InvalidProtobuf, match="nested more than 100"):  # ModelProto
        onnxrun.InferenceSession(m, providers=["CPUExecutionProvider"])


def test_model_proto_nested_past_protobuf_limit_is_refused():
    """31 nested Ifs are 100 messages deep, the most protobuf parses; 32 are refused even when
    handed over as a ModelProto (later stages copy parts of it through protobuf)."""
    with pytest.raises(onnxrun.InvalidProtobuf):
        session(_nested_if(32).SerializeToString())
    with pytest.raises(onnxrun.InvalidProtobuf, match="nested more than 100"):
        onnxrun.InferenceSession(_nested_if(32), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("depth,as_proto", [(30, False), (31, False), (31, True)])
def test_nested_if_within_limits_runs(depth, as_proto):
    needs("If", "Identity", "Neg")
    m = _nested_if(depth)
    sess = onnxrun.InferenceSession(m if as_proto else m.SerializeToString(),
                                    providers=["CPUExecutionProvider"])
    x = np.array([1.5, -2.0], np.float32)
    np.testing.assert_array_equal(sess.run(None, {"X": x, "C": np.array(True)})[0], x)
    np.testing.assert_array_equal(sess.run(None, {"X": x, "C": np.array(False)})[0], -x)


def test_deeply_nested_sequence_type_is_refused():
    m = make_model([helper.make_node("Identity", ["X"], ["Y"])], [vi("X")], [vi("Y")])
    for v in (m.graph.input[0], m.graph.output[0]):  # by mutation: no protobuf parse depth limit
        v.type.Clear()
        cur = v.type
        for _ in range(100):
            cur = cur.sequence_type.elem_type
        cur.tensor_type.elem_type = F
    with pytest.raises((InvalidGraph, onnxrun.InvalidProtobuf), match="nested more than"):
        onnxrun.InferenceSession(m, providers=["CPUExecutionProvider"])


def test_subgraph_nesting_limit_without_protobuf_limit(monkeypatch):
    from onnxrun.load import model_loader
    monkeypatch.setattr(model_loader, "MAX_MESSAGE_DEPTH", 10 ** 6)
    with pytest.raises(InvalidGraph, match="subgraphs are nested more than 64"):
        model_loader.check_nesting(_nested_if(65))
    model_loader.check_nesting(_nested_if(64))


def test_long_chain_has_no_recursion():
    needs("Neg")
    nodes = [helper.make_node("Neg", [f"v{i}"], [f"v{i + 1}"], name=f"n{i}") for i in range(3000)]
    nodes[0].input[0] = "X"
    nodes[-1].output[0] = "Y"
    so = onnxrun.SessionOptions()
    so.graph_optimization_level = onnxrun.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = session(make_model(nodes, [vi("X", shape=[2])], [vi("Y", shape=[2])]), so)
    x = np.array([1.0, -3.0], np.float32)
    np.testing.assert_array_equal(sess.run(None, {"X": x})[0], x)


def test_unknown_attribute_type_and_empty_op_type():
    node = helper.make_node("", ["X"], ["Y"], name="empty")
    with pytest.raises(OnnxRuntimeError):
        session(make_model([node], [X23], [Y23]))


def test_initializer_with_unknown_data_type():
    t = raw_tensor("W", 999, [1], b"\0")
    model = make_model([helper.make_node("Identity", ["W"], ["Y"])], [], [vi("Y")], [t])
    with pytest.raises(OnnxRuntimeError):
        session(model)


def test_initializer_with_negative_dims():
    t = raw_tensor("W", F, [-1, 2], b"")
    model = make_model([helper.make_node("Identity", ["W"], ["Y"])], [], [vi("Y")], [t])
    with pytest.raises(Fail, match="negative"):
        session(model)


def test_huge_dims_without_data_are_refused_without_allocating():
    t = raw_tensor("W", F, [2 ** 40, 2 ** 40], b"")
    t.ClearField("raw_data")
    model = make_model([helper.make_node("Identity", ["W"], ["Y"])], [], [vi("Y")], [t])
    with pytest.raises(Fail):
        session(model)


# ---- node arity (inputs/outputs outside the schema's range) ----------------------------------

ARITY = {
    "matmul_one_input": [helper.make_node("MatMul", ["X"], ["Y"], name="mm")],
    "add_one_input": [helper.make_node("MatMul", ["X", "X"], ["P"], name="mm"),
                      helper.make_node("Add", ["P"], ["Y"], name="add")],
    "relu_two_inputs": [helper.make_node("Relu", ["X", "X"], ["Y"], name="r")],
    "cast_two_inputs": [helper.make_node("Cast", ["X", "X"], ["Y"], name="c", to=F)],
    "relu_no_output": [helper.make_node("Relu", ["X"], [], name="r"),
                       helper.make_node("Identity", ["X"], ["Y"], name="i")],
}


@pytest.mark.parametrize("case", sorted(ARITY))
def test_node_arity_is_checked_like_onnxruntime(case):
    model = make_model(ARITY[case], [vi("X", shape=[2, 2])], [vi("Y")])
    x = np.ones((2, 2), np.float32)
    expected = ort_error(lambda: ort_session(model).run(None, {"X": x}))
    assert expected is not None and expected[0] == "InvalidGraph"
    with pytest.raises(InvalidGraph, match="not in range"):
        session(model).run(None, {"X": x})


# ---- model-local functions -------------------------------------------------------------------

def _fn(name, body, calls_local=True):
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid("local", 1)]
                                               if calls_local else [])
    return helper.make_function("local", name, ["a"], ["b"], body, opsets)


def _call_model(entry, functions):
    return make_model([helper.make_node(entry, ["X"], ["Y"], domain="local", name="call")],
                      [vi("X", shape=[2])], [vi("Y", shape=[2])], extra_opsets=[("local", 1)],
                      functions=functions)


def _calls(*names, inp="a", out="b"):
    nodes, cur = [], inp
    for i, n in enumerate(names):
        nxt = out if i == len(names) - 1 else f"t{i}"
        nodes.append(helper.make_node(n, [cur], [nxt], domain="local"))
        cur = nxt
    return nodes


@pytest.mark.parametrize("functions", [
    [("F", ["F"])],
    [("A", ["B"]), ("B", ["A"])],
    [("A", ["B"]), ("B", ["C", "C"]), ("C", ["A"])],
], ids=["self", "mutual", "three"])
def test_recursive_functions_are_refused_like_onnxruntime(functions):
    fs = [_fn(n, _calls(*c)) for n, c in functions]
    model = _call_model(functions[0][0], fs)
    with pytest.raises(InvalidGraph) as info:
        session(model)
    expected = ort_error(lambda: ort_session(model))
    assert expected is not None and expected[0] == "InvalidGraph"
    head = "Model local function definitions must not be recursive. Cycle detected: "
    assert head in str(info.value) and head in expected[1]
    cycle = set(str(info.value).split(head)[1].strip().split(" -> "))
    assert cycle == set(expected[1].split(head)[1].strip().split(" -> "))  # start may differ


def test_function_fan_out_bomb_is_refused_without_expanding():
    fs = [_fn(f"F{i}", _calls(f"F{i + 1}", f"F{i + 1}")) for i in range(40)]
    fs.append(_fn("F40", [helper.make_node("Neg", ["a"], ["b"])], calls_local=False))
    with pytest.raises(InvalidGraph, match="expand to 1099511627776 nodes"):
        session(_call_model("F0", fs))


def test_small_function_tree_runs():
    needs("Neg")
    fs = [_fn(f"F{i}", _calls(f"F{i + 1}", f"F{i + 1}")) for i in range(3)]
    fs.append(_fn("F3", [helper.make_node("Neg", ["a"], ["b"])], calls_local=False))
    out = session(_call_model("F0", fs)).run(None, {"X": np.array([1.0, -2.0], np.float32)})[0]
    np.testing.assert_array_equal(out, [1.0, -2.0])  # 8 negations


EMPTY_NAMES = {
    "relu_trailing_empty_input": ([helper.make_node("Relu", ["X", ""], ["Y"], name="r")], "input"),
    "relu_two_trailing_empty_inputs": ([helper.make_node("Relu", ["X", "", ""], ["Y"],
                                                         name="r")], "input"),
    "relu_trailing_empty_output": ([helper.make_node("Relu", ["X"], ["Y", ""], name="r")],
                                   "output"),
}


@pytest.mark.parametrize("case", sorted(EMPTY_NAMES))
def test_arity_counts_empty_names_like_onnxruntime(case):
    nodes, what = EMPTY_NAMES[case]
    model = make_model(nodes, [vi("X", shape=[2, 2])], [vi("Y")])
    x = np.ones((2, 2), np.float32)
    expected = ort_error(lambda: ort_session(model).run(None, {"X": x}))
    assert expected is not None and expected[0] == "InvalidGraph"
    with pytest.raises(InvalidGraph, match=f"{what} size"):
        session(model).run(None, {"X": x})


def test_loop_with_omitted_condition_runs_like_onnxruntime():
    needs("Loop", "Identity")
    body = helper.make_graph(
        [helper.make_node("Identity", ["c_in"], ["c_out"]),
         helper.make_node("Identity", ["big"], ["scan"])], "body",
        [vi("i", I64, []), vi("c_in", TensorProto.BOOL, [])],
        [vi("c_out", TensorProto.BOOL, []), vi("scan", F, [4])],
        [numpy_helper.from_array(np.ones(4, np.float32), "big")])
    model = make_model([helper.make_node("Loop", ["M", ""], ["Y"], name="loop", body=body)],
                       [vi("M", I64, [])], [vi("Y")])
    feeds = {"M": np.array(3, np.int64)}
    expected = ort_session(model).run(None, feeds)[0]
    np.testing.assert_array_equal(session(model).run(None, feeds)[0], expected)
