"""Control-flow kernels (If, Loop, Scan): edge cases, nesting, outer-scope values, termination,
and comparisons with onnxruntime."""

import threading
import time

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import helper as h

import onnxrun
from onnxrun.errors import InvalidArgument, OnnxRuntimeError

F = T.FLOAT
I64 = T.INT64


def vi(name, elem, shape=None):
    return h.make_tensor_value_info(name, elem, shape)


def model(nodes, inputs, outputs, opset=17, inits=()):
    g = h.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 8
    return m.SerializeToString()


def both(m, feeds):
    ours = onnxrun.InferenceSession(m).run(None, feeds)
    ref = ort.InferenceSession(m, providers=["CPUExecutionProvider"]).run(None, feeds)
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        assert isinstance(a, np.ndarray)
        assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, a.shape, b.dtype, b.shape)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    return ours


def counting_body(extra_nodes=(), outer_ref="a"):
    """Body: (i, cond, x) -> (cond, x + a, x * x) where ``a`` is an outer-scope value."""
    nodes = [
        h.make_node("Identity", ["cond_in"], ["cond_out"]),
        h.make_node("Add", ["x_in", outer_ref], ["x_out"]),
        h.make_node("Mul", ["x_in", "x_in"], ["scan"]),
        *extra_nodes,
    ]
    return h.make_graph(nodes, "body",
                        [vi("i", I64, []), vi("cond_in", T.BOOL, []), vi("x_in", F, [2])],
                        [vi("cond_out", T.BOOL, []), vi("x_out", F, [2]), vi("scan", F, [2])])


def test_loop_trip_count_outer_scope_and_scan_outputs():
    body = counting_body()
    m = model([h.make_node("Loop", ["M", "", "x0"], ["x", "s"], body=body)],
              [vi("M", I64, []), vi("x0", F, [2]), vi("a", F, [2])],
              [vi("x", F, None), vi("s", F, None)])
    feeds = {"M": np.array(4, np.int64), "x0": np.array([1, 2], np.float32),
             "a": np.array([0.5, -1], np.float32)}
    x, s = both(m, feeds)
    assert s.shape == (4, 2)


def test_loop_zero_iterations_keeps_initial_values():
    body = counting_body()
    m = model([h.make_node("Loop", ["M", "", "x0"], ["x", "s"], body=body)],
              [vi("M", I64, []), vi("x0", F, [2]), vi("a", F, [2])],
              [vi("x", F, None), vi("s", F, None)])
    x, s = onnxrun.InferenceSession(m).run(None, {
        "M": np.array(0, np.int64), "x0": np.array([1, 2], np.float32),
        "a": np.zeros(2, np.float32)})
    np.testing.assert_array_equal(x, [1, 2])
    assert s.shape == (0, 2) and s.dtype == np.float32


def test_loop_huge_trip_count_stops_on_condition():
    # body: cond_out = i < 3
    nodes = [h.make_node("Less", ["i", "three"], ["cond_out"]),
             h.make_node("Identity", ["x_in"], ["x_out"])]
    three = h.make_tensor("three", I64, [], [3])
    body = h.make_graph(nodes, "body", [vi("i", I64, []), vi("c", T.BOOL, []), vi("x_in", F, [])],
                        [vi("cond_out", T.BOOL, []), vi("x_out", F, [])], initializer=[three])
    m = model([h.make_node("Loop", ["M", "cond", "x0"], ["x"], body=body)],
              [vi("M", I64, []), vi("cond", T.BOOL, []), vi("x0", F, [])], [vi("x", F, None)])
    feeds = {"M": np.array(2 ** 62, np.int64), "cond": np.array(True),
             "x0": np.array(1, np.float32)}
    both(m, feeds)


