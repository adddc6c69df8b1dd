"""Large raw_data read past protobuf (onnxrun.load.inline_data): the same tensors and outputs
as a plain parse, from a path and from bytes, wherever a tensor can live (initializers,
Constant attributes, subgraph initializers), for several element types; malformed or forged
input gets onnxrun's errors."""

from __future__ import annotations

import os
from unittest import mock

import ml_dtypes
import numpy as np
import onnx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

import onnxrun
from onnxrun.errors import Fail, InvalidProtobuf
from onnxrun.load import inline_data, model_loader
from onnxrun.load.inline_data import strip_large_raw_data

from . import _fuzz_common as fc
from .test_fuzz import SEED_BYTES, fuzz, mutated_seed, mutation

N = 300  # 300x300 float32: 360 KB per weight, above MIN_BYTES
RNG = np.random.default_rng(0)
W = RNG.standard_normal((N, N)).astype(np.float32)
C = RNG.standard_normal((N, N)).astype(np.float32)
S = RNG.standard_normal((N, N)).astype(np.float32)
H = RNG.standard_normal((N, N)).astype(np.float16)
I8 = RNG.integers(-8, 8, (N, N)).astype(np.int8)
I4 = RNG.integers(-8, 8, (N * N * 2,)).astype(np.int8)  # int4: 90,000 bytes packed


