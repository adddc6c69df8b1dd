"""Model-local functions are inlined; schema function bodies run where no kernel exists; the
planner offers in-place buffers only when no other value can see them."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import onnxrun
from onnxrun.kernels.base import OpKernel
from onnxrun.kernels.registry import kernel

F = TensorProto.FLOAT


def test_model_local_function_with_attribute_reference():
    # y = Scale(x, alpha) defined as a function: Mul(x, Constant(alpha)) then Relu
    fn = helper.make_function(
        "custom.fn", "ScaleRelu", ["X"], ["Y"],
        [helper.make_node("Constant", [], ["a"], value_float=0.0),
         helper.make_node("CastLike", ["a", "X"], ["a_t"]),
         helper.make_node("Mul", ["X", "alpha_t"], ["m"]),
         helper.make_node("Relu", ["m"], ["Y"])],
        opset_imports=[helper.make_opsetid("", 17)], attributes=[])
    # alpha is given as a Constant with an attribute reference
    const = helper.make_node("Constant", [], ["alpha"])
    const.attribute.append(onnx.AttributeProto(name="value_float", type=onnx.AttributeProto.FLOAT,
                                               ref_attr_name="alpha"))
    fn.node.insert(0, const)
    fn.node.insert(1, helper.make_node("CastLike", ["alpha", "X"], ["alpha_t"]))
    fn.attribute.append("alpha")
    node = helper.make_node("ScaleRelu", ["x"], ["y"], domain="custom.fn", alpha=-2.0)
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", F, [3])],
                          [helper.make_tensor_value_info("y", F, [3])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                            helper.make_opsetid("custom.fn", 1)],
                          functions=[fn], ir_version=8)
    sess = onnxrun.InferenceSession(m)
    out = sess.run(None, {"x": np.array([-1, 0.5, 2], np.float32)})[0]
    np.testing.assert_allclose(out, [2, 0, 0])


def test_function_overloads_pick_their_own_body():
    """IR 10 overloads: two functions of one (domain, name) told apart by ``overload``."""
    bodies = []
    for overload, op in (("relu", "Relu"), ("neg", "Neg")):
        f = helper.make_function("custom.fn", "Act", ["a"], ["b"], [helper.make_node(op, ["a"], ["b"])],
                                 [helper.make_opsetid("", 17)])
        f.overload = overload
        bodies.append(f)
    n1 = helper.make_node("Act", ["x"], ["t"], domain="custom.fn")
    n1.overload = "relu"
    n2 = helper.make_node("Act", ["t"], ["y"], domain="custom.fn")
    n2.overload = "neg"
    g = helper.make_graph([n1, n2], "g", [helper.make_tensor_value_info("x", F, [3])],
                          [helper.make_tensor_value_info("y", F, [3])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                            helper.make_opsetid("custom.fn", 1)],
                          functions=bodies, ir_version=10)
    (y,) = onnxrun.InferenceSession(m.SerializeToString()).run(
        None, {"x": np.array([-1, 0, 2], np.float32)})
    np.testing.assert_array_equal(y, [-0.0, -0.0, -2.0])


def test_schema_function_body_runs_when_kernel_is_missing(monkeypatch):
    # hide the Softsign kernel: the node must run through Softsign's schema function body
    from onnxrun.kernels.registry import REGISTRY
    real_lookup = REGISTRY.lookup

    def lookup(domain, op_type, version, provider="CPUExecutionProvider"):
        if op_type == "Softsign":
            return None
        return real_lookup(domain, op_type, version, provider)

    monkeypatch.setattr(REGISTRY, "lookup", lookup)
    g = helper.make_graph([helper.make_node("Softsign", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", F, [3])],
                          [helper.make_tensor_value_info("y", F, [3])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 22)], ir_version=10)
    sess = onnxrun.InferenceSession(m)
    ops = [n.op_type for n in sess._core.graph.nodes]
    assert "Softsign" not in ops and len(ops) > 1  # expanded into the body's ops
    x = np.array([-1, 0, 3], np.float32)
    np.testing.assert_allclose(sess.run(None, {"x": x})[0], x / (1 + np.abs(x)), rtol=1e-6)


class _Doubler(OpKernel):
    """Doubles its input; can work in place when the planner allows."""

    inplace_used = []

    def __call__(self, x):
        return x * 2

    def inplace_variant(self, donatable):
        if 0 not in donatable:
            return None

        def in_place(x):
            type(self).inplace_used.append(self.info.name)
            x *= 2
            return x
        return in_place


kernel("Double", since=1, domain="test.inplace", fresh=True)(_Doubler)
kernel("View", since=1, domain="test.inplace")(lambda x: x[...])  # may alias its input


def _inplace_model(extra_reader: bool, through_view: bool):
    nodes = [helper.make_node("Double", ["x"], ["a"], name="first", domain="test.inplace")]
    src = "a"
    if through_view:
        nodes.append(helper.make_node("View", ["a"], ["v"], name="view", domain="test.inplace"))
        src = "v"
    nodes.append(helper.make_node("Double", [src], ["b"], name="second", domain="test.inplace"))
    outputs = [helper.make_tensor_value_info("b", F, [3])]
    if extra_reader:
        nodes.append(helper.make_node("Double", ["a"], ["c"], name="third", domain="test.inplace"))
        outputs.append(helper.make_tensor_value_info("c", F, [3]))
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, [3])], outputs)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                               helper.make_opsetid("test.inplace", 1)],
                             ir_version=8)


@pytest.mark.parametrize("extra_reader,through_view,expected", [
    (False, False, ["second"]),   # a dies at 'second': reused in place
    (True, False, ["third"]),     # a is read later by 'third': only 'third' may reuse it
    (True, True, ["third"]),      # v is a view of a, a read later: 'second' must not write
])
def test_inplace_only_when_safe(extra_reader, through_view, expected):
    _Doubler.inplace_used.clear()
    sess = onnxrun.InferenceSession(_inplace_model(extra_reader, through_view))
    x = np.array([1, 2, 3], np.float32)
    outs = sess.run(None, {"x": x})
    np.testing.assert_array_equal(x, [1, 2, 3])  # the caller's feed is never written
    np.testing.assert_array_equal(outs[0], [4, 8, 12])
    if extra_reader:
        np.testing.assert_array_equal(outs[1], [4, 8, 12])
    assert _Doubler.inplace_used == expected


def test_missing_input_never_reads_a_dropped_output():
    """A node's omitted optional output is dropped; a later node's omitted optional input must
    read nothing, not that dropped value (they once shared one plan slot)."""
    nodes = [helper.make_node("Split", ["x"], ["a", ""], axis=0, num_outputs=2),
             helper.make_node("Clip", ["a", "", "hi"], ["y"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, [4]),
                                       helper.make_tensor_value_info("hi", F, [])],
                          [helper.make_tensor_value_info("y", F, [2])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)
    so = onnxrun.SessionOptions()
    so.graph_optimization_level = onnxrun.GraphOptimizationLevel.ORT_DISABLE_ALL
    for mode in onnxrun.ExecutionMode:
        so.execution_mode = mode
        sess = onnxrun.InferenceSession(m.SerializeToString(), so)
        x = np.array([-5.0, 3.0, 100.0, 200.0], np.float32)  # the dropped half: 100, 200
        (y,) = sess.run(None, {"x": x, "hi": np.array(1.0, np.float32)})
        np.testing.assert_array_equal(y, [-5.0, 1.0])
