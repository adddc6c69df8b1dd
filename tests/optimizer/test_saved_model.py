"""An optimized model saved with ``optimized_model_filepath`` loads again: in onnxrun (its fused
com.onnxrun nodes run on onnxrun's kernels) and in onnxruntime (which inlines each node's
model-local function body), at every optimization level, with the same outputs."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import helper
from onnx import numpy_helper as nh

import onnxrun
from onnxrun import GraphOptimizationLevel as L
from onnxrun.cli.main import main

RNG = np.random.default_rng(0)


def _f32(name, a):
    return nh.from_array(np.asarray(a, np.float32), name)


def _body_nodes(opset, p=""):
    """Conv+Relu, Conv+Clip, MatMul+Add+Sigmoid, the exported GELU pattern and an elementwise
    chain whose Sub reads the running value on the right; names prefixed with ``p``."""
    clip = (helper.make_node("Clip", [p + "c2", "lo", "hi"], [p + "cl"]) if opset >= 11 else
            helper.make_node("Clip", [p + "c2"], [p + "cl"], min=0.0, max=6.0))
    return [
        helper.make_node("Conv", [p + "x", "W", "B"], [p + "c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", [p + "c"], [p + "r"]),
        helper.make_node("Conv", [p + "r", "W2"], [p + "c2"]),
        clip,
        helper.make_node("Flatten", [p + "cl"], [p + "f"]),
        helper.make_node("MatMul", [p + "f", "M"], [p + "mm"]),
        helper.make_node("Add", [p + "mm", "mb"], [p + "ma"]),
        helper.make_node("Sigmoid", [p + "ma"], [p + "s"]),
        helper.make_node("Div", [p + "s", "sq"], [p + "d"]),
        helper.make_node("Erf", [p + "d"], [p + "e"]),
        helper.make_node("Add", [p + "e", "one"], [p + "e1"]),
        helper.make_node("Mul", [p + "s", p + "e1"], [p + "g0"]),
        helper.make_node("Mul", [p + "g0", "half"], [p + "g"]),
        helper.make_node("Exp", [p + "g"], [p + "z1"]),
        helper.make_node("Sub", ["one", p + "z1"], [p + "z2"]),
        helper.make_node("Abs", [p + "z2"], [p + "z3"]),
        helper.make_node("Mul", [p + "z3", p + "s"], [p + "y"]),
    ]


def _inits():
    return [_f32("W", RNG.standard_normal((4, 3, 3, 3))), _f32("B", RNG.standard_normal(4)),
            _f32("W2", RNG.standard_normal((4, 4, 1, 1))), _f32("lo", 0.0), _f32("hi", 6.0),
            _f32("M", RNG.standard_normal((256, 5)) * 0.1), _f32("mb", RNG.standard_normal(5)),
            _f32("sq", np.sqrt(2.0)), _f32("one", 1.0), _f32("half", 0.5)]


def fused_model(opset: int) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", T.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("y", T.FLOAT, [1, 5])
    g = helper.make_graph(_body_nodes(opset), "g", [x], [y], _inits())
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                             ir_version=4 if opset < 10 else 7)


def model_with_if(opset: int = 13) -> onnx.ModelProto:
    """The same computation inside both branches of an If (fused nodes in subgraphs)."""
    outs = []
    for branch, sign in (("then", 1.0), ("else", -1.0)):
        nodes = [helper.make_node("Mul", ["x", f"{branch}_k"], [f"{branch}_x"])]
        nodes += _body_nodes(opset, f"{branch}_")
        nodes.append(helper.make_node("Identity", [f"{branch}_y"], [f"{branch}_out"]))
        k = helper.make_node("Constant", [], [f"{branch}_k"],
                             value=nh.from_array(np.array(sign, np.float32)))
        outs.append(helper.make_graph(
            [k] + nodes, branch, [],
            [helper.make_tensor_value_info(f"{branch}_out", T.FLOAT, [1, 5])]))
    node = helper.make_node("If", ["cond"], ["y"], then_branch=outs[0], else_branch=outs[1])
    g = helper.make_graph([node], "g",
                          [helper.make_tensor_value_info("cond", T.BOOL, []),
                           helper.make_tensor_value_info("x", T.FLOAT, [1, 3, 8, 8])],
                          [helper.make_tensor_value_info("y", T.FLOAT, [1, 5])], _inits())
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=7)


LEVELS = [L.ORT_DISABLE_ALL, L.ORT_ENABLE_BASIC, L.ORT_ENABLE_EXTENDED, L.ORT_ENABLE_ALL]


def _save(model, level, path):
    so = onnxrun.SessionOptions()
    so.graph_optimization_level = level
    so.optimized_model_filepath = str(path)
    return onnxrun.InferenceSession(model.SerializeToString(), so)


def _check_reload(model, feeds, level, path, fused_expected):
    ref = ort.InferenceSession(model.SerializeToString(),
                               providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    first = _save(model, level, path).run(None, feeds)[0]
    saved = onnx.load(str(path))
    onnx.checker.check_model(saved, full_check=True)
    fused = [n for n in _all_nodes(saved.graph) if n.domain == "com.onnxrun"]
    assert bool(fused) == fused_expected, [n.op_type for n in fused]
    assert len(saved.functions) == len(fused)
    assert all(n.overload for n in fused)
    so = onnxrun.SessionOptions()
    so.graph_optimization_level = level
    again = onnxrun.InferenceSession(str(path), so).run(None, feeds)[0]
    np.testing.assert_array_equal(again, first)  # the same kernels run again
    default = onnxrun.InferenceSession(str(path)).run(None, feeds)[0]  # optimized further
    np.testing.assert_allclose(default, ref, rtol=1e-5, atol=1e-6)
    theirs = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    np.testing.assert_allclose(theirs, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(first, ref, rtol=1e-5, atol=1e-6)
    return fused


def _all_nodes(g):
    for n in g.node:
        yield n
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from _all_nodes(a.g)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("opset", [9, 11, 13, 18])
def test_saved_optimized_model_reloads_everywhere(tmp_path, level, opset):
    x = RNG.standard_normal((1, 3, 8, 8)).astype(np.float32)
    fused = _check_reload(fused_model(opset), {"x": x}, level, tmp_path / "opt.onnx",
                          fused_expected=level >= L.ORT_ENABLE_EXTENDED)
    if level >= L.ORT_ENABLE_EXTENDED:
        assert {n.op_type for n in fused} == {"FusedConv", "FusedMatMul", "Gelu",
                                              "ElementwiseChain"}


@pytest.mark.parametrize("cond", [True, False])
def test_saved_model_with_fused_nodes_in_subgraphs(tmp_path, cond):
    x = RNG.standard_normal((1, 3, 8, 8)).astype(np.float32)
    fused = _check_reload(model_with_if(), {"cond": np.array(cond), "x": x}, L.ORT_ENABLE_ALL,
                          tmp_path / "opt.onnx", fused_expected=True)
    for branch in ("then", "else"):
        ops = {n.op_type for n in fused if n.output[0].startswith(branch)}
        assert ops == {"FusedConv", "FusedMatMul", "Gelu", "ElementwiseChain"}


def test_onnxrun_optimize_command_writes_a_portable_file(tmp_path):
    src, dst = tmp_path / "m.onnx", tmp_path / "m.opt.onnx"
    onnx.save(fused_model(13), str(src))
    assert main(["optimize", str(src), "-o", str(dst), "--level", "all"]) == 0
    x = RNG.standard_normal((1, 3, 8, 8)).astype(np.float32)
    a = ort.InferenceSession(str(dst), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    b = onnxrun.InferenceSession(str(src)).run(None, {"x": x})[0]
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