def test_loop_condition_false_runs_nothing():
    body = counting_body()
    m = model([h.make_node("Loop", ["", "cond", "x0"], ["x", "s"], body=body)],
              [vi("cond", T.BOOL, []), vi("x0", F, [2]), vi("a", F, [2])],
              [vi("x", F, None), vi("s", F, None)])
    x, s = onnxrun.InferenceSession(m).run(None, {
        "cond": np.array(False), "x0": np.array([1, 2], np.float32), "a": np.ones(2, np.float32)})
    np.testing.assert_array_equal(x, [1, 2])
    assert s.shape[0] == 0


def test_endless_loop_stops_on_terminate():
    nodes = [h.make_node("Identity", ["c"], ["cond_out"]),
             h.make_node("Identity", ["x_in"], ["x_out"])]
    body = h.make_graph(nodes, "body", [vi("i", I64, []), vi("c", T.BOOL, []), vi("x_in", F, [])],
                        [vi("cond_out", T.BOOL, []), vi("x_out", F, [])])
    m = model([h.make_node("Loop", ["", "", "x0"], ["x"], body=body)],
              [vi("x0", F, [])], [vi("x", F, None)])
    sess = onnxrun.InferenceSession(m)
    opts = onnxrun.RunOptions()
    timer = threading.Timer(0.2, lambda: setattr(opts, "terminate", True))
    timer.start()
    t0 = time.time()
    with pytest.raises(OnnxRuntimeError, match="terminate"):
        sess.run(None, {"x0": np.array(1, np.float32)}, opts)
    assert time.time() - t0 < 10


def test_loop_scan_output_shape_change_is_an_error():
    # scan output has i+1 elements at iteration i
    nodes = [h.make_node("Identity", ["c"], ["cond_out"]),
             h.make_node("Add", ["i", "one"], ["n"]),
             h.make_node("Reshape", ["n", "shape1"], ["n1"]),
             h.make_node("ConstantOfShape", ["n1"], ["scan"])]
    inits = [h.make_tensor("one", I64, [], [1]), h.make_tensor("shape1", I64, [1], [1])]
    body = h.make_graph(nodes, "body", [vi("i", I64, []), vi("c", T.BOOL, [])],
                        [vi("cond_out", T.BOOL, []), vi("scan", F, None)], initializer=inits)
    m = model([h.make_node("Loop", ["M", ""], ["s"], body=body)], [vi("M", I64, [])],
              [vi("s", F, None)])
    with pytest.raises(InvalidArgument, match="same shape"):
        onnxrun.InferenceSession(m).run(None, {"M": np.array(3, np.int64)})


def test_if_nested_in_loop_reads_two_levels_up():
    then_g = h.make_graph([h.make_node("Add", ["x_in", "a"], ["t"])], "then", [], [vi("t", F, [2])])
    else_g = h.make_graph([h.make_node("Sub", ["x_in", "a"], ["e"])], "else", [], [vi("e", F, [2])])
    nodes = [h.make_node("Identity", ["cond_in"], ["cond_out"]),
             h.make_node("Less", ["i", "two"], ["small"]),
             h.make_node("If", ["small"], ["x_out"], then_branch=then_g, else_branch=else_g),
             h.make_node("Identity", ["x_out"], ["scan"])]
    body = h.make_graph(nodes, "body",
                        [vi("i", I64, []), vi("cond_in", T.BOOL, []), vi("x_in", F, [2])],
                        [vi("cond_out", T.BOOL, []), vi("x_out", F, [2]), vi("scan", F, [2])],
                        initializer=[h.make_tensor("two", I64, [], [2])])
    m = model([h.make_node("Loop", ["M", "", "x0"], ["x", "s"], body=body)],
              [vi("M", I64, []), vi("x0", F, [2]), vi("a", F, [2])],
              [vi("x", F, None), vi("s", F, None)])
    both(m, {"M": np.array(5, np.int64), "x0": np.array([1, 2], np.float32),
             "a": np.array([3, 4], np.float32)})


