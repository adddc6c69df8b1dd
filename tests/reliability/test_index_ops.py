"""Index ops: out-of-range and too-negative indices raise InvalidArgument naming the node (never
wrap or clip silently); valid edge cases give onnxruntime's results."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from onnxrun.errors import InvalidArgument, OnnxRuntimeError

from ._util import make_model, needs, ort_error, ort_session, session, vi

X = np.arange(12, dtype=np.float32).reshape(3, 4)
ONES11 = np.ones((1, 1), np.float32)


def idx(*a, shape=None):
    arr = np.array(a, np.int64)
    return arr.reshape(shape) if shape is not None else arr


ML = "ai.onnx.ml"
ERRORS = {
    "Gather_past_end": ("Gather", {"X": X, "I": idx(3)}, dict(axis=0)),
    "Gather_too_negative": ("Gather", {"X": X, "I": idx(-4)}, dict(axis=0)),
    "Gather_axis1": ("Gather", {"X": X, "I": idx(0, 4)}, dict(axis=1)),
    "Gather_int32": ("Gather", {"X": X, "I": np.array([5], np.int32)}, dict(axis=0)),
    "Gather_huge": ("Gather", {"X": X, "I": idx(2 ** 62)}, dict(axis=0)),
    "Gather_int64_min": ("Gather", {"X": X, "I": idx(-2 ** 63)}, dict(axis=0)),
    "GatherElements_past_end": ("GatherElements", {"X": X, "I": np.full((3, 4), 4, np.int64)},
                                dict(axis=1)),
    "GatherElements_too_negative": ("GatherElements",
                                    {"X": X, "I": np.full((3, 4), -5, np.int64)}, dict(axis=1)),
    "GatherND_past_end": ("GatherND", {"X": X, "I": idx(0, 4, shape=(1, 2))}, {}),
    "GatherND_too_negative": ("GatherND", {"X": X, "I": idx(-4, 0, shape=(1, 2))}, {}),
    "ScatterElements_past_end": ("ScatterElements", {"X": X, "I": idx(9, shape=(1, 1)),
                                                     "U": ONES11}, dict(axis=1)),
    "ScatterElements_too_negative": ("ScatterElements", {"X": X, "I": idx(-5, shape=(1, 1)),
                                                         "U": ONES11}, dict(axis=1)),
    "ScatterND_past_end": ("ScatterND", {"X": X, "I": idx(3, shape=(1, 1)),
                                         "U": np.ones((1, 4), np.float32)}, {}),
    "ScatterND_too_negative": ("ScatterND", {"X": X, "I": idx(-4, shape=(1, 1)),
                                             "U": np.ones((1, 4), np.float32)}, {}),
    "ArrayFeatureExtractor_past_end": ("ArrayFeatureExtractor", {"X": X, "I": idx(4)}, {}),
    "ArrayFeatureExtractor_negative": ("ArrayFeatureExtractor", {"X": X, "I": idx(-1)}, {}),
    "Slice_step_zero": ("Slice", {"X": X, "S": idx(0), "E": idx(2), "A": idx(0),
                                  "St": idx(0)}, {}),
    "Slice_axis_out_of_range": ("Slice", {"X": X, "S": idx(0), "E": idx(2), "A": idx(2)}, {}),
    "Slice_axis_too_negative": ("Slice", {"X": X, "S": idx(0), "E": idx(2), "A": idx(-3)}, {}),
    "Slice_repeated_axis": ("Slice", {"X": X, "S": idx(0, 0), "E": idx(2, 2), "A": idx(0, 0)},
                            {}),
    "Slice_length_mismatch": ("Slice", {"X": X, "S": idx(0, 0), "E": idx(2)}, {}),
}

VALID = {
    "Gather_negative_ok": ("Gather", {"X": X, "I": idx(-3, 2)}, dict(axis=0)),
    "Gather_empty_indices": ("Gather", {"X": X, "I": np.zeros((0,), np.int64)}, dict(axis=1)),
    "GatherElements_negative_ok": ("GatherElements",
                                   {"X": X, "I": np.full((3, 4), -4, np.int64)}, dict(axis=1)),
    "GatherND_negative_ok": ("GatherND", {"X": X, "I": idx(-3, -1, shape=(1, 2))}, {}),
    "ScatterND_negative_ok": ("ScatterND", {"X": X, "I": idx(-3, shape=(1, 1)),
                                            "U": np.ones((1, 4), np.float32)}, {}),
    "OneHot_out_of_range_is_all_off": ("OneHot", {"I": idx(0, 5, -4, -3, 2),
                                                  "D": np.array(3, np.int64),
                                                  "V": np.array([0, 1], np.float32)}, {}),
    "Slice_extremes_clamped": ("Slice", {"X": X, "S": idx(-2 ** 63, 2 ** 63 - 1),
                                         "E": idx(2 ** 63 - 1, -2 ** 63), "A": idx(0, 1),
                                         "St": idx(1, -1)}, {}),
    "Slice_huge_step": ("Slice", {"X": X, "S": idx(0), "E": idx(3), "A": idx(0),
                                  "St": idx(2 ** 63 - 1)}, {}),
    "Slice_int64_min_step": ("Slice", {"X": X, "S": idx(-1), "E": idx(-2 ** 63), "A": idx(0),
                                       "St": idx(-2 ** 63)}, {}),
    "Slice_empty_range": ("Slice", {"X": X, "S": idx(3), "E": idx(1), "A": idx(1)}, {}),
}


def _model(op, ins, attrs, fold=False):
    domain = ML if op == "ArrayFeatureExtractor" else ""
    node = helper.make_node(op, list(ins), ["Y"], name="ix", domain=domain, **attrs)
    extra = [(ML, 3)] if domain else []
    if fold:
        inits = [onnx.numpy_helper.from_array(v, n) for n, v in ins.items()]
        return make_model([node], [], [vi("Y")], inits, extra_opsets=extra), {}
    inputs = [vi(n, helper.np_dtype_to_tensor_dtype(v.dtype), list(v.shape))
              for n, v in ins.items()]
    return make_model([node], inputs, [vi("Y")], extra_opsets=extra), dict(ins)


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_bad_index_raises_invalid_argument(case):
    op, ins, attrs = ERRORS[case]
    needs(op, domain=ML if op == "ArrayFeatureExtractor" else "")
    model, feeds = _model(op, ins, attrs)
    with pytest.raises(InvalidArgument) as info:
        session(model).run(None, feeds)
    assert (f"Non-zero status code returned while running {op} node. Name:'ix' Status Message: "
            in str(info.value))
    assert ort_error(lambda: ort_session(model).run(None, feeds)) is not None


@pytest.mark.parametrize("case", ["Gather_past_end", "ScatterND_too_negative",
                                  "GatherElements_past_end"])
def test_bad_constant_index_is_refused_at_load_or_run(case):
    op, ins, attrs = ERRORS[case]
    needs(op)
    model, _ = _model(op, ins, attrs, fold=True)
    with pytest.raises(InvalidArgument):
        session(model).run(None, {})


@pytest.mark.parametrize("case", sorted(VALID))
def test_valid_edge_cases_match_onnxruntime(case):
    op, ins, attrs = VALID[case]
    needs(op)
    model, feeds = _model(op, ins, attrs)
    ours = session(model).run(None, feeds)[0]
    theirs = ort_session(model).run(None, feeds)[0]
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def test_bad_index_inside_a_subgraph_names_both_nodes():
    needs("If", "Gather")
    then = helper.make_graph([helper.make_node("Gather", ["X", "I"], ["T"], name="inner_gather")],
                             "then", [], [vi("T")])
    other = helper.make_graph([helper.make_node("Identity", ["X"], ["E"])], "else", [], [vi("E")])
    node = helper.make_node("If", ["C"], ["Y"], name="outer_if", then_branch=then,
                            else_branch=other)
    model = make_model([node], [vi("X", shape=[3, 4]), vi("I", TensorProto.INT64, [1]),
                                vi("C", TensorProto.BOOL, [])], [vi("Y")])
    feeds = {"X": X, "I": idx(7), "C": np.array(True)}
    with pytest.raises(OnnxRuntimeError) as info:
        session(model).run(None, feeds)
    msg = str(info.value)
    assert isinstance(info.value, InvalidArgument), msg
    assert "inner_gather" in msg and "outer_if" in msg
