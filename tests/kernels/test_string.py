"""String kernels against onnxruntime: StringConcat, StringNormalizer, StringSplit,
RegexFullMatch, TfIdfVectorizer (random token streams, skips, weights)."""

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import helper as h

import onnxrun
from onnxrun.errors import InvalidArgument, OnnxRuntimeError

S = T.STRING


def vi(name, elem, shape=None):
    return h.make_tensor_value_info(name, elem, shape)


def model(node, inputs, outputs, opset=20):
    g = h.make_graph([node], "g", inputs, outputs)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 9
    return m.SerializeToString()


def both(m, feeds):
    ours = onnxrun.InferenceSession(m).run(None, feeds)
    ref = ort.InferenceSession(m, providers=["CPUExecutionProvider"]).run(None, feeds)
    for a, b in zip(ours, ref):
        assert a.shape == b.shape, (a.shape, b.shape)
        if b.dtype == object:
            assert a.dtype == object
            assert a.tolist() == b.tolist()
        else:
            assert a.dtype == b.dtype
            np.testing.assert_allclose(a, b, rtol=1e-6)
    return ours


def strings(*values, shape=None):
    arr = np.array(values, dtype=object)
    return arr.reshape(shape) if shape is not None else arr


def test_string_concat_broadcast_and_scalar():
    m = model(h.make_node("StringConcat", ["x", "y"], ["z"]), [vi("x", S), vi("y", S)],
              [vi("z", S)])
    both(m, {"x": strings("a", "bé", "", shape=(3, 1)), "y": strings("1", "")})
    both(m, {"x": np.array("ab", dtype=object), "y": np.array("cd", dtype=object)})


@pytest.mark.parametrize("action,sensitive,shape", [
    ("LOWER", 0, (5,)), ("UPPER", 1, (1, 5)), ("NONE", 0, (1, 5))])
def test_string_normalizer(action, sensitive, shape):
    node = h.make_node("StringNormalizer", ["x"], ["y"], case_change_action=action,
                       is_case_sensitive=sensitive, stopwords=["The", "a"], locale="C")
    m = model(node, [vi("x", S)], [vi("y", S)], opset=10)
    both(m, {"x": strings("The", "the", "Quick", "A", "fox", shape=shape)})
    both(m, {"x": strings("The", "a", "The", shape=(1, 3) if len(shape) == 2 else (3,))})


def test_string_normalizer_rejects_other_shapes():
    m = model(h.make_node("StringNormalizer", ["x"], ["y"]), [vi("x", S)], [vi("y", S)], opset=10)
    with pytest.raises(InvalidArgument, match=r"\[C\]"):
        onnxrun.InferenceSession(m).run(None, {"x": strings("a", "b", shape=(2, 1))})


@pytest.mark.parametrize("delimiter,maxsplit", [(None, None), ("", 1), (",", None), (",", 1),
                                                (";;", 2), (",", 0), (None, 0)])
def test_string_split(delimiter, maxsplit):
    kw = {}
    if delimiter is not None:
        kw["delimiter"] = delimiter
    if maxsplit is not None:
        kw["maxsplit"] = maxsplit
    m = model(h.make_node("StringSplit", ["x"], ["y", "n"], **kw), [vi("x", S)],
              [vi("y", S), vi("n", T.INT64)])
    x = strings(" a  b c ", "a,,b,", "x;;y;;;;z", "nodelim", "  ", ",", "", ",a", "b ",
                shape=(3, 3))
    both(m, {"x": x})


@pytest.mark.parametrize("pattern", [
    r"[a-z]+@[a-z]+\.(com|org)", r"\d{2,3}-\w*", r"(?i)hello.*", r"a|b", r"\S+\s\S+", r"\w+",
    r"[[:alpha:]]+", r"[^[:digit:]]+", r"(?i)é", r"\x{e9}", r"[\w-]+", r"\Q.*\E.", r"(?<n>a)",
    r"a\b.*", r".", r"[&|~]+"])
def test_regex_full_match(pattern):
    m = model(h.make_node("RegexFullMatch", ["x"], ["y"], pattern=pattern), [vi("x", S)],
              [vi("y", T.BOOL)])
    x = strings("john@doe.com", "x@y.org ", "12-abc", "123-", "HELLO world", "a", "ab", "",
                "one two", "é", "É", "\u0663", "\u00a0", "α", ".*x", "a-b", "&|", "a b",
                shape=(3, 6))
    both(m, {"x": x})


