"""ai.onnx.ml kernels on hand-built one-node models: agreement with onnxruntime (including its
binary-classification conventions), edge cases and errors."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto as TP
from onnx import helper, numpy_helper

import onnxrun
from onnxrun.errors import InvalidArgument

from ._helpers import assert_same_outputs, run_ort

ort = pytest.importorskip("onnxruntime")

POSTS = ["NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO", "PROBIT"]


def model(op, attrs, inputs, outputs, ml=3):
    node = helper.make_node(op, [i.name for i in inputs], [o.name for o in outputs],
                            domain="ai.onnx.ml", **attrs)
    g = helper.make_graph([node], "g", inputs, outputs)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                            helper.make_opsetid("ai.onnx.ml", ml)])
    m.ir_version = 9
    return m.SerializeToString()


def tin(name, elem, shape=None):
    return helper.make_tensor_value_info(name, elem, shape)


def ours(m, feeds):
    return onnxrun.InferenceSession(m).run(None, feeds)


def both(m, feeds, **tol):
    a = ours(m, feeds)
    assert_same_outputs(a, run_ort(m, feeds), **tol)
    return a


# ------------------------------------------------------------------ random trees

def random_trees(rng, n_trees, n_features, depth, modes):
    """Legacy nodes_* attributes of random trees, and the (tree, node) ids of their leaves."""
    a = {k: [] for k in ("nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes",
                         "nodes_values", "nodes_truenodeids", "nodes_falsenodeids",
                         "nodes_missing_value_tracks_true")}
    leaves = []
    for t in range(n_trees):
        counter = [0]

        def make(d):
            nid = counter[0]
            counter[0] += 1
            i = len(a["nodes_treeids"])
            for k in a:
                a[k].append(0)
            a["nodes_treeids"][i], a["nodes_nodeids"][i] = t, nid
            if d >= depth or (d > 0 and rng.random() < 0.2):
                a["nodes_modes"][i] = "LEAF"
                a["nodes_values"][i] = 0.0
                leaves.append((t, nid))
                return nid
            a["nodes_modes"][i] = str(rng.choice(modes))
            a["nodes_featureids"][i] = int(rng.integers(n_features))
            a["nodes_values"][i] = float(np.round(rng.standard_normal(), 1))
            a["nodes_missing_value_tracks_true"][i] = int(rng.random() < 0.5)
            left, right = make(d + 1), make(d + 1)
            a["nodes_truenodeids"][i], a["nodes_falsenodeids"][i] = left, right
            return nid

        make(0)
    return a, leaves


ALL_MODES = ("BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ")


def _x(rng, n, f, nan=0.1):
    X = np.round(rng.standard_normal((n, f)), 1).astype(np.float32)
    X[rng.random(X.shape) < nan] = np.nan
    return X


@pytest.mark.parametrize("seed", range(6))
def test_tree_classifier_conventions(seed):
    """Binary/multiclass, one or all class ids, signed weights, base values, every post
    transform, int and string labels: same labels and scores as onnxruntime."""
    rng = np.random.default_rng(seed)
    for _ in range(12):
        ncls = int(rng.choice([2, 2, 3]))
        attrs, leaves = random_trees(rng, int(rng.integers(1, 4)), 4, 3, ALL_MODES)
        style = rng.integers(3)
        one = int(rng.integers(ncls))
        neg = rng.random() < 0.5
        ct, cn, ci, cw = [], [], [], []
        for t, n in leaves:
            ids = [one] if style == 0 else (list(range(ncls)) if style == 1 else
                                            [c for c in range(ncls) if rng.random() < 0.5])
            ids = ids or [int(rng.integers(ncls))]  # a row without any vote fails in onnxruntime
            for c in ids:
                w = float(np.round(rng.random(), 2)) * (-1 if neg and rng.random() < 0.5 else 1)
                ct.append(t), cn.append(n), ci.append(c), cw.append(w)
        attrs.update(class_treeids=ct, class_nodeids=cn, class_ids=ci, class_weights=cw,
                     post_transform=str(rng.choice(POSTS[:4])))
        if rng.random() < 0.5:
            attrs["base_values"] = [float(np.round(rng.standard_normal(), 2))] * ncls
        strings = rng.random() < 0.3
        if strings:
            attrs["classlabels_strings"] = [f"c{i}" for i in range(ncls)]
        else:
            attrs["classlabels_int64s"] = [3 * i + 1 for i in range(ncls)]
        m = model("TreeEnsembleClassifier", attrs, [tin("X", TP.FLOAT, [None, 4])],
                  [tin("Y", TP.STRING if strings else TP.INT64, [None]),
                   tin("Z", TP.FLOAT, [None, ncls])])
        both(m, {"X": _x(rng, 16, 4)})


@pytest.mark.parametrize("seed", range(4))
def test_tree_regressor_aggregates(seed):
    rng = np.random.default_rng(100 + seed)
    for _ in range(12):
        nt = int(rng.choice([1, 3]))
        attrs, leaves = random_trees(rng, int(rng.integers(1, 4)), 4, 3, ALL_MODES)
        tt, tn, ti, tw = [], [], [], []
        for t, n in leaves:
            for c in ([int(rng.integers(nt))] if rng.random() < 0.5 else range(nt)):
                tt.append(t), tn.append(n), ti.append(c)
                tw.append(float(np.round(rng.standard_normal(), 2)))
        double = rng.random() < 0.3
        attrs.update(target_treeids=tt, target_nodeids=tn, target_ids=ti, n_targets=nt,
                     post_transform=str(rng.choice(POSTS[:4])),
                     aggregate_function=str(rng.choice(["SUM", "AVERAGE", "MIN", "MAX"])))
        if double:
            attrs["nodes_values_as_tensor"] = numpy_helper.from_array(
                np.array(attrs.pop("nodes_values"), np.float64))
            attrs["target_weights_as_tensor"] = numpy_helper.from_array(np.array(tw))
        else:
            attrs["target_weights"] = tw
        if rng.random() < 0.5:
            attrs["base_values"] = [float(np.round(rng.standard_normal(), 2)) for _ in range(nt)]
        X = _x(rng, 16, 4)
        m = model("TreeEnsembleRegressor", attrs,
                  [tin("X", TP.DOUBLE if double else TP.FLOAT, [None, 4])],
                  [tin("Y", TP.FLOAT, [None, nt])])
        both(m, {"X": X.astype(np.float64) if double else X})


def _v5_model(rng, dtype, member=True):
    feat, splits, modes, tids, fids, tl, fl, mv, lt, lw, roots, members = ([] for _ in range(12))
    nt = int(rng.choice([1, 2]))

    def make(d):
        if d >= 3 or (d > 0 and rng.random() < 0.25):
            lt.append(int(rng.integers(nt)))
            lw.append(float(np.round(rng.standard_normal(), 2)))
            return True, len(lt) - 1
        i = len(feat)
        feat.append(int(rng.integers(3)))
        mode = int(rng.integers(7 if member else 6))
        modes.append(mode)
        splits.append(float(np.round(rng.standard_normal(), 1)) if mode != 6 else np.nan)
        if mode == 6:
            members.extend([float(v) for v in rng.integers(-2, 3, int(rng.integers(1, 4)))])
            members.append(np.nan)
        mv.append(int(rng.random() < 0.5))
        tids.append(0), fids.append(0), tl.append(0), fl.append(0)
        a, b = make(d + 1), make(d + 1)
        tl[i], tids[i], fl[i], fids[i] = int(a[0]), a[1], int(b[0]), b[1]
        return False, i

    for _ in range(int(rng.integers(1, 4))):
        leaf, idx = make(0)
        if leaf:  # a one-leaf tree: an interior node whose branches both reach the leaf
            roots.append(len(feat))
            feat.append(0), modes.append(0), splits.append(0.0), mv.append(0)
            tids.append(idx), fids.append(idx), tl.append(1), fl.append(1)
        else:
            roots.append(idx)
    attrs = dict(n_targets=nt, nodes_featureids=feat,
                 nodes_splits=numpy_helper.from_array(np.array(splits, dtype)),
                 nodes_modes=numpy_helper.from_array(np.array(modes, np.uint8)),
                 nodes_truenodeids=tids, nodes_falsenodeids=fids, nodes_trueleafs=tl,
                 nodes_falseleafs=fl, nodes_missing_value_tracks_true=mv, leaf_targetids=lt,
                 leaf_weights=numpy_helper.from_array(np.array(lw, dtype)), tree_roots=roots,
                 aggregate_function=int(rng.integers(4)), post_transform=int(rng.integers(4)))
    if members:
        attrs["membership_values"] = numpy_helper.from_array(np.array(members, dtype))
    return attrs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tree_ensemble_v5(dtype):
    """TreeEnsemble (ai.onnx.ml 5) incl. BRANCH_MEMBER (integral categories), NaN tracking,
    one-leaf trees; post_transform integers as onnxruntime reads them."""
    rng = np.random.default_rng(7)
    elem = TP.DOUBLE if dtype == np.float64 else TP.FLOAT
    for _ in range(25):
        attrs = _v5_model(rng, dtype)
        X = np.round(rng.standard_normal((16, 3)) * 2).astype(dtype)
        X[rng.random(X.shape) < 0.1] = np.nan
        m = model("TreeEnsemble", attrs, [tin("X", elem, [None, 3])], [tin("Y", elem, None)], ml=5)
        out = both(m, {"X": X})
        assert out[0].dtype == dtype


def test_tree_feature_out_of_range():
    attrs, leaves = random_trees(np.random.default_rng(0), 1, 5, 2, ("BRANCH_LEQ",))
    attrs["nodes_featureids"] = [4 if m != "LEAF" else 0 for m in attrs["nodes_modes"]]
    attrs.update(target_treeids=[t for t, _ in leaves], target_nodeids=[n for _, n in leaves],
                 target_ids=[0] * len(leaves), target_weights=[1.0] * len(leaves))
    m = model("TreeEnsembleRegressor", attrs, [tin("X", TP.FLOAT, [None, None])],
              [tin("Y", TP.FLOAT, None)])
    with pytest.raises(InvalidArgument, match="feature"):
        ours(m, {"X": np.zeros((2, 3), np.float32)})


def test_tree_cycle_rejected():
    attrs = dict(nodes_treeids=[0, 0], nodes_nodeids=[0, 1], nodes_featureids=[0, 0],
                 nodes_modes=["BRANCH_LEQ", "BRANCH_LEQ"], nodes_values=[0.0, 0.0],
                 nodes_truenodeids=[1, 0], nodes_falsenodeids=[1, 0], target_treeids=[0],
                 target_nodeids=[1], target_ids=[0], target_weights=[1.0])
    m = model("TreeEnsembleRegressor", attrs, [tin("X", TP.FLOAT, [None, 1])],
              [tin("Y", TP.FLOAT, None)])
    with pytest.raises(onnxrun.errors.OnnxRuntimeError):
        ours(m, {"X": np.zeros((2, 1), np.float32)})


def test_tree_large_batch_chunks():
    """More (row, tree) pairs than one chunk: same result as onnxruntime."""
    rng = np.random.default_rng(3)
    attrs, leaves = random_trees(rng, 40, 6, 6, ("BRANCH_LEQ",))
    attrs.update(target_treeids=[t for t, _ in leaves], target_nodeids=[n for _, n in leaves],
                 target_ids=[0] * len(leaves), n_targets=1,
                 target_weights=[float(v) for v in rng.standard_normal(len(leaves))])
    m = model("TreeEnsembleRegressor", attrs, [tin("X", TP.FLOAT, [None, 6])],
              [tin("Y", TP.FLOAT, None)])
    both(m, {"X": rng.standard_normal((9000, 6)).astype(np.float32)}, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ linear and SVM

@pytest.mark.parametrize("post", POSTS[:4])
@pytest.mark.parametrize("n_scores", [1, 3])
def test_linear_classifier(post, n_scores):
    rng = np.random.default_rng(n_scores)
    attrs = dict(coefficients=[float(v) for v in rng.standard_normal(3 * n_scores)],
                 intercepts=[float(v) for v in rng.standard_normal(n_scores) * 0.3],
                 post_transform=post, classlabels_ints=[5, 7, 9][: max(2, n_scores)])
    m = model("LinearClassifier", attrs, [tin("X", TP.FLOAT, [None, 3])],
              [tin("Y", TP.INT64, [None]), tin("Z", TP.FLOAT, None)])
    both(m, {"X": rng.standard_normal((10, 3)).astype(np.float32)}, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("post", POSTS)
def test_linear_regressor(post):
    rng = np.random.default_rng(1)
    for targets in (1, 2):
        attrs = dict(coefficients=[float(v) for v in rng.standard_normal(3 * targets)],
                     intercepts=[0.5, -0.2][:targets], targets=targets, post_transform=post)
        m = model("LinearRegressor", attrs, [tin("X", TP.FLOAT, [None, 3])],
                  [tin("Y", TP.FLOAT, None)])
        both(m, {"X": (rng.standard_normal((8, 3)) * 0.3).astype(np.float32)},
             rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("seed", range(3))
def test_svm_classifier(seed):
    """One-vs-one with every kernel, with and without Platt probabilities, binary and
    multiclass, and the linear (no support vector) mode."""
    rng = np.random.default_rng(seed)
    for _ in range(15):
        k = int(rng.choice([2, 3, 4]))
        attrs = dict(post_transform=str(rng.choice(POSTS[:4])),
                     kernel_type=str(rng.choice(["LINEAR", "POLY", "RBF", "SIGMOID"])),
                     kernel_params=[0.3, 0.1, float(rng.choice([1, 2, 3]))])
        if rng.random() < 0.2:
            attrs.update(coefficients=[float(v) for v in rng.standard_normal(3 * k)],
                         rho=[0.1])
        else:
            vpc = [int(rng.integers(1, 3)) for _ in range(k)]
            nsv, npair = sum(vpc), k * (k - 1) // 2
            attrs.update(vectors_per_class=vpc,
                         support_vectors=[float(v) for v in rng.standard_normal(nsv * 3)],
                         coefficients=[float(v) for v in rng.standard_normal((k - 1) * nsv)],
                         rho=[float(v) for v in rng.standard_normal(npair) * 0.3])
            if rng.random() < 0.5:
                attrs.update(prob_a=[float(v) for v in -np.abs(rng.standard_normal(npair)) - .5],
                             prob_b=[float(v) for v in rng.standard_normal(npair) * 0.2])
        strings = rng.random() < 0.3
        if strings:
            attrs["classlabels_strings"] = [f"L{i}" for i in range(k)]
        else:
            attrs["classlabels_ints"] = [2 * i + 5 for i in range(k)]
        m = model("SVMClassifier", attrs, [tin("X", TP.FLOAT, [None, 3])],
                  [tin("Y", TP.STRING if strings else TP.INT64, [None]),
                   tin("Z", TP.FLOAT, None)])
        both(m, {"X": rng.standard_normal((10, 3)).astype(np.float32)}, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kernel_type", ["LINEAR", "POLY", "RBF", "SIGMOID"])
@pytest.mark.parametrize("one_class", [0, 1])
def test_svm_regressor(kernel_type, one_class):
    attrs = dict(kernel_type=kernel_type, kernel_params=[0.3, 0.1, 2.0], n_supports=2,
                 support_vectors=[0.1, 0.2, 0.3, -0.4, 0.5, 0.6], coefficients=[0.7, -0.3],
                 rho=[0.05], one_class=one_class)
    m = model("SVMRegressor", attrs, [tin("X", TP.FLOAT, [None, 3])], [tin("Y", TP.FLOAT, None)])
    X = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    both(m, {"X": X}, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ preprocessing

@pytest.mark.parametrize("norm", ["MAX", "L1", "L2"])
def test_normalizer(norm):
    X = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    X[2] = 0
    m = model("Normalizer", dict(norm=norm), [tin("X", TP.FLOAT, [None, 4])],
              [tin("Y", TP.FLOAT, None)])
    both(m, {"X": X})


def test_scaler_imputer_binarizer():
    X = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    m = model("Scaler", dict(offset=[0.1, 0.2, -0.3], scale=[2.0, 0.5, 1.5]),
              [tin("X", TP.FLOAT, [None, 3])], [tin("Y", TP.FLOAT, None)])
    both(m, {"X": X})
    Xn = X.copy()
    Xn[1, 2] = np.nan
    m = model("Imputer", dict(imputed_value_floats=[1.0, 2.0, 3.0],
                              replaced_value_float=float("nan")),
              [tin("X", TP.FLOAT, [None, 3])], [tin("Y", TP.FLOAT, None)])
    assert both(m, {"X": Xn})[0][1, 2] == 3.0
    m = model("Imputer", dict(imputed_value_int64s=[7], replaced_value_int64=0),
              [tin("X", TP.INT64, [None, 3])], [tin("Y", TP.INT64, None)])
    both(m, {"X": np.array([[0, 1, 0]], np.int64)})
    m = model("Binarizer", dict(threshold=0.2), [tin("X", TP.FLOAT, [None, 3])],
              [tin("Y", TP.FLOAT, None)])
    both(m, {"X": X})
    with pytest.raises(InvalidArgument, match="NaN"):
        ours(m, {"X": Xn})


# ------------------------------------------------------------------ encoders

def test_one_hot_encoder():
    m = model("OneHotEncoder", dict(cats_strings=["a", "b", "c"]),
              [tin("X", TP.STRING, [None, 2])], [tin("Y", TP.FLOAT, None)])
    out = both(m, {"X": np.array([["a", "c"], ["z", "b"]], dtype=object)})
    assert out[0].shape == (2, 2, 3)
    m = model("OneHotEncoder", dict(cats_int64s=[3, 1, -1]), [tin("X", TP.FLOAT, [None, 2])],
              [tin("Y", TP.FLOAT, None)])
    both(m, {"X": np.array([[1.7, -1.5], [3.2, 0.0]], np.float32)})
    m = model("OneHotEncoder", dict(cats_int64s=[3, 1], zeros=0), [tin("X", TP.INT64, [None])],
              [tin("Y", TP.FLOAT, None)])
    with pytest.raises(InvalidArgument):
        ours(m, {"X": np.array([1, 5], np.int64)})


def test_label_encoder_versions():
    m = model("LabelEncoder", dict(classes_strings=["a", "b"], default_int64=-5),
              [tin("X", TP.STRING, [None])], [tin("Y", TP.INT64, None)], ml=1)
    both(m, {"X": np.array(["b", "q", "a"], dtype=object)})
    m = model("LabelEncoder", dict(classes_strings=["a", "b"], default_string="zz"),
              [tin("X", TP.INT64, [None])], [tin("Y", TP.STRING, None)], ml=1)
    both(m, {"X": np.array([1, 5, 0, -1], np.int64)})
    m = model("LabelEncoder", dict(keys_int64s=[1, 2, 1], values_floats=[0.5, 0.25, 0.75]),
              [tin("X", TP.INT64, [None])], [tin("Y", TP.FLOAT, None)], ml=2)
    both(m, {"X": np.array([1, 2, 3], np.int64)})  # a repeated key: the first one wins
    m = model("LabelEncoder", dict(keys_floats=[float("nan"), 1.0], values_int64s=[5, 6]),
              [tin("X", TP.FLOAT, [None])], [tin("Y", TP.INT64, None)], ml=4)
    both(m, {"X": np.array([np.nan, 1.0, 2.0], np.float32)})


def test_label_encoder_tensor_attributes():
    """keys_tensor / values_tensor / default_tensor (ai.onnx.ml 4) with types onnxruntime
    does not register (int32, int16, double): checked against expected values."""
    m = model("LabelEncoder",
              dict(keys_tensor=numpy_helper.from_array(np.array([1, 2], np.int32)),
                   values_tensor=numpy_helper.from_array(np.array([0.5, 1.5])),
                   default_tensor=numpy_helper.from_array(np.array([-9.0]))),
              [tin("X", TP.INT32, [None])], [tin("Y", TP.DOUBLE, None)], ml=4)
    out = ours(m, {"X": np.array([[1, 2, 3]], np.int32).ravel()})[0]
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [0.5, 1.5, -9.0])
    m = model("LabelEncoder",
              dict(keys_tensor=numpy_helper.from_array(np.array([1, 2], np.int16)),
                   values_strings=["a", "b"]),
              [tin("X", TP.INT16, [None])], [tin("Y", TP.STRING, None)], ml=4)
    np.testing.assert_array_equal(ours(m, {"X": np.array([2, 7], np.int16)})[0],
                                  np.array(["b", "_Unused"], dtype=object))


def test_category_mapper():
    m = model("CategoryMapper", dict(cats_strings=["a", "b"], cats_int64s=[10, 20],
                                     default_int64=-9),
              [tin("X", TP.STRING, [None])], [tin("Y", TP.INT64, None)])
    both(m, {"X": np.array(["b", "x", "a"], dtype=object)})
    m = model("CategoryMapper", dict(cats_strings=["a", "b"], cats_int64s=[10, 20],
                                     default_string="?"),
              [tin("X", TP.INT64, [None, 2])], [tin("Y", TP.STRING, None)])
    both(m, {"X": np.array([[20, 3], [10, 10]], np.int64)})


# ------------------------------------------------------------------ maps and features

def _seq_map(name, key):
    return helper.make_value_info(name, helper.make_sequence_type_proto(
        helper.make_map_type_proto(key, helper.make_tensor_type_proto(TP.FLOAT, []))))


def _map(name, key, value):
    return helper.make_value_info(name, helper.make_map_type_proto(
        key, helper.make_tensor_type_proto(value, [])))


def test_zipmap_is_list_of_dicts():
    X = np.array([[0.25, 0.75], [1.0, 0.0]], np.float32)
    m = model("ZipMap", dict(classlabels_int64s=[3, 1]), [tin("X", TP.FLOAT, [None, 2])],
              [_seq_map("Z", TP.INT64)])
    out = both(m, {"X": X})[0]
    assert out == [{3: 0.25, 1: 0.75}, {3: 1.0, 1: 0.0}]
    m = model("ZipMap", dict(classlabels_strings=["a", "b"]), [tin("X", TP.FLOAT, [None, None])],
              [_seq_map("Z", TP.STRING)])
    assert both(m, {"X": X})[0][0] == {"a": 0.25, "b": 0.75}
    with pytest.raises(InvalidArgument, match="columns"):
        ours(m, {"X": np.zeros((1, 3), np.float32)})


def test_dict_vectorizer_and_cast_map():
    m = model("DictVectorizer", dict(string_vocabulary=["a", "b", "c"]),
              [_map("X", TP.STRING, TP.FLOAT)], [tin("Y", TP.FLOAT, None)])
    np.testing.assert_array_equal(both(m, {"X": {"a": 1.5, "c": 2.0, "zz": 3.0}})[0],
                                  [[1.5, 0.0, 2.0]])
    for cast_to, elem in (("TO_FLOAT", TP.FLOAT), ("TO_STRING", TP.STRING),
                          ("TO_INT64", TP.INT64)):
        m = model("CastMap", dict(cast_to=cast_to), [_map("X", TP.INT64, TP.FLOAT)],
                  [tin("Y", elem, None)])
        both(m, {"X": {3: 1.5, 1: -2.7}})
    m = model("CastMap", dict(cast_to="TO_FLOAT", map_form="SPARSE", max_map=5),
              [_map("X", TP.INT64, TP.FLOAT)], [tin("Y", TP.FLOAT, None)])
    np.testing.assert_array_equal(both(m, {"X": {3: 1.5, 1: 2.0}})[0], [[0, 2, 0, 1.5, 0]])


def test_feature_vectorizer():
    m = model("FeatureVectorizer", dict(inputdimensions=[2, 3]),
              [tin("A", TP.FLOAT, [None, 2]), tin("B", TP.FLOAT, [None, 3])],
              [tin("Y", TP.FLOAT, None)])
    a = np.arange(4, dtype=np.float32).reshape(2, 2)
    b = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(both(m, {"A": a, "B": b})[0], np.concatenate([a, b], 1))
    m = model("FeatureVectorizer", dict(inputdimensions=[3, 2]),
              [tin("A", TP.INT64, [None, 2]), tin("B", TP.DOUBLE, [None, 3])],
              [tin("Y", TP.FLOAT, None)])
    out = ours(m, {"A": np.array([[1, 2]], np.int64), "B": np.array([[3.0, 4.0, 5.0]])})[0]
    np.testing.assert_array_equal(out, [[1, 2, 0, 3, 4]])


def test_array_feature_extractor():
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    m = model("ArrayFeatureExtractor", {}, [tin("X", TP.FLOAT, [None, 3]),
                                            tin("Y", TP.INT64, [None])],
              [tin("Z", TP.FLOAT, None)])
    both(m, {"X": X, "Y": np.array([2, 0], np.int64)})
    with pytest.raises(InvalidArgument, match="out of range"):
        ours(m, {"X": X, "Y": np.array([3], np.int64)})
    with pytest.raises(InvalidArgument, match="out of range"):
        ours(m, {"X": X, "Y": np.array([-1], np.int64)})
    m = model("ArrayFeatureExtractor", {}, [tin("X", TP.STRING, [None, 3]),
                                            tin("Y", TP.INT64, [None])],
              [tin("Z", TP.STRING, None)])
    both(m, {"X": np.array([["a", "b", "c"]], dtype=object), "Y": np.array([2, 2], np.int64)})


@pytest.mark.parametrize("heap_levels", [4, 12])
def test_tree_deep_single_mode(monkeypatch, heap_levels):
    """Deep single-mode trees: complete-binary-tree levels first, then the compacting
    node walk (forced early with a small level cap)."""
    import onnxrun.kernels.ml._tree as tree_mod
    monkeypatch.setattr(tree_mod, "_HEAP_MAX_DEPTH", heap_levels)
    rng = np.random.default_rng(11)
    attrs, leaves = random_trees(rng, 6, 5, 9, ("BRANCH_LT",))
    attrs.update(target_treeids=[t for t, _ in leaves], target_nodeids=[n for _, n in leaves],
                 target_ids=[0] * len(leaves), n_targets=1,
                 target_weights=[float(v) for v in rng.standard_normal(len(leaves))])
    m = model("TreeEnsembleRegressor", attrs, [tin("X", TP.FLOAT, [None, 5])],
              [tin("Y", TP.FLOAT, None)])
    both(m, {"X": _x(rng, 500, 5)}, rtol=1e-5, atol=1e-5)
