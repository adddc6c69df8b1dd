"""Sequence and optional kernels: positions, errors, SplitToSequence/ConcatFromSequence against
onnxruntime, SequenceMap with outer-scope values."""

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import helper as h

import onnxrun
from onnxrun.errors import InvalidArgument

F = T.FLOAT
I64 = T.INT64


def vi(name, elem, shape=None):
    return h.make_tensor_value_info(name, elem, shape)


def seq_vi(name, elem):
    return h.make_tensor_sequence_value_info(name, elem, None)


def model(nodes, inputs, outputs, opset=18, inits=()):
    g = h.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 8
    return m.SerializeToString()


def run(m, feeds, oracle=True):
    ours = onnxrun.InferenceSession(m).run(None, feeds)
    if oracle:
        ref = ort.InferenceSession(m, providers=["CPUExecutionProvider"]).run(None, feeds)
        _same(ours, ref)
    return ours


def _same(a, b):
    if isinstance(b, list) and (not b or not isinstance(b[0], (int, float))):
        assert isinstance(a, list) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, a.shape, b.dtype, b.shape)
    np.testing.assert_allclose(a, b)


def construct_at_model():
    nodes = [h.make_node("SequenceConstruct", ["a", "b", "c"], ["s"]),
             h.make_node("SequenceAt", ["s", "p"], ["y"]),
             h.make_node("SequenceLength", ["s"], ["n"])]
    return model(nodes, [vi("a", F, None), vi("b", F, None), vi("c", F, None), vi("p", I64, [])],
                 [vi("y", F, None), vi("n", I64, None)])


@pytest.mark.parametrize("p", [0, 2, -1, -3])
def test_sequence_at_positions(p):
    feeds = {k: np.full((2,), i, np.float32) for i, k in enumerate("abc")}
    feeds["p"] = np.array(p, np.int64)
    run(construct_at_model(), feeds)


@pytest.mark.parametrize("p", [3, -4])
def test_sequence_at_out_of_bounds(p):
    feeds = {k: np.full((2,), i, np.float32) for i, k in enumerate("abc")}
    feeds["p"] = np.array(p, np.int64)
    with pytest.raises(InvalidArgument, match="out of bounds"):
        onnxrun.InferenceSession(construct_at_model()).run(None, feeds)


def test_insert_erase_defaults_and_positions():
    nodes = [h.make_node("SequenceEmpty", [], ["e"], dtype=F),
             h.make_node("SequenceInsert", ["e", "a"], ["s1"]),
             h.make_node("SequenceInsert", ["s1", "b", "zero"], ["s2"]),      # b, a
             h.make_node("SequenceInsert", ["s2", "c", "minus1"], ["s3"]),    # b, c, a
             h.make_node("SequenceErase", ["s3"], ["s4"]),                    # b, c
             h.make_node("SequenceErase", ["s3", "zero"], ["s5"]),            # c, a
             h.make_node("ConcatFromSequence", ["s4"], ["y4"], axis=0),
             h.make_node("ConcatFromSequence", ["s5"], ["y5"], axis=0, new_axis=1)]
    inits = [h.make_tensor("zero", I64, [], [0]), h.make_tensor("minus1", I64, [], [-1])]
    m = model(nodes, [vi("a", F, [2]), vi("b", F, [2]), vi("c", F, [2])],
              [vi("y4", F, None), vi("y5", F, None)], inits=inits)
    feeds = {k: np.full((2,), i, np.float32) for i, k in enumerate("abc")}
    y4, y5 = run(m, feeds)
    np.testing.assert_array_equal(y4, [1, 1, 2, 2])
    np.testing.assert_array_equal(y5, [[2, 2], [0, 0]])


def test_insert_type_mismatch_and_erase_empty():
    nodes = [h.make_node("SequenceConstruct", ["a"], ["s"]),
             h.make_node("SequenceInsert", ["s", "b"], ["t"])]
    m = model(nodes, [vi("a", F, None), vi("b", T.INT32, None)], [seq_vi("t", F)])
    with pytest.raises(InvalidArgument):
        onnxrun.InferenceSession(m).run(None, {"a": np.zeros(2, np.float32),
                                               "b": np.zeros(2, np.int32)})
    m = model([h.make_node("SequenceEmpty", [], ["e"]), h.make_node("SequenceErase", ["e"], ["t"])],
              [], [seq_vi("t", F)])
    with pytest.raises(InvalidArgument, match="empty"):
        onnxrun.InferenceSession(m).run(None, {})


@pytest.mark.parametrize("split,axis,keepdims", [
    (None, 0, 1), (None, 1, 0), (None, -1, 1), (np.array(2, np.int64), 1, 1),
    (np.array([1, 3, 1], np.int64), 1, 1), (np.array(3, np.int32), 0, 0)])
