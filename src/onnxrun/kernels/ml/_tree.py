"""Vectorized evaluation of tree ensembles shared by TreeEnsembleRegressor, TreeEnsembleClassifier
and TreeEnsemble.

At init every ensemble is flattened into per-node arrays (feature, threshold, mode, a
``child2`` table holding ``[false child, true child]`` per node, leaves pointing at themselves)
and a dense leaf-value table. At run time all (row, tree) pairs advance together, one level per
step, with NumPy fancy indexing, until every pair sits on a leaf; rows are processed in chunks
to bound memory. When all interior nodes share one comparison mode, the first levels of every
tree are also laid out as a complete binary tree (children of slot h at 2h+1 and 2h+2), which
saves the child lookup per step; deeper levels use the node arrays, dropping the pairs that
reached a leaf as they go.
"""

from __future__ import annotations

from typing import Dict, List, Optional

import numpy as np

from ...errors import InvalidArgument

LEQ, LT, GTE, GT, EQ, NEQ, MEMBER, LEAF = range(8)
MODE_NAMES = {"BRANCH_LEQ": LEQ, "BRANCH_LT": LT, "BRANCH_GTE": GTE, "BRANCH_GT": GT,
              "BRANCH_EQ": EQ, "BRANCH_NEQ": NEQ, "BRANCH_MEMBER": MEMBER, "LEAF": LEAF}

_COMPARE = {LEQ: np.less_equal, LT: np.less, GTE: np.greater_equal, GT: np.greater,
            EQ: np.equal, NEQ: np.not_equal}

#: (row, tree) pairs evaluated per chunk
_CHUNK_PAIRS = 1 << 18
#: most slots (trees x 2^levels) of the complete-binary-tree layout, and its most levels
_HEAP_SLOTS = 1 << 21
_HEAP_MAX_DEPTH = 12