def test_if_requires_single_element_condition():
    then_g = h.make_graph([h.make_node("Identity", ["x"], ["t"])], "then", [], [vi("t", F, None)])
    else_g = h.make_graph([h.make_node("Neg", ["x"], ["e"])], "else", [], [vi("e", F, None)])
    m = model([h.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)],
              [vi("c", T.BOOL, None), vi("x", F, [2])], [vi("y", F, None)])
    sess = onnxrun.InferenceSession(m)
    x = np.array([1, -2], np.float32)
    np.testing.assert_array_equal(sess.run(None, {"c": np.array([False]), "x": x})[0], -x)
    with pytest.raises(InvalidArgument):
        sess.run(None, {"c": np.array([True, False]), "x": x})


def scan_model(in_axes=None, in_dirs=None, out_axes=None, out_dirs=None, opset=17):
    """Scan with 1 state and 2 scan inputs; body: s' = s + a + b, outputs (s', a * b)."""
    nodes = [h.make_node("Add", ["s_in", "a"], ["t"]), h.make_node("Add", ["t", "b"], ["s_out"]),
             h.make_node("Mul", ["a", "b"], ["prod"])]
    body = h.make_graph(nodes, "body", [vi("s_in", F, [3]), vi("a", F, [3]), vi("b", F, [3])],
                        [vi("s_out", F, [3]), vi("prod", F, [3])])
    kw = {}
    for k, v in (("scan_input_axes", in_axes), ("scan_input_directions", in_dirs),
                 ("scan_output_axes", out_axes), ("scan_output_directions", out_dirs)):
        if v is not None:
            kw[k] = v
    node = h.make_node("Scan", ["s0", "A", "B"], ["s", "P"], body=body, num_scan_inputs=2, **kw)
    return model([node], [vi("s0", F, [3]), vi("A", F, None), vi("B", F, None)],
                 [vi("s", F, None), vi("P", F, None)], opset=opset)


@pytest.mark.parametrize("in_axes,in_dirs,out_axes,out_dirs", [
    (None, None, None, None),
    ([1, 0], [1, 0], [1], [1]),
    ([-1, 0], [0, 1], [-1], [0]),
])
def test_scan_axes_and_directions_match_onnxruntime(in_axes, in_dirs, out_axes, out_dirs):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 3)).astype(np.float32)
    B = rng.standard_normal((4, 3)).astype(np.float32)
    if in_axes and in_axes[0] in (1, -1):
        A = np.ascontiguousarray(A.T)
    m = scan_model(in_axes, in_dirs, out_axes, out_dirs)
    both(m, {"s0": np.zeros(3, np.float32), "A": A, "B": B})


def test_scan_length_mismatch_is_an_error():
    m = scan_model()
    with pytest.raises(InvalidArgument, match="sequence length"):
        onnxrun.InferenceSession(m).run(None, {"s0": np.zeros(3, np.float32),
                                               "A": np.zeros((4, 3), np.float32),
                                               "B": np.zeros((5, 3), np.float32)})


def test_scan8_sequence_lens_and_reverse_match_onnxruntime():
    nodes = [h.make_node("Add", ["s_in", "x"], ["s_out"]),
             h.make_node("Identity", ["s_out"], ["y"])]
    body = h.make_graph(nodes, "body", [vi("s_in", F, [2]), vi("x", F, [2])],
                        [vi("s_out", F, [2]), vi("y", F, [2])])
    node = h.make_node("Scan", ["lens", "s0", "X"], ["s", "Y"], body=body, num_scan_inputs=1,
                       directions=[1])
    m = model([node], [vi("lens", I64, [3]), vi("s0", F, [3, 2]), vi("X", F, [3, 4, 2])],
              [vi("s", F, None), vi("Y", F, None)], opset=8)
    X = np.arange(24, dtype=np.float32).reshape(3, 4, 2)
    feeds = {"lens": np.array([4, 2, 1], np.int64), "s0": np.ones((3, 2), np.float32), "X": X}
    ours = onnxrun.InferenceSession(m).run(None, feeds)
    ref = ort.InferenceSession(m, providers=["CPUExecutionProvider"]).run(None, feeds)
    np.testing.assert_allclose(ours[0], ref[0])
    # compare the valid prefix of each batch entry; our padding is zeros
    for b, n in enumerate([4, 2, 1]):
        np.testing.assert_allclose(ours[1][b, :n], ref[1][b, :n])
        assert not ours[1][b, n:].any()