def _model() -> onnx.ModelProto:
    f = TensorProto.FLOAT
    w = numpy_helper.from_array(W, "W")
    w.doc_string = "kept"
    i4 = numpy_helper.from_array(I4.astype(ml_dtypes.int4), "I4")
    assert i4.data_type == TensorProto.INT4 and len(i4.raw_data) == I4.size // 2
    sub_init = numpy_helper.from_array(S, "S")
    then = helper.make_graph([helper.make_node("Add", ["A", "S"], ["T"], name="t_add")], "then",
                             [], [helper.make_tensor_value_info("T", f, [1, N])], [sub_init])
    other = helper.make_graph([helper.make_node("Neg", ["A"], ["E"], name="e_neg")], "else",
                              [], [helper.make_tensor_value_info("E", f, [1, N])])
    nodes = [
        helper.make_node("MatMul", ["X", "W"], ["A"], name="mm"),
        helper.make_node("Constant", [], ["Cc"], name="c", value=numpy_helper.from_array(C, "c")),
        helper.make_node("MatMul", ["A", "Cc"], ["B"], name="mm2"),
        helper.make_node("Cast", ["H"], ["Hf"], name="cast_h", to=f),
        helper.make_node("Cast", ["I8"], ["I8f"], name="cast_i8", to=f),
        helper.make_node("Add", ["Hf", "I8f"], ["HI"], name="add_hi"),
        helper.make_node("MatMul", ["B", "HI"], ["Y"], name="mm3"),
        helper.make_node("Cast", ["I4"], ["I4f"], name="cast_i4", to=f),
        helper.make_node("ReduceSum", ["I4f"], ["R"], name="rsum", keepdims=0),
        helper.make_node("Greater", ["R", "zero"], ["cond"], name="gt"),
        helper.make_node("If", ["cond"], ["Z"], name="if", then_branch=then, else_branch=other),
    ]
    inits = [w, numpy_helper.from_array(H, "H"), numpy_helper.from_array(I8, "I8"), i4,
             numpy_helper.from_array(np.array(-1e9, np.float32), "zero")]
    g = helper.make_graph(nodes, "inline", [helper.make_tensor_value_info("X", f, [1, N])],
                          [helper.make_tensor_value_info("Y", f, [1, N]),
                           helper.make_tensor_value_info("Z", f, [1, N]),
                           helper.make_tensor_value_info("R", f, [])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
    m.ir_version = 10
    return m


MODEL = _model()
DATA = MODEL.SerializeToString()
X = RNG.standard_normal((1, N)).astype(np.float32)


def _expected():
    a = X @ W
    y = (a @ C) @ (H.astype(np.float32) + I8.astype(np.float32))
    return y, a + S, np.float32(I4.sum())


def _check(outs):
    y, z, r = _expected()
    np.testing.assert_allclose(outs[0], y, rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(outs[1], z, rtol=1e-5)
    assert outs[2] == r


def test_strip_cuts_every_large_raw_data():
    stripped, segments, token = strip_large_raw_data(DATA)
    # W, H, I8, I4 (initializers), C (Constant attribute), S (subgraph initializer)
    assert len(segments) == 6
    assert len(stripped) < len(DATA) - sum(segments.values()) + 2000
    for offset, length in segments.items():
        assert length >= inline_data.MIN_BYTES
    m = onnx.ModelProto()
    m.ParseFromString(stripped)
    w = next(t for t in m.graph.initializer if t.name == "W")
    assert not w.HasField("raw_data")
    assert w.data_location == TensorProto.EXTERNAL
    assert w.external_data[0].value == token
    assert (w.doc_string, list(w.dims), w.data_type) == ("kept", [N, N], TensorProto.FLOAT)
    offset = int(w.external_data[1].value)
    assert DATA[offset:offset + W.nbytes] == W.tobytes()
    zero = next(t for t in m.graph.initializer if t.name == "zero")
    assert zero.HasField("raw_data")  # small tensors stay as they are


def test_path_bytes_and_proto_agree(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(DATA)
    assert len(DATA) >= model_loader.INLINE_MIN_MODEL_BYTES
    for source in (str(path), DATA, MODEL):
        sess = onnxrun.InferenceSession(source, providers=["CPUExecutionProvider"])
        _check(sess.run(None, {"X": X}))
    sess = onnxrun.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert sess._inline is not None and len(sess._inline.segments) == 6


def test_weights_stay_readable_after_the_file_is_removed(tmp_path):
    # fetching an intermediate value builds a second graph, which reads the weights again:
    # from the file descriptor the session keeps, not from the path
    path = tmp_path / "m.onnx"
    path.write_bytes(DATA)
    sess = onnxrun.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    os.remove(path)
    a, y = sess.run(["A", "Y"], {"X": X})
    np.testing.assert_allclose(a, X @ W, rtol=1e-5, atol=1e-4)
    _check(sess.run(None, {"X": X}))


def test_truncated_large_model_is_a_protobuf_error(tmp_path):
    path = tmp_path / "m.onnx"
    for cut in (len(DATA) // 2, len(DATA) - 3):
        path.write_bytes(DATA[:cut])
        with pytest.raises(InvalidProtobuf, match="protobuf parsing failed"):
            onnxrun.InferenceSession(str(path))
        with pytest.raises(InvalidProtobuf, match="protobuf parsing failed"):
            onnxrun.InferenceSession(DATA[:cut])


def test_wrong_raw_data_size_is_named(tmp_path):
    m = onnx.ModelProto()
    m.CopyFrom(MODEL)
    w = next(t for t in m.graph.initializer if t.name == "W")
    w.dims[0] = N + 1
    with pytest.raises(Fail, match=r"initializer 'W': raw_data has 360000 bytes but dims "
                                   r"\[301, 300\] of type TensorProto.FLOAT need 361200"):
        onnxrun.InferenceSession(m.SerializeToString())


def test_a_forged_token_is_plain_external_data(tmp_path):
    # a model cannot name the bytes of another load: an unknown token is an ordinary
    # external-data location, refused because no such file exists
    stripped, _, token = strip_large_raw_data(DATA)
    path = tmp_path / "m.onnx"
    path.write_bytes(stripped)
    with pytest.raises(Fail, match=f"location '{token}'.*file does not exist"):
        onnxrun.InferenceSession(str(path))


@fuzz(300)
@given(st.lists(mutation, min_size=1, max_size=3))
def test_mutated_bytes_through_the_inline_path(mutations):
    # the fuzz seed's tensors are tiny: lower the thresholds so every tensor goes inline
    data = mutated_seed(mutations)
    with mock.patch.object(inline_data, "MIN_BYTES", 8), \
            mock.patch.object(model_loader, "INLINE_MIN_MODEL_BYTES", 0):
        exc = fc.check(data, np.random.default_rng(0))
    assert exc is None, f"{type(exc).__name__}: {exc}"


def test_seed_goes_inline_with_low_thresholds():
    with mock.patch.object(inline_data, "MIN_BYTES", 8):
        assert strip_large_raw_data(SEED_BYTES) is not None


def test_long_attribute_lists_are_skipped_not_walked():
    # a node with 100,000 unpacked ints (a tree ensemble's lists look like this) next to a
    # large initializer: the walk leaves the attribute at its first list entry, so even a
    # small field budget reaches the initializer behind it
    big = numpy_helper.from_array(W, "W")
    node = helper.make_node("MatMul", ["X", "W"], ["Y"], name="mm")
    node.attribute.append(helper.make_attribute("long_list", list(range(100_000))))
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT,
                                                                      [1, N])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, N])], [big])
    data = helper.make_model(g).SerializeToString()
    with mock.patch.object(inline_data, "MAX_FIELDS", 1000):
        result = strip_large_raw_data(data)
    assert result is not None and len(result[1]) == 1
    with mock.patch.object(inline_data, "MAX_FIELDS", 10):  # budget spent: protobuf parses
        assert strip_large_raw_data(data) is None
