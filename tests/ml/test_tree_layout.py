"""Tree ensembles whose nodes_* attributes are not in the usual layout (nodes shuffled inside a
tree, sparse or huge node and tree ids, trees not sorted by id), the errors of the node index,
and the flattened forest itself (what it keeps after init)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto as TP

from onnxrun.errors import InvalidArgument
from onnxrun.kernels.ml import _tree

from .test_ops import ALL_MODES, _x, both, model, ours, random_trees, tin

ort = pytest.importorskip("onnxruntime")

NODE_KEYS = ("nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes", "nodes_values",
             "nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true")


def _regressor(rng, n_trees, depth, modes, n_features=4):
    attrs, leaves = random_trees(rng, n_trees, n_features, depth, modes)
    attrs.update(target_treeids=[t for t, _ in leaves], target_nodeids=[n for _, n in leaves],
                 target_ids=[0] * len(leaves), n_targets=1,
                 target_weights=[float(np.round(v, 2)) for v in rng.standard_normal(len(leaves))])
    return attrs


def _relabel(rng, attrs, ids):
    """Same trees, other layout: every tree's nodes after its root shuffled, trees in an order
    that is not sorted by id, node ids and tree ids replaced by a permutation of 0..n-1 ("perm",
    roots keep id 0, the layout onnxruntime accepts), by sparse values from 1 ("sparse") or by
    huge ones ("huge"). The root stays first in its tree: without a node 0, it is the root."""
    top = {"sparse": 10_000, "huge": 2 ** 62}.get(ids)
    trees = sorted(set(attrs["nodes_treeids"]))
    new = (rng.permutation(len(trees)) if top is None
           else 1 + rng.choice(top, len(trees), replace=False))
    new_tree = dict(zip(trees, new.tolist()))
    order = rng.permutation(len(trees))
    rows = []
    new_node = {}
    for k in order:
        t = trees[k]
        mine = [i for i, tt in enumerate(attrs["nodes_treeids"]) if tt == t]
        ids = ([0] + (1 + rng.permutation(len(mine) - 1)).tolist() if top is None
               else (1 + rng.choice(top, len(mine), replace=False)).tolist())
        for i, nid in zip(mine, ids):
            new_node[(t, attrs["nodes_nodeids"][i])] = nid
        rows.append(mine[0])
        rows.extend(rng.permutation(mine[1:]).tolist())
    out = {k: [attrs[k][i] for i in rows] for k in NODE_KEYS}
    leaf = [m == "LEAF" for m in out["nodes_modes"]]
    for key in ("nodes_truenodeids", "nodes_falsenodeids"):
        out[key] = [0 if lf else new_node[(t, c)]
                    for t, c, lf in zip(out["nodes_treeids"], out[key], leaf)]
    out["nodes_nodeids"] = [new_node[(t, n)] for t, n in zip(out["nodes_treeids"],
                                                            out["nodes_nodeids"])]
    out["nodes_treeids"] = [new_tree[t] for t in out["nodes_treeids"]]
    w = rng.permutation(len(attrs["target_treeids"]))
    out["target_nodeids"] = [new_node[(attrs["target_treeids"][j], attrs["target_nodeids"][j])]
                             for j in w]
    out["target_treeids"] = [new_tree[attrs["target_treeids"][j]] for j in w]
    out["target_ids"] = [attrs["target_ids"][j] for j in w]
    out["target_weights"] = [attrs["target_weights"][j] for j in w]
    out["n_targets"] = attrs["n_targets"]
    return out


def _reg_model(attrs, n_features=4):
    return model("TreeEnsembleRegressor", attrs, [tin("X", TP.FLOAT, [None, n_features])],
                 [tin("Y", TP.FLOAT, [None, 1])])


@pytest.mark.parametrize("ids", ["perm", "sparse", "huge"])
@pytest.mark.parametrize("seed", range(3))
def test_tree_layouts_agree(seed, ids):
    """Other layouts give the usual layout's result (and onnxruntime's, where it accepts the
    node ids: it wants them below the number of nodes)."""
    rng = np.random.default_rng(300 + seed)
    for modes in (ALL_MODES, ("BRANCH_LEQ",)):
        attrs = _regressor(rng, int(rng.integers(2, 6)), 6, modes)
        X = _x(rng, 64, 4)
        usual = ours(_reg_model(attrs), {"X": X})[0]
        m = _reg_model(_relabel(rng, attrs, ids))
        out = both(m, {"X": X}, rtol=1e-5, atol=1e-5)[0] if ids == "perm" else ours(m, {"X": X})[0]
        np.testing.assert_allclose(out, usual, rtol=1e-5, atol=1e-5)


def _tiny(**over):
    attrs = dict(nodes_treeids=[0, 0, 0], nodes_nodeids=[0, 1, 2], nodes_featureids=[0, 0, 0],
                 nodes_modes=["BRANCH_LEQ", "LEAF", "LEAF"], nodes_values=[0.5, 0.0, 0.0],
                 nodes_truenodeids=[1, 0, 0], nodes_falsenodeids=[2, 0, 0],
                 target_treeids=[0, 0], target_nodeids=[1, 2], target_ids=[0, 0],
                 target_weights=[1.0, 2.0])
    attrs.update(over)
    return model("TreeEnsembleRegressor", attrs, [tin("X", TP.FLOAT, [None, 1])],
                 [tin("Y", TP.FLOAT, None)])


def test_tiny_tree():
    out = ours(_tiny(), {"X": np.array([[0.0], [1.0], [np.nan]], np.float32)})[0]
    np.testing.assert_array_equal(out[:, 0], [1.0, 2.0, 2.0])


@pytest.mark.parametrize("over, match", [
    (dict(nodes_nodeids=[0, 1, 1]), "appears twice"),
    (dict(nodes_truenodeids=[5, 0, 0]), "child node id is missing"),
    (dict(target_nodeids=[1, 7]), "has no node 7"),
    (dict(target_treeids=[0, 3]), "tree 3 has no node"),
    (dict(target_nodeids=[1, 0]), "is not a leaf"),
    (dict(nodes_modes=["BRANCH_LEQ", "LEAF", "NOPE"]), "unknown node mode"),
    (dict(nodes_featureids=[-1, 0, 0]), "negative feature"),
    (dict(target_ids=[0, 3], n_targets=2), "outside"),
])
def test_tree_attribute_errors(over, match):
    with pytest.raises(InvalidArgument, match=match):
        ours(_tiny(**over), {"X": np.zeros((1, 1), np.float32)})


class _Info:
    def __init__(self, attrs):
        self.attrs = attrs

    def attr(self, name, default=None):
        return self.attrs.get(name, default)


def _forest(attrs, **kw):
    values = np.asarray(attrs["nodes_values"], np.float32)
    weights = np.asarray(attrs["target_weights"], np.float32)
    return _tree.build_legacy(_Info(attrs), "target", attrs["n_targets"], values, weights, **kw)


def test_forest_keeps_only_what_it_walks(monkeypatch):
    """When the level layout reaches every leaf, the per-node arrays are dropped; otherwise they
    stay for the deeper levels. Both walks give the same leaves; leaf ids are leaf-table rows.
    NumPy arrays as attributes work as lists do."""
    rng = np.random.default_rng(5)
    attrs = _regressor(rng, 5, 7, ("BRANCH_LT",))
    X = _x(rng, 200, 4)
    full = _forest(attrs)
    assert full.heap is not None and full.feat is None and full.child2 is None
    assert full.sum64 is None and full.has is None  # float32-exact weights, every leaf votes
    as_arrays = {k: (np.asarray(v) if isinstance(v, list) and k != "nodes_modes" else v)
                 for k, v in attrs.items()}
    monkeypatch.setattr(_tree, "_HEAP_MAX_DEPTH", 4)
    part = _forest(as_arrays)
    assert part.heap["depth"] == 4 and part.feat is not None
    leaves = full.leaves(X)
    np.testing.assert_array_equal(leaves, part.leaves(X))
    assert leaves.max() < full.n_leaves
    s, _ = full.aggregate(X, "SUM")
    np.testing.assert_array_equal(s[:, 0], full.sum32[leaves, 0].sum(axis=1, dtype=np.float32))


def test_forest_float64_table_only_when_needed():
    """Weights summed on the same leaf whose float64 sum is no float32 value keep a float64
    table for float64 inputs; the float32 table is their rounding."""
    attrs = dict(nodes_treeids=[0, 0, 0], nodes_nodeids=[0, 1, 2], nodes_featureids=[0, 0, 0],
                 nodes_modes=["BRANCH_LEQ", "LEAF", "LEAF"], nodes_values=[0.5, 0.0, 0.0],
                 nodes_truenodeids=[1, 0, 0], nodes_falsenodeids=[2, 0, 0],
                 target_treeids=[0, 0, 0], target_nodeids=[1, 1, 2], target_ids=[0, 0, 0],
                 target_weights=[1.0, 2.0 ** -30, 2.0], n_targets=1)
    f = _forest(attrs)
    assert f.sum64 is not None
    X = np.array([[0.0], [1.0]])
    s64, _ = f.aggregate(X, "SUM")
    assert s64.dtype == np.float64 and s64[0, 0] == 1.0 + 2.0 ** -30
    s32, _ = f.aggregate(X.astype(np.float32), "SUM")
    assert s32.dtype == np.float32 and s32[0, 0] == np.float32(1.0 + 2.0 ** -30)
