"""Fuzzing (bounded, deterministic): mutated bytes of a small valid model, mutated model
structure, and random feeds. Any exception outside onnxrun's classes (and the ValueError
onnxruntime raises for missing inputs) is a failure. scripts/fuzz_atheris.py runs the same
checks for as long as you like."""

from __future__ import annotations

import traceback

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

import onnxrun

from . import _fuzz_common as fc
from ._util import needs

SEED = fc.seed_model()
SEED_BYTES = SEED.SerializeToString()


def fuzz(n: int):
    """Deterministic (derandomized) and bounded, so CI runs the same examples in a few seconds;
    scripts/fuzz_atheris.py is the open-ended version."""
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=True)


@pytest.fixture(scope="module", autouse=True)
def _seed_runs():
    needs("MatMul", "Add", "ReduceSum", "Greater", "If", "Relu", "Neg", "Gather", "Softmax",
          "Transpose", "Shape", "ConstantOfShape", "Constant")
    fc.load_and_run(SEED_BYTES, np.random.default_rng(0))  # the seed itself is valid


def _fail(data, exc):
    tb = "".join(traceback.format_exception(exc))
    pytest.fail(f"{type(exc).__name__} escaped for input {data!r:.300}:\n{tb}")


mutation = st.one_of(
    st.tuples(st.just("flip"), st.lists(st.tuples(st.integers(0, len(SEED_BYTES) - 1),
                                                   st.integers(0, 7)), min_size=1, max_size=8)),
    st.tuples(st.just("truncate"), st.integers(0, len(SEED_BYTES) - 1)),
    st.tuples(st.just("insert"), st.integers(0, len(SEED_BYTES)), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("overwrite"), st.integers(0, len(SEED_BYTES) - 1), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("duplicate"), st.integers(0, len(SEED_BYTES) - 1), st.integers(1, 64)),
)


def apply_mutation(data: bytes, m) -> bytes:
    kind = m[0]
    b = bytearray(data)
    if kind == "flip":
        for pos, bit in m[1]:
            if pos < len(b):
                b[pos] ^= 1 << bit
    elif kind == "truncate":
        del b[m[1]:]
    elif kind == "insert":
        b[m[1]:m[1]] = m[2]
    elif kind == "overwrite":
        b[m[1]:m[1] + len(m[2])] = m[2][:max(0, len(b) - m[1])]
    elif kind == "duplicate":
        b[m[1]:m[1]] = b[m[1]:m[1] + m[2]]
    return bytes(b)


def mutated_seed(mutations) -> bytes:
    data = SEED_BYTES
    for m in mutations:
        data = apply_mutation(data, m)
    return data


@fuzz(500)
@given(st.lists(mutation, min_size=1, max_size=3))
def test_mutated_model_bytes(mutations):
    data = mutated_seed(mutations)
    exc = fc.check(data, np.random.default_rng(0))
    if exc is not None:
        _fail(data, exc)


# ---- structure-aware mutations: valid protobuf, hostile content --------------------------------

OPS = ["Relu", "Neg", "Add", "MatMul", "Gather", "Softmax", "Transpose", "Reshape", "Concat",
       "Slice", "Squeeze", "Unsqueeze", "Expand", "Tile", "Pad", "Split", "Cast", "Where",
       "ReduceSum", "ArgMax", "TopK", "Conv", "MaxPool", "Identity", "If", "Loop", "Range",
       "ConstantOfShape", "OneHot", "ScatterND", "GatherElements", "Resize", "Einsum",
       "NonZero", "Flatten", "LayerNormalization", "Trilu", "CumSum", "Sum"]
FUSABLE = ["BatchNormalization", "Mul", "Div", "Sub", "Pow", "Sqrt", "ReduceMean", "Erf",
           "Sigmoid", "Tanh", "Clip", "LeakyRelu", "Reciprocal", "Dropout", "Unsqueeze"]
ATTRS = ["axis", "axes", "perm", "keepdims", "to", "kernel_shape", "pads", "strides", "k",
         "equation", "mode", "value", "then_branch", "upper", "exclusive", "epsilon"]

attr_value = st.one_of(
    st.integers(-2 ** 63, 2 ** 63 - 1), st.integers(-5, 5), st.floats(allow_nan=True),
    st.lists(st.integers(-5, 5), max_size=5), st.lists(st.integers(-2 ** 40, 2 ** 40),
                                                       max_size=3),
    st.sampled_from(["", "ij->ji", "nearest", "...", "\udcff"]),
)

