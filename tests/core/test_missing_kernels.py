"""Session creation names every op the model needs that has no kernel, in one error whose class
and first sentence are onnxruntime's for the first such node."""

from __future__ import annotations

import pytest
from onnx import TensorProto, helper

import onnxrun
from onnxrun.errors import Fail, InvalidGraph, NotImplemented

ort = pytest.importorskip("onnxruntime")


def _model(nodes, opsets):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                          [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT,
                                                         None)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets],
                             ir_version=8).SerializeToString()


def _custom_chain():
    """Two nodes of com.example::Foo, one of com.example::Bar, and Baz inside an If branch."""
    then = helper.make_graph([helper.make_node("Baz", ["b"], ["t"], domain="com.example",
                                               name="baz_in_then")],
                             "then", [], [helper.make_tensor_value_info("t", 1, None)])
    other = helper.make_graph([helper.make_node("Identity", ["b"], ["e"])],
                              "else", [], [helper.make_tensor_value_info("e", 1, None)])
    nodes = [helper.make_node("Foo", ["x"], ["a"], domain="com.example", name="foo1"),
             helper.make_node("Bar", ["a"], ["b"], domain="com.example", name="bar1"),
             helper.make_node("Foo", ["b"], ["c"], domain="com.example", name="foo2"),
             helper.make_node("ReduceMax", ["c"], ["m"], keepdims=0),
             helper.make_node("Cast", ["m"], ["cond"], to=TensorProto.BOOL),
             helper.make_node("If", ["cond"], ["y"], then_branch=then, else_branch=other)]
    return _model(nodes, [("", 17), ("com.example", 3)])


def test_every_missing_op_named_once():
    with pytest.raises(Fail) as info:
        onnxrun.InferenceSession(_custom_chain())
    msg = str(info.value)
    # onnxruntime's message for the first node, unchanged
    assert msg.startswith("[ONNXRuntimeError] : 1 : FAIL : Fatal error: com.example:Foo(-1) is "
                          "not a registered function/op (node 'foo1')")
    assert "Ops without a kernel in onnxrun (3):" in msg
    assert msg.count("com.example::Foo(3)") == 1
    assert "com.example::Foo(3) [2 nodes: 'foo1', 'foo2']" in msg
    assert "com.example::Bar(3) [1 node: 'bar1']" in msg
    assert "com.example::Baz(3) [1 node: 'baz_in_then']" in msg


def test_error_class_is_the_first_nodes():
    """An unknown standard-domain op first: onnxruntime's InvalidGraph, the custom op after it
    still listed."""
    nodes = [helper.make_node("Frobnicate", ["x"], ["a"], name="f"),
             helper.make_node("Foo", ["a"], ["y"], domain="com.example", name="foo")]
    with pytest.raises(InvalidGraph) as info:
        onnxrun.InferenceSession(_model(nodes, [("", 17), ("com.example", 1)]))
    msg = str(info.value)
    assert "No Op registered for Frobnicate with domain_version of 17" in msg
    assert "ai.onnx::Frobnicate(17) [1 node: 'f']" in msg
    assert "com.example::Foo(1) [1 node: 'foo']" in msg
    with pytest.raises(ort.capi.onnxruntime_pybind11_state.InvalidGraph):
        ort.InferenceSession(_model(nodes, [("", 17), ("com.example", 1)]),
                             providers=["CPUExecutionProvider"])


def test_many_nodes_of_one_op_listed_briefly():
    nodes = [helper.make_node("Foo", ["x" if i == 0 else f"v{i}"], [f"v{i + 1}"],
                              domain="com.example", name=f"n{i}") for i in range(5)]
    with pytest.raises(Fail) as info:
        onnxrun.InferenceSession(_model(nodes, [("", 17), ("com.example", 1)]))
    assert "com.example::Foo(1) [5 nodes: 'n0', 'n1', 'n2', ...]" in str(info.value)


def test_single_missing_node_keeps_onnxruntimes_message():
    nodes = [helper.make_node("Foo", ["x"], ["y"], domain="com.example", name="only")]
    with pytest.raises(Fail) as info:
        onnxrun.InferenceSession(_model(nodes, [("", 17), ("com.example", 1)]))
    assert str(info.value).endswith("is not a registered function/op (node 'only')")


def test_not_implemented_class_kept():
    """A standard op with a schema but no kernel: NotImplemented, as onnxruntime."""
    from onnxrun.kernels.registry import REGISTRY
    kdef = REGISTRY.lookup("", "Sin", 7)
    REGISTRY.unregister("", "Sin")
    try:
        nodes = [helper.make_node("Sin", ["x"], ["a"], name="r"),
                 helper.make_node("Foo", ["a"], ["y"], domain="com.example", name="foo")]
        with pytest.raises(NotImplemented) as info:
            onnxrun.InferenceSession(_model(nodes, [("", 17), ("com.example", 1)]))
        assert "Could not find an implementation for Sin(7) node with name 'r'" in \
            str(info.value)
        assert "ai.onnx::Sin(7) [1 node: 'r']" in str(info.value)
    finally:
        REGISTRY.register(kdef)