class Forest:
    """A flattened tree ensemble.

    Nodes are numbered globally; ``leaf_row[n]`` is the row of leaf node ``n`` in the value
    tables (-1 for interior nodes). ``weights`` are (leaf_row, target, weight) entries.
    """

    def __init__(self, feat, thr, modes, true_child, false_child, mvtt, roots, leaf_row,
                 n_leaf_rows: int, w_rows, w_targets, w_values, n_targets: int,
                 members: Optional[Dict[int, np.ndarray]] = None, minmax: bool = False) -> None:
        M = len(feat)
        self.n_nodes = M
        self.n_trees = len(roots)
        self.n_targets = int(n_targets)
        is_leaf = np.asarray(modes) == LEAF
        self.is_leaf = is_leaf
        idx = np.arange(M, dtype=np.intp)
        tc = np.where(is_leaf, idx, np.asarray(true_child, dtype=np.intp))
        fc = np.where(is_leaf, idx, np.asarray(false_child, dtype=np.intp))
        if M and (tc.min() < 0 or fc.min() < 0 or tc.max() >= M or fc.max() >= M):
            raise InvalidArgument("tree ensemble: a child id points outside the tree's nodes")
        self.child2 = np.empty(2 * M, dtype=np.intp)
        self.child2[0::2] = fc
        self.child2[1::2] = tc
        self.feat = np.where(is_leaf, 0, np.asarray(feat, dtype=np.intp)).astype(np.intp)
        if M and self.feat.min() < 0:
            raise InvalidArgument("tree ensemble: negative feature id")
        self.thr = np.asarray(thr)
        self.modes = np.asarray(modes, dtype=np.uint8)
        self.mvtt = np.asarray(mvtt, dtype=bool) & ~is_leaf
        self.any_mvtt = bool(self.mvtt.any())
        self.roots = np.asarray(roots, dtype=np.intp)
        if self.n_trees and (self.roots.min() < 0 or self.roots.max() >= M):
            raise InvalidArgument("tree ensemble: a tree root is outside the nodes")
        self.members = members or {}
        self.leaf_row = np.asarray(leaf_row, dtype=np.intp)
        inner_modes = np.unique(self.modes[~is_leaf])
        self.single_mode = int(inner_modes[0]) if len(inner_modes) == 1 else None
        if self.single_mode == MEMBER:
            self.single_mode = None
        self.max_feature = int(self.feat[~is_leaf].max()) if (~is_leaf).any() else -1
        self.depth = self._depth()
        self.heap = self._build_heap()
        # dense leaf tables
        C = self.n_targets
        L = int(n_leaf_rows)
        w_rows = np.asarray(w_rows, dtype=np.intp)
        w_targets = np.asarray(w_targets, dtype=np.intp)
        w_values = np.asarray(w_values, dtype=np.float64)
        if len(w_targets) and (w_targets.min() < 0 or w_targets.max() >= C):
            raise InvalidArgument(f"tree ensemble: a target/class id is outside [0, {C})")
        self.v_sum = np.zeros((L, C), dtype=np.float64)
        np.add.at(self.v_sum, (w_rows, w_targets), w_values)
        self.has = np.zeros((L, C), dtype=bool)
        self.has[w_rows, w_targets] = True
        if minmax:  # tables for the MIN / MAX aggregates
            self.v_min = np.full((L, C), np.inf)
            np.minimum.at(self.v_min, (w_rows, w_targets), w_values)
            self.v_max = np.full((L, C), -np.inf)
            np.maximum.at(self.v_max, (w_rows, w_targets), w_values)
        # node-level tables: values of the leaf each node stands for (interior rows unused)
        lr = np.where(self.leaf_row >= 0, self.leaf_row, 0)
        if L == 0:
            self.node_sum = np.zeros((M, C))
            self.node_has = np.zeros((M, C), dtype=bool)
        else:
            self.node_sum = self.v_sum[lr]
            self.node_has = self.has[lr] & (self.leaf_row >= 0)[:, None]
        self.node_lr = lr
        self.node_sum32 = self.node_sum.astype(np.float32)
        self.all_have = bool(self.node_has[is_leaf].all()) if is_leaf.any() else False

    def _depth(self) -> int:
        """Number of levels to walk so that every pair reaches a leaf; raises on cycles."""
        if self.n_trees == 0:
            return 0
        frontier = np.unique(self.roots)
        depth = 0
        seen_levels = 0
        while True:
            inner = frontier[~self.is_leaf[frontier]]
            if len(inner) == 0:
                return depth
            depth += 1
            seen_levels += 1
            if seen_levels > self.n_nodes:
                raise InvalidArgument("tree ensemble: the nodes form a cycle")
            frontier = np.unique(np.concatenate([self.child2[2 * inner], self.child2[2 * inner + 1]]))

    def _build_heap(self):
        """Complete-binary-tree layout of the first levels of every tree (slot h has children
        2h+1 (true branch) and 2h+2), leaves replicated downwards, so that a step needs no
        child lookup. ``node`` maps the slots of the last level to node ids (leaves, or
        interior nodes where deeper trees go on). Only for ensembles with one comparison mode;
        the number of levels is bounded so that trees x 2^levels stays moderate."""
        T = self.n_trees
        if self.single_mode is None or self.depth == 0 or T == 0:
            return None
        D = min(self.depth, _HEAP_MAX_DEPTH)
        while D > 0 and T * (1 << D) > _HEAP_SLOTS:
            D -= 1
        if D < 4:
            return None
        H = (1 << D) - 1
        feat = np.empty((T, H), dtype=np.intp)
        thr = np.empty((T, H), dtype=self.thr.dtype)
        mvtt = np.empty((T, H), dtype=bool)
        cur = self.roots.reshape(T, 1)
        for level in range(D):
            lo = (1 << level) - 1
            feat[:, lo:lo + cur.shape[1]] = self.feat[cur]
            thr[:, lo:lo + cur.shape[1]] = self.thr[cur]
            mvtt[:, lo:lo + cur.shape[1]] = self.mvtt[cur]
            nxt = np.empty((T, 2 * cur.shape[1]), dtype=np.intp)
            nxt[:, 0::2] = self.child2[2 * cur + 1]
            nxt[:, 1::2] = self.child2[2 * cur]
            cur = nxt
        return {"feat": feat.ravel(), "thr": thr.ravel(), "mvtt": mvtt.ravel(),
                "node": cur.ravel(), "H": H, "depth": D}

    # ------------------------------------------------------------------ traversal

    def compare_dtype(self, x_dtype) -> np.dtype:
        if self.thr.dtype == np.float64 or x_dtype == np.float64:
            return np.dtype(np.float64)
        return np.dtype(np.float32)

    def _prepare(self, X: np.ndarray):
        """(X as a contiguous array of the comparison dtype, thresholds in that dtype)."""
        if self.max_feature >= X.shape[1]:
            raise InvalidArgument(
                f"tree ensemble: a node uses feature {self.max_feature} but the input has "
                f"{X.shape[1]} features per row")
        cdt = self.compare_dtype(X.dtype)
        return np.ascontiguousarray(X, dtype=cdt), self.thr.astype(cdt, copy=False)

    def leaves(self, X: np.ndarray) -> np.ndarray:
        """Leaf node reached by every (row, tree) pair: intp array [N, n_trees]."""
        N, T = X.shape[0], self.n_trees
        Xc, thr = self._prepare(X)
        out = np.empty((N, T), dtype=np.intp)
        if N == 0 or T == 0:
            return out
        rows_per_chunk = max(1, _CHUNK_PAIRS // T)
        for r0 in range(0, N, rows_per_chunk):
            out[r0:r0 + rows_per_chunk] = self._chunk_leaves(Xc[r0:r0 + rows_per_chunk], thr)
        return out

    def _chunk_leaves(self, xc: np.ndarray, thr: np.ndarray) -> np.ndarray:
        F = xc.shape[1]
        if self.heap is not None:
            idx = self._walk_heap(xc, F)
            levels = self.depth - self.heap["depth"]
        else:
            idx = np.broadcast_to(self.roots, (xc.shape[0], self.n_trees)).copy()
            levels = self.depth
        return self._walk(xc, thr, F, idx, levels) if levels > 0 else idx

    def _walk_heap(self, Xc: np.ndarray, F: int) -> np.ndarray:
        hp = self.heap
        n = Xc.shape[0]
        T = self.n_trees
        H = hp["H"]
        D = hp["depth"]
        feat, mvtt = hp["feat"], hp["mvtt"]
        thr = hp["thr"].astype(Xc.dtype, copy=False)
        compare = _COMPARE[self.single_mode]
        xflat = Xc.ravel()
        base = (np.arange(T, dtype=np.intp) * H)[None, :]
        rowoff = np.repeat(np.arange(n, dtype=np.intp) * F, T).reshape(n, T)
        g = np.broadcast_to(base, (n, T)).copy()  # global slot = base + h
        tmp = np.empty((n, T), dtype=np.intp)
        for _ in range(D):
            np.take(feat, g, out=tmp)
            tmp += rowoff
            v = xflat.take(tmp)
            c = compare(v, thr.take(g))
            if self.any_mvtt:
                c |= np.isnan(v) & mvtt.take(g)
            # child slot: base + 2h + 1 (true) or base + 2h + 2 (false) = 2g - base + 2 - c
            g *= 2
            g -= base
            g += 2
            g -= c
        g -= base
        g += (np.arange(T, dtype=np.intp) * (1 << D) - H)[None, :]
        return hp["node"].take(g)

    def _walk(self, Xc: np.ndarray, thr: np.ndarray, F: int, idx: np.ndarray,
              levels: int) -> np.ndarray:
        """Advance the (row, tree) pairs of ``idx`` [n, T] by up to ``levels`` steps through the
        node arrays. Every few steps, once enough pairs sit on leaves, the pairs still moving
        are compacted so that deep, unbalanced trees cost what their actual paths cost."""
        n, T = idx.shape
        out = idx.reshape(-1).copy()
        cur = out.copy()
        pos = None  # positions in ``out`` of the pairs in ``cur`` (None: all, in order)
        rowoff = np.repeat(np.arange(n, dtype=np.intp) * F, T)
        xflat = Xc.ravel()
        feat, child2, mode, is_leaf = self.feat, self.child2, self.single_mode, self.is_leaf
        tmp = np.empty_like(cur)
        for step in range(levels):
            if step % 3 == 0:
                done = is_leaf.take(cur)
                n_done = int(np.count_nonzero(done))
                if n_done == len(cur):
                    break
                if n_done * 4 >= len(cur):
                    keep = ~done
                    if pos is None:
                        out[done] = cur[done]
                        pos = np.flatnonzero(keep)
                    else:
                        out[pos[done]] = cur[done]
                        pos = pos[keep]
                    cur, rowoff = cur[keep], rowoff[keep]
                    tmp = np.empty_like(cur)
            np.take(feat, cur, out=tmp)
            tmp += rowoff
            v = xflat.take(tmp)
            t = thr.take(cur)
            if mode is not None:
                c = _COMPARE[mode](v, t)
            else:
                c = self._mixed_compare(cur, v, t)
            if self.any_mvtt:
                c |= np.isnan(v) & self.mvtt.take(cur)
            np.multiply(cur, 2, out=tmp)
            tmp += c
            np.take(child2, tmp, out=cur)
        if pos is None:
            out = cur
        else:
            out[pos] = cur
        return out.reshape(n, T)

    def _mixed_compare(self, idx: np.ndarray, v: np.ndarray, t: np.ndarray) -> np.ndarray:
        m = self.modes.take(idx)
        c = np.zeros(idx.shape, dtype=bool)
        for code, fn in _COMPARE.items():
            sel = m == code
            if sel.any():
                c[sel] = fn(v[sel], t[sel])
        sel = m == MEMBER
        if sel.any():
            nodes = idx[sel]
            vals = v[sel]
            res = np.zeros(len(nodes), dtype=bool)
            for node in np.unique(nodes):
                k = nodes == node
                res[k] = np.isin(vals[k], self.members.get(int(node), np.zeros(0)))
            c[sel] = res
        return c

    # ------------------------------------------------------------------ aggregation

    def aggregate(self, X: np.ndarray, how: str):
        """(scores [N, C], has_score bool [N, C]) aggregated over trees (no base values).

        Scores are float32 sums accumulated tree after tree (as onnxruntime does, so that
        labels decided on thresholds such as 0.5 agree) unless the comparison is done in
        float64, in which case they are float64."""
        N = X.shape[0]
        C = self.n_targets
        Xc, thr = self._prepare(X)
        acc = Xc.dtype
        scores = np.zeros((N, C), dtype=acc)
        has = np.zeros((N, C), dtype=bool)
        if N == 0 or self.n_trees == 0:
            return scores, has
        table = self.node_sum32 if acc == np.float32 else self.node_sum
        rows_per_chunk = max(1, _CHUNK_PAIRS // max(1, self.n_trees * max(1, C // 4)))
        for r0 in range(0, N, rows_per_chunk):
            r1 = min(N, r0 + rows_per_chunk)
            # [T, n]: reducing over axis 0 adds tree after tree
            lvT = self._chunk_leaves(Xc[r0:r1], thr).T
            if how in ("SUM", "AVERAGE"):
                if C == 1:
                    scores[r0:r1, 0] = table[:, 0].take(lvT).sum(axis=0)
                else:
                    scores[r0:r1] = table.take(lvT, axis=0).sum(axis=0)
                if self.all_have:
                    has[r0:r1] = True
                else:
                    has[r0:r1] = self.node_has.take(lvT, axis=0).any(axis=0)
            else:
                lr = self.node_lr.take(lvT)
                h = self.has.take(lr, axis=0)  # [T, n, C]
                has[r0:r1] = h.any(axis=0)
                if how == "MIN":
                    scores[r0:r1] = self.v_min.take(lr, axis=0).min(axis=0)
                else:
                    scores[r0:r1] = self.v_max.take(lr, axis=0).max(axis=0)
        if how == "AVERAGE":
            scores /= acc.type(self.n_trees)
        elif how in ("MIN", "MAX"):
            scores[~has] = 0.0
        return scores, has


# ---------------------------------------------------------------------- builders

def _req(info, name):
    v = info.attr(name)
    if v is None:
        raise InvalidArgument(f"required attribute '{name}' is missing")
    return v


def build_legacy(info, prefix: str, n_targets: int, values, weights,
                 minmax: bool = False) -> Forest:
    """Forest from TreeEnsembleRegressor/Classifier attributes (``prefix`` 'target' or 'class').

    ``values`` are the node thresholds, ``weights`` the leaf weights (already chosen between the
    FLOATS and *_as_tensor forms)."""
    treeids = np.asarray(_req(info, "nodes_treeids"), dtype=np.int64)
    nodeids = np.asarray(_req(info, "nodes_nodeids"), dtype=np.int64)
    M = len(treeids)
    featureids = np.asarray(info.attr("nodes_featureids", [0] * M), dtype=np.int64)
    modes_s = list(info.attr("nodes_modes", []))
    tnode = np.asarray(info.attr("nodes_truenodeids", [0] * M), dtype=np.int64)
    fnode = np.asarray(info.attr("nodes_falsenodeids", [0] * M), dtype=np.int64)
    mv = info.attr("nodes_missing_value_tracks_true")
    mvtt = np.zeros(M, dtype=bool) if not mv else np.asarray(mv, dtype=np.int64) != 0
    if values is None:
        values = np.zeros(M, dtype=np.float32)
    for name, arr in (("nodes_nodeids", nodeids), ("nodes_featureids", featureids),
                      ("nodes_modes", modes_s), ("nodes_truenodeids", tnode),
                      ("nodes_falsenodeids", fnode), ("nodes_values", values),
                      ("nodes_missing_value_tracks_true", mvtt)):
        if len(arr) != M:
            raise InvalidArgument(f"attribute '{name}' has {len(arr)} entries, "
                                  f"nodes_treeids has {M}")
    try:
        modes = np.array([MODE_NAMES[m] for m in modes_s], dtype=np.uint8)
    except KeyError as e:
        raise InvalidArgument(f"unknown node mode {e.args[0]!r}") from None
    if (modes == MEMBER).any():
        raise InvalidArgument("BRANCH_MEMBER is only valid in TreeEnsemble")
    key = {}
    roots: List[int] = []
    first_of_tree: Dict[int, int] = {}
    for i, (t, n) in enumerate(zip(treeids.tolist(), nodeids.tolist())):
        if (t, n) in key:
            raise InvalidArgument(f"node id {n} appears twice in tree {t}")
        key[(t, n)] = i
        if t not in first_of_tree:
            first_of_tree[t] = i
    for t, first in first_of_tree.items():
        roots.append(key.get((t, 0), first))
    is_leaf = modes == LEAF
    tc = np.zeros(M, dtype=np.intp)
    fc = np.zeros(M, dtype=np.intp)
    tl = treeids.tolist()
    for i in np.flatnonzero(~is_leaf).tolist():
        t = tl[i]
        a = key.get((t, int(tnode[i])))
        b = key.get((t, int(fnode[i])))
        if a is None or b is None:
            raise InvalidArgument(f"tree {t} node {int(nodeids[i])}: a child node id is missing")
        tc[i], fc[i] = a, b
    leaf_row = np.full(M, -1, dtype=np.intp)
    leaf_nodes = np.flatnonzero(is_leaf)
    leaf_row[leaf_nodes] = np.arange(len(leaf_nodes))
    w_tree = np.asarray(info.attr(f"{prefix}_treeids", []), dtype=np.int64)
    w_node = np.asarray(info.attr(f"{prefix}_nodeids", []), dtype=np.int64)
    w_ids = np.asarray(info.attr(f"{prefix}_ids", []), dtype=np.int64)
    weights = np.zeros(0) if weights is None else weights
    if not (len(w_tree) == len(w_node) == len(w_ids) == len(weights)):
        raise InvalidArgument(f"the {prefix}_* attributes must have the same length")
    w_rows = np.empty(len(w_tree), dtype=np.intp)
    for j, (t, n) in enumerate(zip(w_tree.tolist(), w_node.tolist())):
        g = key.get((t, n))
        if g is None:
            raise InvalidArgument(f"{prefix}_nodeids: tree {t} has no node {n}")
        if leaf_row[g] < 0:
            raise InvalidArgument(f"{prefix}_nodeids: tree {t} node {n} is not a leaf")
        w_rows[j] = leaf_row[g]
    return Forest(featureids, values, modes, tc, fc, mvtt, roots, leaf_row, len(leaf_nodes),
                  w_rows, w_ids, weights, n_targets, minmax=minmax)


def build_v5(info, minmax: bool = False) -> Forest:
    """Forest from TreeEnsemble (ai.onnx.ml 5) attributes."""
    featureids = np.asarray(_req(info, "nodes_featureids"), dtype=np.int64)
    K = len(featureids)
    splits = np.asarray(_req(info, "nodes_splits")).ravel()
    modes_in = np.asarray(_req(info, "nodes_modes")).ravel().astype(np.int64)
    tids = np.asarray(_req(info, "nodes_truenodeids"), dtype=np.int64)
    fids = np.asarray(_req(info, "nodes_falsenodeids"), dtype=np.int64)
    tleaf = np.asarray(_req(info, "nodes_trueleafs"), dtype=np.int64) != 0
    fleaf = np.asarray(_req(info, "nodes_falseleafs"), dtype=np.int64) != 0
    mv = info.attr("nodes_missing_value_tracks_true")
    mvtt = np.zeros(K, dtype=bool) if mv is None or len(mv) == 0 else np.asarray(mv) != 0
    for name, arr in (("nodes_splits", splits), ("nodes_modes", modes_in),
                      ("nodes_truenodeids", tids), ("nodes_falsenodeids", fids),
                      ("nodes_trueleafs", tleaf), ("nodes_falseleafs", fleaf),
                      ("nodes_missing_value_tracks_true", mvtt)):
        if len(arr) != K:
            raise InvalidArgument(f"attribute '{name}' has {len(arr)} entries, "
                                  f"nodes_featureids has {K}")
    if len(modes_in) and (modes_in.min() < 0 or modes_in.max() > MEMBER):
        raise InvalidArgument("nodes_modes values must be in 0..6")
    targets = np.asarray(_req(info, "leaf_targetids"), dtype=np.int64)
    lw = np.asarray(_req(info, "leaf_weights")).ravel()
    L = len(targets)
    if len(lw) != L:
        raise InvalidArgument("leaf_weights and leaf_targetids must have the same length")
    roots = np.asarray(_req(info, "tree_roots"), dtype=np.int64)
    for ids, isl, what in ((tids, tleaf, "true"), (fids, fleaf, "false")):
        lim = np.where(isl, L, K)
        if len(ids) and ((ids < 0) | (ids >= lim)).any():
            raise InvalidArgument(f"nodes_{what}nodeids has an id out of range")
    # members of BRANCH_MEMBER nodes, NaN-separated in node order
    members: Dict[int, np.ndarray] = {}
    member_nodes = np.flatnonzero(modes_in == MEMBER)
    if len(member_nodes):
        mvals = np.asarray(info.attr("membership_values", []), dtype=np.float64).ravel()
        groups, cur = [], []
        for v in mvals.tolist():
            if v != v:
                groups.append(cur)
                cur = []
            else:
                cur.append(v)
        if cur:
            groups.append(cur)
        if len(groups) < len(member_nodes):
            raise InvalidArgument("membership_values has fewer sets than BRANCH_MEMBER nodes")
        for node, g in zip(member_nodes.tolist(), groups):
            members[node] = np.asarray(g, dtype=np.float64)
    M = K + L
    feat = np.concatenate([featureids, np.zeros(L, dtype=np.int64)])
    thr_dtype = np.float64 if splits.dtype == np.float64 else np.float32
    thr = np.concatenate([splits.astype(thr_dtype), np.zeros(L, dtype=thr_dtype)])
    modes = np.concatenate([modes_in.astype(np.uint8), np.full(L, LEAF, dtype=np.uint8)])
    tc = np.where(tleaf, tids + K, tids)
    fc = np.where(fleaf, fids + K, fids)
    tc = np.concatenate([tc, np.zeros(L, dtype=np.int64)])
    fc = np.concatenate([fc, np.zeros(L, dtype=np.int64)])
    mvtt = np.concatenate([mvtt, np.zeros(L, dtype=bool)])
    leaf_row = np.concatenate([np.full(K, -1), np.arange(L)])
    n_targets = info.attr("n_targets")
    if n_targets is None:
        n_targets = int(targets.max()) + 1 if L else 1
    return Forest(feat, thr, modes, tc, fc, mvtt, roots, leaf_row, L,
                  np.arange(L), targets, lw.astype(np.float64), int(n_targets), members,
                  minmax=minmax)