structural = st.one_of(
    st.tuples(st.just("op_type"), st.integers(0, 100), st.sampled_from(OPS)),
    st.tuples(st.just("attr"), st.integers(0, 100), st.sampled_from(ATTRS), attr_value),
    st.tuples(st.just("dims"), st.integers(0, 10), st.lists(st.integers(-2, 2 ** 62),
                                                            max_size=4)),
    st.tuples(st.just("data_type"), st.integers(0, 10), st.integers(-1, 30)),
    st.tuples(st.just("input_name"), st.integers(0, 100), st.integers(0, 5),
              st.sampled_from(["X", "W", "B", "P", "H", "", "Y", "nope", "G", "then_relu"])),
    st.tuples(st.just("drop_input"), st.integers(0, 100)),
    st.tuples(st.just("elem_type"), st.integers(0, 3), st.integers(0, 30)),
    st.tuples(st.just("opset"), st.integers(-3, 40)),
    st.tuples(st.just("swap_nodes"), st.integers(0, 100), st.integers(0, 100)),
    st.tuples(st.just("add_init"), st.sampled_from([TensorProto.FLOAT, TensorProto.INT64]),
              st.lists(st.integers(0, 4), max_size=4)),
    st.tuples(st.just("add_node"), st.sampled_from(OPS + FUSABLE),
              st.lists(st.integers(0, 100), min_size=1, max_size=5), st.booleans()),
)


def apply_structural(model: onnx.ModelProto, m) -> None:
    g = model.graph
    nodes = list(g.node)
    kind = m[0]
    if kind == "op_type" and nodes:
        g.node[m[1] % len(nodes)].op_type = m[2]
    elif kind == "attr" and nodes:
        node = g.node[m[1] % len(nodes)]
        for a in list(node.attribute):
            if a.name == m[2]:
                node.attribute.remove(a)
        value = m[3]
        if m[2] == "then_branch":
            value = helper.make_graph([], "empty", [], [])
        try:
            node.attribute.append(helper.make_attribute(m[2], value))
        except (ValueError, TypeError, OverflowError):
            pass
    elif kind == "dims" and g.initializer:
        t = g.initializer[m[1] % len(g.initializer)]
        del t.dims[:]
        t.dims.extend(m[2])
    elif kind == "data_type" and g.initializer:
        g.initializer[m[1] % len(g.initializer)].data_type = m[2]
    elif kind == "input_name" and nodes:
        node = g.node[m[1] % len(nodes)]
        if node.input:
            node.input[m[2] % len(node.input)] = m[3]
    elif kind == "drop_input" and nodes:
        node = g.node[m[1] % len(nodes)]
        if node.input:
            del node.input[-1]
    elif kind == "elem_type":
        vis = list(g.input) + list(g.output)
        vis[m[1] % len(vis)].type.tensor_type.elem_type = m[2]
    elif kind == "opset":
        model.opset_import[0].version = m[1]
    elif kind == "add_init":
        k = len(g.initializer)
        arr = np.arange(int(np.prod(m[2] or [1])), dtype=np.float32).reshape(m[2]) - 2
        dtype = np.float32 if m[1] == TensorProto.FLOAT else np.int64
        g.initializer.append(onnx.numpy_helper.from_array(arr.astype(dtype), f"k{k}"))
    elif kind == "add_node":
        names = ["X"] + [t.name for t in g.initializer] + [o for n in nodes for o in n.output]
        k = len(nodes)
        node = helper.make_node(m[1], [names[i % len(names)] for i in m[2]], [f"n{k}"],
                                name=f"added{k}")
        g.node.append(node)
        if m[3]:
            g.output.append(helper.make_empty_tensor_value_info(f"n{k}"))
    elif kind == "swap_nodes" and nodes:
        i, j = m[1] % len(nodes), m[2] % len(nodes)
        a, b = onnx.NodeProto(), onnx.NodeProto()
        a.CopyFrom(g.node[i])
        b.CopyFrom(g.node[j])
        g.node[i].CopyFrom(b)
        g.node[j].CopyFrom(a)


@fuzz(400)
@given(st.lists(structural, min_size=1, max_size=4), st.booleans())
def test_mutated_model_structure(mutations, as_proto):
    model = onnx.ModelProto()
    model.CopyFrom(SEED)
    for m in mutations:
        apply_structural(model, m)
    data = model if as_proto else model.SerializeToString()
    exc = fc.check(data, np.random.default_rng(0))
    if exc is not None:
        _fail(mutations, exc)


# ---- random feeds ------------------------------------------------------------------------------

DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int8, np.uint8, np.bool_,
          np.complex64, object]

feed_value = st.one_of(
    st.tuples(st.sampled_from(DTYPES), st.lists(st.integers(0, 5), max_size=4)),
    st.sampled_from([None, "text", 3, 2.5, [[1.0, 2.0, 3.0]], [[1, 2], [3]], (), {}]),
)