def test_split_to_sequence_then_concat(split, axis, keepdims):
    x = np.arange(4 * 5, dtype=np.float32).reshape(4, 5)
    ins = ["x"] + (["split"] if split is not None else [])
    nodes = [h.make_node("SplitToSequence", ins, ["s"], axis=axis, keepdims=keepdims),
             h.make_node("SequenceLength", ["s"], ["n"]),
             h.make_node("ConcatFromSequence", ["s"], ["y"], axis=axis,
                         new_axis=0 if keepdims or split is not None else 1)]
    inputs = [vi("x", F, [4, 5])]
    feeds = {"x": x}
    if split is not None:
        inputs.append(vi("split", I64 if split.dtype == np.int64 else T.INT32, None))
        feeds["split"] = split
    m = model(nodes, inputs, [vi("n", I64, None), vi("y", F, None)])
    # onnxruntime 1.31 fails on a scalar split leaving a smaller last chunk (a Reshape size
    # check), so that case is checked by the round trip only
    uneven = split is not None and split.ndim == 0 and x.shape[axis] % int(split)
    n, y = run(m, feeds, oracle=not uneven)
    np.testing.assert_array_equal(y, x)


def test_split_to_sequence_bad_split():
    m = model([h.make_node("SplitToSequence", ["x", "split"], ["s"])],
              [vi("x", F, [4]), vi("split", I64, None)], [seq_vi("s", F)])
    sess = onnxrun.InferenceSession(m)
    for bad in (np.array([1, 2], np.int64), np.array(0, np.int64), np.array([[4]], np.int64)):
        with pytest.raises(InvalidArgument):
            sess.run(None, {"x": np.zeros(4, np.float32), "split": bad})


def test_concat_from_sequence_shape_mismatch():
    nodes = [h.make_node("SequenceConstruct", ["a", "b"], ["s"]),
             h.make_node("ConcatFromSequence", ["s"], ["y"], axis=0, new_axis=1)]
    m = model(nodes, [vi("a", F, None), vi("b", F, None)], [vi("y", F, None)])
    with pytest.raises(InvalidArgument, match="shapes"):
        onnxrun.InferenceSession(m).run(None, {"a": np.zeros(2, np.float32),
                                               "b": np.zeros(3, np.float32)})


def test_sequence_map_with_tensor_input_and_outer_value():
    body = h.make_graph([h.make_node("Add", ["x", "t"], ["u"]),
                         h.make_node("Mul", ["u", "k"], ["y"]),
                         h.make_node("Shape", ["x"], ["shp"])],
                        "body", [vi("x", F, None), vi("t", F, None)],
                        [vi("y", F, None), vi("shp", I64, None)])
    nodes = [h.make_node("SplitToSequence", ["X", "split"], ["s"]),
             h.make_node("SequenceMap", ["s", "t"], ["ys", "shapes"], body=body)]
    m = model(nodes, [vi("X", F, [5, 2]), vi("split", I64, None), vi("t", F, [2]), vi("k", F, [])],
              [seq_vi("ys", F), seq_vi("shapes", I64)])
    feeds = {"X": np.arange(10, dtype=np.float32).reshape(5, 2), "split": np.array([2, 3]),
             "t": np.array([1, -1], np.float32), "k": np.array(2, np.float32)}
    ys, shapes = run(m, feeds)
    assert len(ys) == 2 and ys[1].shape == (3, 2)
    np.testing.assert_array_equal(shapes[1], [3, 2])


def test_sequence_map_length_mismatch():
    body = h.make_graph([h.make_node("Add", ["x", "z"], ["y"])], "body",
                        [vi("x", F, None), vi("z", F, None)], [vi("y", F, None)])
    nodes = [h.make_node("SequenceConstruct", ["a", "a"], ["s1"]),
             h.make_node("SequenceConstruct", ["a"], ["s2"]),
             h.make_node("SequenceMap", ["s1", "s2"], ["ys"], body=body)]
    m = model(nodes, [vi("a", F, [2])], [seq_vi("ys", F)])
    with pytest.raises(InvalidArgument, match="elements"):
        onnxrun.InferenceSession(m).run(None, {"a": np.zeros(2, np.float32)})


def test_optional_ops():
    opt_t = h.make_tensor_type_proto(F, None)
    nodes = [h.make_node("Optional", [], ["empty"], type=opt_t),
             h.make_node("Optional", ["x"], ["full"]),
             h.make_node("OptionalHasElement", ["empty"], ["he"]),
             h.make_node("OptionalHasElement", ["full"], ["hf"]),
             h.make_node("OptionalHasElement", ["x"], ["hx"]),
             h.make_node("OptionalHasElement", [], ["hn"]),
             h.make_node("OptionalGetElement", ["full"], ["y"]),
             h.make_node("OptionalGetElement", ["x"], ["y2"])]
    m = model(nodes, [vi("x", F, [2])], [vi(n, T.BOOL, []) for n in ("he", "hf", "hx", "hn")]
              + [vi("y", F, None), vi("y2", F, None)])
    x = np.array([1, 2], np.float32)
    he, hf, hx, hn, y, y2 = run(m, {"x": x})
    assert (he, hf, hx, hn) == (False, True, True, False)
    np.testing.assert_array_equal(y, x)


def test_optional_get_element_of_empty_is_an_error():
    opt_t = h.make_tensor_type_proto(F, None)
    nodes = [h.make_node("Optional", [], ["empty"], type=opt_t),
             h.make_node("OptionalGetElement", ["empty"], ["y"])]
    m = model(nodes, [], [vi("y", F, None)])
    with pytest.raises(InvalidArgument, match="empty"):
        onnxrun.InferenceSession(m).run(None, {})
