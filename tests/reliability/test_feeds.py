"""Bad feeds and fetches: onnxruntime's error classes and messages, checked against
onnxruntime itself."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from onnxrun.errors import OnnxRuntimeError

from ._util import make_model, needs, ort_error, ort_session, session, vi

X = np.ones((2, 3), np.float32)


@pytest.fixture(scope="module")
def model():
    return make_model([helper.make_node("Add", ["X", "Z"], ["Y"], name="a")],
                      [vi("X", shape=["N", 3]), vi("Z", shape=["N", 3])],
                      [vi("Y", shape=["N", 3])])


@pytest.fixture(scope="module")
def pair(model):
    needs("Add")
    return session(model), ort_session(model)


SAME_AS_ORT = {
    "unknown_input_name": (None, {"X": X, "Z": X, "Q": X}),
    "missing_input": (None, {"X": X}),
    "no_inputs": (None, {}),
    "wrong_dtype_float64": (None, {"X": X.astype(np.float64), "Z": X}),
    "wrong_dtype_int64": (None, {"X": X.astype(np.int64), "Z": X}),
    "wrong_rank": (None, {"X": X[None], "Z": X}),
    "wrong_fixed_dim": (None, {"X": np.ones((2, 4), np.float32), "Z": X}),
    "unknown_output_name": (["Nope"], {"X": X, "Z": X}),
}


@pytest.mark.parametrize("case", sorted(SAME_AS_ORT))
def test_same_error_as_onnxruntime(pair, case):
    ours, theirs = pair
    outs, feeds = SAME_AS_ORT[case]
    expected = ort_error(lambda: theirs.run(outs, feeds))
    assert expected is not None
    with pytest.raises(Exception) as info:
        ours.run(outs, feeds)
    assert (type(info.value).__name__, str(info.value)) == expected
    if expected[0] not in ("ValueError", "TypeError"):
        assert isinstance(info.value, OnnxRuntimeError)


OTHER_BAD = {
    "none_value": (None, {"X": None, "Z": X}),
    "string_value": (None, {"X": "abc", "Z": X}),
    "scalar_value": (None, {"X": np.float32(1), "Z": X}),
    "object_array": (None, {"X": np.array([[object()] * 3] * 2), "Z": X}),
    "ragged_list": (None, {"X": [[1.0, 2.0], [3.0]], "Z": X}),
    "output_name_not_str": ([1], {"X": X, "Z": X}),
    "broadcast_mismatch": (None, {"X": X, "Z": np.ones((5, 3), np.float32)}),
}


@pytest.mark.parametrize("case", sorted(OTHER_BAD))
def test_other_bad_feeds_give_clear_errors(pair, case):
    ours, _ = pair
    outs, feeds = OTHER_BAD[case]
    with pytest.raises((OnnxRuntimeError, TypeError, ValueError)) as info:
        ours.run(outs, feeds)
    assert type(info.value) in (TypeError, ValueError) or isinstance(info.value, OnnxRuntimeError)


def test_input_feed_not_a_dict(pair):
    ours, _ = pair
    with pytest.raises(TypeError):
        ours.run(None, [X, X])


@pytest.mark.parametrize("feeds", [
    {"X": [[1, 2, 3], [4, 5, 6]], "Z": X},          # lists are converted, as onnxruntime does
    {"X": np.ones((3, 2), np.float32).T, "Z": X},   # non-contiguous arrays are fine
])
def test_acceptable_feeds_match_onnxruntime(pair, feeds):
    ours, theirs = pair
    np.testing.assert_array_equal(ours.run(None, feeds)[0], theirs.run(None, feeds)[0])


def test_feeds_are_not_modified(pair):
    ours, _ = pair
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    keep = x.copy()
    ours.run(None, {"X": x, "Z": x})
    np.testing.assert_array_equal(x, keep)


# ---- sequence inputs -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seq_session():
    needs("SequenceAt")
    from onnx import TensorProto
    from ._util import const_i64
    seq = helper.make_tensor_sequence_value_info("S", TensorProto.FLOAT, None)
    model = make_model([helper.make_node("SequenceAt", ["S", "i"], ["Y"], name="at")], [seq],
                       [vi("Y")], [const_i64("i", 0)])
    return session(model)


def test_sequence_feed_of_the_declared_type_runs(seq_session):
    out = seq_session.run(None, {"S": [np.ones(2, np.float32)]})[0]
    assert out.dtype == np.float32 and out.shape == (2,)


def test_sequence_feed_that_is_not_a_list(seq_session):
    with pytest.raises(OnnxRuntimeError, match="sequence"):
        seq_session.run(None, {"S": np.ones(2, np.float32)})


@pytest.mark.parametrize("elem", [np.ones(2, np.int64), [1.0, 2.0], "abc", None],
                         ids=["int64", "nested_list", "str", "none"])
def test_sequence_feed_elements_are_type_checked(seq_session, elem):
    with pytest.raises(OnnxRuntimeError):
        seq_session.run(None, {"S": [elem]})


@pytest.mark.parametrize("value", [2 ** 70, [1, 2 ** 70], -2 ** 70, 1e30],
                         ids=["2**70", "list", "-2**70", "1e30"])
def test_out_of_range_python_numbers_are_a_clear_error(value):
    needs("Neg")
    from ._util import I64
    model = make_model([helper.make_node("Neg", ["I"], ["Y"], name="neg")], [vi("I", I64, None)],
                       [vi("Y", I64)])
    with pytest.raises(OnnxRuntimeError):
        session(model).run(None, {"I": value})


def test_complex_scalar_fed_to_float_input_is_refused_without_warning(recwarn):
    import warnings
    needs("Neg")
    warnings.simplefilter("always")
    model = make_model([helper.make_node("Neg", ["X"], ["Y"], name="neg")], [vi("X")], [vi("Y")])
    sess = session(model)
    with pytest.raises(OnnxRuntimeError):
        sess.run(None, {"X": np.complex64(1 + 2j)})
    assert not [str(w.message) for w in recwarn.list]