def _make(v, rng):
    if isinstance(v, tuple) and len(v) == 2 and isinstance(v[1], list):
        dtype, shape = v
        if dtype is object:
            return np.full(shape, "s", dtype=object)
        return (rng.standard_normal(shape) * 4).astype(dtype)
    return v


@pytest.fixture(scope="module")
def seed_session():
    return onnxrun.InferenceSession(SEED_BYTES, fc.options(), providers=["CPUExecutionProvider"])


@fuzz(200)
@given(st.dictionaries(st.sampled_from(["X", "X", "Y", "W", "x", ""]), feed_value, max_size=3),
       st.one_of(st.none(), st.lists(st.sampled_from(["Y", "Z", "H", "nope", "W"]),
                                     max_size=3)))
def test_random_feeds(seed_session, feeds, outputs):
    rng = np.random.default_rng(0)
    feeds = {k: _make(v, rng) for k, v in feeds.items()}
    try:
        seed_session.run(outputs, feeds)
    except Exception as exc:  # noqa: BLE001
        if not fc.allowed(exc) and not (type(exc) in (TypeError, ValueError)
                                        and _ort_agrees(feeds, outputs, type(exc))):
            _fail(feeds, exc)
    # the session is still healthy afterwards
    x = np.ones((2, 3), np.float32)
    assert seed_session.run(["Y"], {"X": x})[0].shape == (2, 2)


def _ort_agrees(feeds, outputs, cls) -> bool:
    """True when onnxruntime raises the same builtin class for these feeds."""
    ort = pytest.importorskip("onnxruntime")
    so = ort.SessionOptions()
    so.log_severity_level = 4
    sess = ort.InferenceSession(SEED_BYTES, so, providers=["CPUExecutionProvider"])
    try:
        sess.run(outputs, feeds)
    except Exception as exc:  # noqa: BLE001
        return type(exc) is cls
    return False


def _typed_inputs_model():
    """Inputs of several kinds (string, bool, int64, a sequence, a fixed shape) for feed fuzzing."""
    nodes = [helper.make_node("StringNormalizer", ["S"], ["S2"], name="norm",
                              case_change_action="UPPER"),
             helper.make_node("Not", ["B"], ["B2"], name="not"),
             helper.make_node("Neg", ["I"], ["I2"], name="neg"),
             helper.make_node("SequenceLength", ["Q"], ["L"], name="len")]
    inputs = [helper.make_tensor_value_info("S", TensorProto.STRING, ["N"]),
              helper.make_tensor_value_info("B", TensorProto.BOOL, [2, 2]),
              helper.make_tensor_value_info("I", TensorProto.INT64, None),
              helper.make_tensor_sequence_value_info("Q", TensorProto.FLOAT, None)]
    outputs = [helper.make_empty_tensor_value_info(n) for n in ("S2", "B2", "I2", "L")]
    m = helper.make_model(helper.make_graph(nodes, "typed", inputs, outputs),
                          opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 10
    return m


typed_value = st.one_of(
    feed_value,
    st.sampled_from([["a", "b"], [b"x"], np.array(["x", "y"]), np.array([b"q"]),
                     np.array(["s"], dtype=object), [np.ones(2, np.float32)], [], [None],
                     np.zeros((2, 2), bool), np.array([[True, False]]), 7, -1, 2 ** 70,
                     np.array([2 ** 62]), "\udcff"]),
)


@pytest.fixture(scope="module")
def typed_session():
    needs("StringNormalizer", "Not", "Neg", "SequenceLength")
    return onnxrun.InferenceSession(_typed_inputs_model().SerializeToString(), fc.options(),
                                    providers=["CPUExecutionProvider"])


GOOD = {"S": np.array(["a", "b"], dtype=object), "B": np.zeros((2, 2), bool),
        "I": np.arange(3, dtype=np.int64), "Q": [np.ones(2, np.float32)]}


@fuzz(300)
@given(st.dictionaries(st.sampled_from(["S", "B", "I", "Q", "Z"]), typed_value, max_size=2),
       st.lists(st.sampled_from(["S", "B", "I", "Q"]), max_size=1))
def test_random_feeds_of_several_kinds(typed_session, changed, dropped):
    rng = np.random.default_rng(0)
    feeds = dict(GOOD)
    feeds.update({k: _make(v, rng) for k, v in changed.items()})
    for k in dropped:
        feeds.pop(k, None)
    try:
        typed_session.run(None, feeds)
    except Exception as exc:  # noqa: BLE001
        if not fc.allowed(exc):
            _fail(feeds, exc)