def test_regex_rejects_constructs_re2_or_python_lacks():
    for pattern in (r"(a)\1", r"a(?=b)", r"(?<!x)y", "a++", "a{1,}+", r"\pL", "(?U)a+", "(?>a)",
                    "[[:nope:]]", "a\\"):
        m = model(h.make_node("RegexFullMatch", ["x"], ["y"], pattern=pattern), [vi("x", S)],
                  [vi("y", T.BOOL)])
        with pytest.raises(OnnxRuntimeError):
            onnxrun.InferenceSession(m)


def test_regex_z_anchor_and_character_class():
    m = model(h.make_node("RegexFullMatch", ["x"], ["y"], pattern=r"[*+]+x\z"), [vi("x", S)],
              [vi("y", T.BOOL)])
    y = onnxrun.InferenceSession(m).run(None, {"x": strings("*+x", "x", "+x\n")})[0]
    assert y.tolist() == [True, False, False]


def tfidf_model(mode, min_n, max_n, skip, pool, counts, indexes, weights=None, strings_=False,
                elem=T.INT64):
    kw = dict(mode=mode, min_gram_length=min_n, max_gram_length=max_n, max_skip_count=skip,
              ngram_counts=counts, ngram_indexes=indexes)
    if strings_:
        kw["pool_strings"] = pool
    else:
        kw["pool_int64s"] = pool
    if weights is not None:
        kw["weights"] = weights
    return model(h.make_node("TfIdfVectorizer", ["x"], ["y"], **kw), [vi("x", elem)],
                 [vi("y", T.FLOAT)], opset=9)


# pool: 4 unigrams, 3 bigrams, 2 trigrams
POOL = [1, 2, 3, 4, 1, 2, 2, 3, 4, 1, 1, 2, 3, 2, 2, 2]
COUNTS = [0, 4, 10]
INDEXES = [8, 0, 1, 2, 3, 4, 5, 6, 7]
WEIGHTS = [0.5, 1, 2, 3, 4, 5, 6, 7, 8]


@pytest.mark.parametrize("mode,min_n,max_n,skip,weights", [
    ("TF", 1, 3, 0, None), ("TF", 2, 3, 3, None), ("TF", 1, 2, 2, None),
    ("IDF", 1, 3, 1, WEIGHTS), ("TFIDF", 2, 2, 4, WEIGHTS), ("IDF", 1, 1, 0, None),
    ("TFIDF", 3, 3, 1, None)])
def test_tfidf_random_ints(mode, min_n, max_n, skip, weights):
    rng = np.random.default_rng(1)
    m = tfidf_model(mode, min_n, max_n, skip, POOL, COUNTS, INDEXES, weights)
    both(m, {"x": rng.integers(0, 5, size=(3, 17)).astype(np.int64)})
    both(m, {"x": rng.integers(0, 5, size=(11,)).astype(np.int64)})


def test_tfidf_strings_and_int32():
    words = ["a", "b", "c", "d", "e"]
    pool = [words[v] for v in POOL]
    rng = np.random.default_rng(2)
    tokens = rng.integers(0, 6, size=(2, 13))
    m = tfidf_model("TF", 1, 3, 2, pool, COUNTS, INDEXES, strings_=True, elem=S)
    both(m, {"x": np.array([[(words + ["zz"])[t] for t in row] for row in tokens], dtype=object)})
    m = tfidf_model("TF", 1, 3, 2, POOL, COUNTS, INDEXES, elem=T.INT32)
    both(m, {"x": tokens.astype(np.int32)})


def test_tfidf_empty_rows():
    m = tfidf_model("TF", 1, 2, 0, POOL[:10], COUNTS[:2], INDEXES[:7])
    y = onnxrun.InferenceSession(m).run(None, {"x": np.zeros((2, 0), np.int64)})[0]
    assert y.shape == (2, 9) and not y.any()


def test_tfidf_bad_pool_counts():
    with pytest.raises(OnnxRuntimeError):
        onnxrun.InferenceSession(tfidf_model("TF", 1, 2, 0, [1, 2, 3], [0, 2], [0, 1]))