def test_scan8_rejects_out_of_range_sequence_lens():
    nodes = [h.make_node("Add", ["s_in", "x"], ["s_out"])]
    body = h.make_graph(nodes, "body", [vi("s_in", F, [2]), vi("x", F, [2])], [vi("s_out", F, [2])])
    node = h.make_node("Scan", ["lens", "s0", "X"], ["s"], body=body, num_scan_inputs=1)
    m = model([node], [vi("lens", I64, [1]), vi("s0", F, [1, 2]), vi("X", F, [1, 4, 2])],
              [vi("s", F, None)], opset=8)
    sess = onnxrun.InferenceSession(m)
    for bad in (0, 5):
        with pytest.raises(InvalidArgument, match="sequence_lens"):
            sess.run(None, {"lens": np.array([bad], np.int64), "s0": np.ones((1, 2), np.float32),
                            "X": np.ones((1, 4, 2), np.float32)})


def test_loop_without_cond_input_still_honours_body_condition():
    # onnxruntime stops a trip-count loop when the body's condition turns false
    nodes = [h.make_node("Less", ["i", "two"], ["cond_out"]),
             h.make_node("Identity", ["x_in"], ["x_out"]),
             h.make_node("Identity", ["x_in"], ["sc"])]
    body = h.make_graph(nodes, "body", [vi("i", I64, []), vi("c", T.BOOL, []), vi("x_in", F, [])],
                        [vi("cond_out", T.BOOL, []), vi("x_out", F, []), vi("sc", F, [])],
                        initializer=[h.make_tensor("two", I64, [], [2])])
    m = model([h.make_node("Loop", ["M", "", "x0"], ["x", "s"], body=body)],
              [vi("M", I64, []), vi("x0", F, [])], [vi("x", F, None), vi("s", F, None)])
    x, s = both(m, {"M": np.array(5, np.int64), "x0": np.array(1, np.float32)})
    assert s.shape == (3,)


def test_nested_loops_read_values_from_both_enclosing_graphs():
    inner = h.make_graph([h.make_node("Identity", ["ic"], ["ic_o"]),
                          h.make_node("Add", ["acc", "a"], ["t"]),
                          h.make_node("Add", ["t", "x_in"], ["acc_o"])],
                         "inner", [vi("j", I64, []), vi("ic", T.BOOL, []), vi("acc", F, [2])],
                         [vi("ic_o", T.BOOL, []), vi("acc_o", F, [2])])
    outer = h.make_graph([h.make_node("Identity", ["c"], ["c_o"]),
                          h.make_node("Loop", ["i", "", "x_in"], ["x_out"], body=inner),
                          h.make_node("Identity", ["x_out"], ["sc"])],
                         "outer", [vi("i", I64, []), vi("c", T.BOOL, []), vi("x_in", F, [2])],
                         [vi("c_o", T.BOOL, []), vi("x_out", F, [2]), vi("sc", F, [2])])
    m = model([h.make_node("Loop", ["M", "", "x0"], ["x", "s"], body=outer)],
              [vi("M", I64, []), vi("x0", F, [2]), vi("a", F, [2])],
              [vi("x", F, None), vi("s", F, None)])
    both(m, {"M": np.array(4, np.int64), "x0": np.array([1, 0.5], np.float32),
             "a": np.array([0.1, 0.2], np.float32)})
