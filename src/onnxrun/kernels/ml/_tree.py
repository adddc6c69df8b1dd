"""Vectorized evaluation of tree ensembles shared by TreeEnsembleRegressor, TreeEnsembleClassifier
and TreeEnsemble.

At init every ensemble is flattened into NumPy arrays, built from the attribute arrays with
vectorized operations only (no per-node Python work). Nodes are numbered leaves first: ids
``[0, L)`` are the leaves, and a leaf's id is its row in the dense ``(L, C)`` leaf-value tables;
ids ``[L, M)`` are the interior nodes. At run time all (row, tree) pairs advance together, one
level per step, with NumPy fancy indexing, until every pair sits on a leaf; rows are processed in
chunks to bound memory. When all interior nodes share one comparison mode, the first levels of
every tree are laid out level by level as complete binary trees (slot ``i`` of a level has its
children at ``2i`` (false) and ``2i + 1`` (true) of the next level), which saves the child lookup
per step; deeper levels use per-node arrays (kept only when some tree is deeper than that layout),
dropping the pairs that reached a leaf as they go.
"""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np

from ...errors import InvalidArgument

LEQ, LT, GTE, GT, EQ, NEQ, MEMBER, LEAF = range(8)
MODE_NAMES = {"BRANCH_LEQ": LEQ, "BRANCH_LT": LT, "BRANCH_GTE": GTE, "BRANCH_GT": GT,
              "BRANCH_EQ": EQ, "BRANCH_NEQ": NEQ, "BRANCH_MEMBER": MEMBER, "LEAF": LEAF}

_COMPARE = {LEQ: np.less_equal, LT: np.less, GTE: np.greater_equal, GT: np.greater,
            EQ: np.equal, NEQ: np.not_equal}

#: (row, tree) pairs evaluated per chunk
_CHUNK_PAIRS = 1 << 16
#: most slots (trees x 2^levels) of the complete-binary-tree layout, and its most levels
_HEAP_SLOTS = 1 << 21
_HEAP_MAX_DEPTH = 12


class Forest:
    """A flattened tree ensemble, nodes numbered leaves first.

    Interior node ``k`` (``0 <= k < K``) has id ``L + k``; ``feat``, ``thr``, ``modes``,
    ``true_child``, ``false_child`` and ``mvtt`` describe the interior nodes only, children are
    ids in ``[0, L + K)``. ``w_rows, w_targets, w_values`` are (leaf, target, weight) entries;
    ``members`` maps the ids of BRANCH_MEMBER nodes to their sets of values.
    """

    def __init__(self, n_leaves: int, feat, thr, modes, true_child, false_child, mvtt, roots,
                 w_rows, w_targets, w_values, n_targets: int,
                 members: Optional[Dict[int, np.ndarray]] = None, minmax: bool = False) -> None:
        L = int(n_leaves)
        K = len(feat)
        M = L + K
        self.n_leaves = L
        self.n_nodes = M
        self.n_trees = len(roots)
        self.n_targets = C = int(n_targets)
        tc = np.asarray(true_child, dtype=np.intp)
        fc = np.asarray(false_child, dtype=np.intp)
        if K and (min(tc.min(), fc.min()) < 0 or max(tc.max(), fc.max()) >= M):
            raise InvalidArgument("tree ensemble: a child id points outside the tree's nodes")
        feat = np.asarray(feat, dtype=np.intp)
        if K and feat.min() < 0:
            raise InvalidArgument("tree ensemble: negative feature id")
        self.roots = np.asarray(roots, dtype=np.intp)
        if self.n_trees and (self.roots.min() < 0 or self.roots.max() >= M):
            raise InvalidArgument("tree ensemble: a tree root is outside the nodes")
        modes = np.asarray(modes, dtype=np.uint8)
        mvtt = np.asarray(mvtt, dtype=bool)
        self.any_mvtt = bool(mvtt.any())
        self.members = members or {}
        present = np.flatnonzero(np.bincount(modes, minlength=LEAF + 1))
        self.single_mode = int(present[0]) if len(present) == 1 else None
        if self.single_mode == MEMBER:
            self.single_mode = None
        self.max_feature = int(feat.max()) if K else -1
        thr = np.asarray(thr)
        self.thr_dtype = np.dtype(np.float64) if thr.dtype == np.float64 else np.dtype(np.float32)
        # per-node arrays over all M ids (leaves: feature 0, threshold 0, children themselves)
        self.feat = np.concatenate([np.zeros(L, dtype=np.intp), feat])
        self.thr = np.concatenate([np.zeros(L, dtype=self.thr_dtype),
                                   thr.astype(self.thr_dtype, copy=False)])
        self.child2 = np.empty(2 * M, dtype=np.intp)
        self.child2[0:2 * L:2] = self.child2[1:2 * L:2] = np.arange(L, dtype=np.intp)
        self.child2[2 * L::2] = fc
        self.child2[2 * L + 1::2] = tc
        self.mvtt = np.concatenate([np.zeros(L, dtype=bool), mvtt]) if self.any_mvtt else None
        self.modes = (np.concatenate([np.full(L, LEAF, dtype=np.uint8), modes])
                      if self.single_mode is None else None)
        self.depth = self._depth(tc, fc)
        self.heap = self._build_heap()
        if self.heap is not None and self.heap["depth"] >= self.depth:
            # the level layout reaches every leaf: the per-node arrays are never walked
            self.feat = self.thr = self.child2 = self.mvtt = self.modes = None
        self._leaf_tables(w_rows, w_targets, w_values, L, C, minmax)

    def _leaf_tables(self, w_rows, w_targets, w_values, L: int, C: int, minmax: bool) -> None:
        """Dense (L, C) leaf tables: summed weights (float32, plus float64 when the float64
        sums are not float32 values), which (leaf, target) cells have a weight (unless all do),
        and the MIN / MAX tables when that aggregate is used."""
        w_rows = np.asarray(w_rows, dtype=np.intp)
        w_targets = np.asarray(w_targets, dtype=np.intp)
        w_values = np.asarray(w_values, dtype=np.float64)
        if len(w_targets) and (w_targets.min() < 0 or w_targets.max() >= C):
            raise InvalidArgument(f"tree ensemble: a target/class id is outside [0, {C})")
        v_sum = np.zeros((L, C), dtype=np.float64)
        np.add.at(v_sum, (w_rows, w_targets), w_values)
        self.sum32 = v_sum.astype(np.float32)
        exact = np.array_equal(self.sum32, v_sum)
        self.sum64 = None if exact else v_sum
        has = np.zeros((L, C), dtype=bool)
        has[w_rows, w_targets] = True
        self.all_have = bool(L) and bool(has.all())
        self.has = None if self.all_have and not minmax else has
        self.v_min = self.v_max = None
        if minmax:  # tables for the MIN / MAX aggregates
            self.v_min = np.full((L, C), np.inf)
            np.minimum.at(self.v_min, (w_rows, w_targets), w_values)
            self.v_max = np.full((L, C), -np.inf)
            np.maximum.at(self.v_max, (w_rows, w_targets), w_values)

    def _sum_table(self, acc: np.dtype) -> np.ndarray:
        if acc == np.float32:
            return self.sum32
        return self.sum64 if self.sum64 is not None else self.sum32.astype(np.float64)

    def _depth(self, tc: np.ndarray, fc: np.ndarray) -> int:
        """Number of levels to walk so that every pair reaches a leaf; raises on cycles."""
        if self.n_trees == 0:
            return 0
        L, M = self.n_leaves, self.n_nodes
        roots = self.roots
        indeg = np.bincount(np.concatenate([tc, fc]), minlength=M)
        # proper trees (every node one parent, roots none) reach no node twice: their
        # frontiers need no deduplication (nor can they cycle)
        proper = (indeg.max(initial=0) <= 1 and not indeg[roots].any()
                  and len(np.unique(roots)) == len(roots))
        frontier = roots if proper else np.unique(roots)
        depth = 0
        while True:
            inner = frontier[frontier >= L] - L
            if len(inner) == 0:
                return depth
            depth += 1
            if depth > M:
                raise InvalidArgument("tree ensemble: the nodes form a cycle")
            frontier = np.concatenate([fc[inner], tc[inner]])
            if not proper:
                frontier = np.unique(frontier)

    def _build_heap(self):
        """Level-by-level complete-binary-tree layout of the first levels of every tree, leaves
        replicated downwards, so that a step needs no child lookup. Level ``l`` holds
        ``T * 2^l`` slots, slot ``t * 2^l + j`` for position ``j`` of tree ``t``; its children are
        slots ``2 s`` (false) and ``2 s + 1`` (true) of the next level. ``node`` maps the slots
        below the last level to node ids (leaves, or interior nodes where deeper trees go on).
        Only for ensembles with one comparison mode; the number of levels is bounded so that
        trees x 2^levels stays moderate."""
        T = self.n_trees
        if self.single_mode is None or self.depth == 0 or T == 0:
            return None
        D = min(self.depth, _HEAP_MAX_DEPTH)
        while D > 0 and T * (1 << D) > _HEAP_SLOTS:
            D -= 1
        if D < 4:
            return None
        S = T * ((1 << D) - 1)
        fdt = (np.uint8 if self.max_feature < 256 else
               np.uint16 if self.max_feature < 65536 else np.intp)
        feat = np.empty(S, dtype=fdt)
        thr = np.empty(S, dtype=self.thr_dtype)
        mvtt = np.empty(S, dtype=bool) if self.any_mvtt else None
        levels = []
        cur = self.roots
        off = 0
        for level in range(D):
            w = len(cur)
            feat[off:off + w] = self.feat.take(cur)
            np.take(self.thr, cur, out=thr[off:off + w])
            if mvtt is not None:
                np.take(self.mvtt, cur, out=mvtt[off:off + w])
            levels.append((feat[off:off + w], thr[off:off + w],
                           None if mvtt is None else mvtt[off:off + w]))
            off += w
            nxt = np.empty(2 * w, dtype=np.intp)
            np.take(self.child2, 2 * cur, out=nxt[0::2])
            np.take(self.child2, 2 * cur + 1, out=nxt[1::2])
            cur = nxt
        return {"levels": levels, "node": cur, "depth": D}

    # ------------------------------------------------------------------ traversal

    def compare_dtype(self, x_dtype) -> np.dtype:
        if self.thr_dtype == np.float64 or x_dtype == np.float64:
            return np.dtype(np.float64)
        return np.dtype(np.float32)

    def _prepare(self, X: np.ndarray) -> np.ndarray:
        """X as a contiguous array of the comparison dtype."""
        if self.max_feature >= X.shape[1]:
            raise InvalidArgument(
                f"tree ensemble: a node uses feature {self.max_feature} but the input has "
                f"{X.shape[1]} features per row")
        return np.ascontiguousarray(X, dtype=self.compare_dtype(X.dtype))

    def leaves(self, X: np.ndarray) -> np.ndarray:
        """Leaf reached by every (row, tree) pair (its id, i.e. its leaf-table row):
        intp array [N, n_trees]."""
        N, T = X.shape[0], self.n_trees
        Xc = self._prepare(X)
        out = np.empty((N, T), dtype=np.intp)
        if N == 0 or T == 0:
            return out
        rows_per_chunk = max(1, _CHUNK_PAIRS // T)
        for r0 in range(0, N, rows_per_chunk):
            out[r0:r0 + rows_per_chunk] = self._chunk_leaves(Xc[r0:r0 + rows_per_chunk]).T
        return out

    def _chunk_leaves(self, xc: np.ndarray) -> np.ndarray:
        """Leaves reached by the rows of ``xc``: [T, n], tree-major (the pairs of one tree are
        adjacent, so that each step reads one tree's nodes at a time)."""
        F = xc.shape[1]
        if self.heap is not None:
            idx = self._walk_heap(xc, F)
            levels = self.depth - self.heap["depth"]
        else:
            idx = np.repeat(self.roots, xc.shape[0]).reshape(self.n_trees, xc.shape[0])
            levels = self.depth
        return self._walk(xc, F, idx, levels) if levels > 0 else idx

    def _walk_heap(self, Xc: np.ndarray, F: int) -> np.ndarray:
        hp = self.heap
        n = Xc.shape[0]
        T = self.n_trees
        compare = _COMPARE[self.single_mode]
        xflat = Xc.ravel()
        rowoff = np.arange(0, n * F, F, dtype=np.intp)
        s = np.repeat(np.arange(T, dtype=np.intp), n).reshape(T, n)  # slot t of level 0
        tmp = np.empty((T, n), dtype=np.intp)
        fbuf = np.empty((T, n), dtype=hp["levels"][0][0].dtype)
        v = np.empty((T, n), dtype=Xc.dtype)
        t = np.empty((T, n), dtype=Xc.dtype)
        c = np.empty((T, n), dtype=bool)
        for feat, thr, mvtt in hp["levels"]:
            np.take(feat, s, out=fbuf)
            np.add(fbuf, rowoff, out=tmp)
            np.take(xflat, tmp, out=v)
            if thr.dtype == v.dtype:
                np.take(thr, s, out=t)
            else:
                t[...] = thr.take(s)
            compare(v, t, out=c)
            if mvtt is not None:
                c |= np.isnan(v) & mvtt.take(s)
            s += s
            s += c
        return hp["node"].take(s)

    def _walk(self, Xc: np.ndarray, F: int, idx: np.ndarray, levels: int) -> np.ndarray:
        """Advance the (tree, row) pairs of ``idx`` [T, n] by up to ``levels`` steps through the
        node arrays. Every few steps, once enough pairs sit on leaves, the pairs still moving
        are compacted so that deep, unbalanced trees cost what their actual paths cost."""
        T, n = idx.shape
        L = self.n_leaves
        out = idx.reshape(-1).copy()
        cur = out.copy()
        pos = None  # positions in ``out`` of the pairs in ``cur`` (None: all, in order)
        rowoff = np.tile(np.arange(0, n * F, F, dtype=np.intp), T)
        xflat = Xc.ravel()
        thr = self.thr.astype(Xc.dtype, copy=False)
        feat, child2, mode = self.feat, self.child2, self.single_mode
        tmp = np.empty_like(cur)
        for step in range(levels):
            if step % 3 == 0:
                done = cur < L
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
            if self.mvtt is not None:
                c |= np.isnan(v) & self.mvtt.take(cur)
            np.multiply(cur, 2, out=tmp)
            tmp += c
            np.take(child2, tmp, out=cur)
        if pos is None:
            out = cur
        else:
            out[pos] = cur
        return out.reshape(T, n)

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
        Xc = self._prepare(X)
        acc = Xc.dtype
        scores = np.zeros((N, C), dtype=acc)
        has = np.zeros((N, C), dtype=bool)
        if N == 0 or self.n_trees == 0:
            return scores, has
        table = self._sum_table(acc)
        rows_per_chunk = max(1, _CHUNK_PAIRS // max(1, self.n_trees * max(1, C // 4)))
        for r0 in range(0, N, rows_per_chunk):
            r1 = min(N, r0 + rows_per_chunk)
            # [T, n]: reducing over axis 0 adds tree after tree
            lvT = self._chunk_leaves(Xc[r0:r1])
            if how in ("SUM", "AVERAGE"):
                if C == 1:
                    scores[r0:r1, 0] = table[:, 0].take(lvT).sum(axis=0)
                else:
                    scores[r0:r1] = table.take(lvT, axis=0).sum(axis=0)
                if self.all_have:
                    has[r0:r1] = True
                else:
                    has[r0:r1] = self.has.take(lvT, axis=0).any(axis=0)
            else:
                h = self.has.take(lvT, axis=0)  # [T, n, C]
                has[r0:r1] = h.any(axis=0)
                if how == "MIN":
                    scores[r0:r1] = self.v_min.take(lvT, axis=0).min(axis=0)
                else:
                    scores[r0:r1] = self.v_max.take(lvT, axis=0).max(axis=0)
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


def _array(value, dtype) -> np.ndarray:
    """An INTS / FLOATS attribute (list or array) as a 1-D array of ``dtype``."""
    if isinstance(value, np.ndarray):
        return value.astype(dtype, copy=False).ravel()
    if isinstance(value, list):
        try:
            return np.fromiter(value, dtype=dtype, count=len(value))
        except (TypeError, ValueError):
            pass
    return np.asarray(value, dtype=dtype).ravel()


def _flags(value, n: int) -> np.ndarray:
    """An optional 0/1 INTS attribute as a bool array (all False when absent, empty or, for a
    list, without a nonzero entry: ``any`` is faster than converting it)."""
    if value is None or len(value) == 0 or (isinstance(value, list) and not any(value)):
        return np.zeros(n if value is None or len(value) == 0 else len(value), dtype=bool)
    return _array(value, np.int64) != 0


def _mode_codes(modes_s, M: int) -> np.ndarray:
    if isinstance(modes_s, np.ndarray) and modes_s.dtype.kind in "iu":
        return modes_s.astype(np.uint8)
    try:
        return np.fromiter(map(MODE_NAMES.__getitem__, modes_s), dtype=np.uint8, count=M)
    except KeyError as e:
        raise InvalidArgument(f"unknown node mode {e.args[0]!r}") from None
    except TypeError:
        bad = next(m for m in modes_s if not isinstance(m, str))
        raise InvalidArgument(f"unknown node mode {bad!r}") from None


def _groups(a: np.ndarray):
    """(sorted distinct values of ``a``, rank of every element among them, index of the first
    element of each value)."""
    if len(a) and (a[1:] >= a[:-1]).all():  # already grouped in order (the usual layout)
        change = a[1:] != a[:-1]
        starts = np.concatenate([[0], np.flatnonzero(change) + 1])
        rank = np.concatenate([[0], np.cumsum(change)]).astype(np.intp)
        return a[starts], rank, starts
    uniq, first, rank = np.unique(a, return_index=True, return_inverse=True)
    return uniq, rank.astype(np.intp).ravel(), first


class _NodeIndex:
    """Position of every (tree, node id) pair of the nodes_* attributes, found by binary search
    over one combined integer key."""

    def __init__(self, treeids: np.ndarray, nodeids: np.ndarray) -> None:
        self.trees, self.tree_rank, self.tree_first = _groups(treeids)
        M = len(nodeids)
        self.nmin = int(nodeids.min()) if M else 0
        nmax = int(nodeids.max()) if M else 0
        self.nmax = nmax
        self.node_rank = None
        span = nmax - self.nmin + 1
        if len(self.trees) * span >= 1 << 62:  # huge node ids: rank them first
            self.node_vals, rank = np.unique(nodeids, return_inverse=True)
            self.node_rank = rank.astype(np.int64).ravel()
            span = len(self.node_vals)
            rel = self.node_rank
        else:
            rel = nodeids - self.nmin
        self.span = span
        key = self.tree_rank.astype(np.int64) * span + rel
        self.dense = None
        if M and (key[1:] > key[:-1]).all():
            self.order = None
            self.keys = key
            # the usual layout: every tree's node ids are consecutive, in order, so that a
            # node's position is its tree's first position plus its id's offset
            tmin = nodeids[self.tree_first]
            count = np.diff(np.append(self.tree_first, M))
            if (nodeids - tmin[self.tree_rank] == np.arange(M) - self.tree_first[
                    self.tree_rank]).all():
                self.dense = (tmin, count)
        else:
            self.order = np.argsort(key, kind="stable")
            self.keys = key[self.order]
            dup = np.flatnonzero(self.keys[1:] == self.keys[:-1])
            if len(dup):
                i = int(self.order[dup[0]])
                raise InvalidArgument(f"node id {int(nodeids[i])} appears twice in tree "
                                      f"{int(treeids[i])}")

    def tree_ranks(self, treeids: np.ndarray):
        """(rank of each tree id, whether that tree exists)."""
        pos = np.searchsorted(self.trees, treeids)
        pos = np.minimum(pos, max(len(self.trees) - 1, 0))
        ok = (self.trees[pos] == treeids) if len(self.trees) else np.zeros(len(treeids), bool)
        return pos.astype(np.intp), ok

    def find(self, tree_rank: np.ndarray, nodeids: np.ndarray):
        """(position of each (tree rank, node id) pair, whether it exists)."""
        if self.dense is not None:
            tmin, count = self.dense
            off = nodeids - tmin[tree_rank]
            ok = (off >= 0) & (off < count[tree_rank])
            return np.where(ok, self.tree_first[tree_rank] + off, 0).astype(np.intp), ok
        if self.node_rank is None:
            valid = (nodeids >= self.nmin) & (nodeids <= self.nmax)
            rel = np.where(valid, nodeids - self.nmin, 0)
        else:
            p = np.minimum(np.searchsorted(self.node_vals, nodeids), len(self.node_vals) - 1)
            valid = self.node_vals[p] == nodeids
            rel = np.where(valid, p, 0)
        q = tree_rank.astype(np.int64) * self.span + rel
        M = len(self.keys)
        if M == 0:
            return np.zeros(len(q), dtype=np.intp), np.zeros(len(q), dtype=bool)
        pos = np.minimum(np.searchsorted(self.keys, q), M - 1)
        ok = valid & (self.keys[pos] == q)
        idx = pos if self.order is None else self.order[pos]
        return idx.astype(np.intp), ok


def build_legacy(info, prefix: str, n_targets: int, values, weights,
                 minmax: bool = False) -> Forest:
    """Forest from TreeEnsembleRegressor/Classifier attributes (``prefix`` 'target' or 'class').

    ``values`` are the node thresholds, ``weights`` the leaf weights (already chosen between the
    FLOATS and *_as_tensor forms)."""
    treeids = _array(_req(info, "nodes_treeids"), np.int64)
    nodeids = _array(_req(info, "nodes_nodeids"), np.int64)
    M = len(treeids)
    fv = info.attr("nodes_featureids")
    featureids = np.zeros(M, dtype=np.int64) if fv is None else _array(fv, np.int64)
    modes_s = info.attr("nodes_modes", [])
    tv, fv = info.attr("nodes_truenodeids"), info.attr("nodes_falsenodeids")
    tnode = np.zeros(M, dtype=np.int64) if tv is None else _array(tv, np.int64)
    fnode = np.zeros(M, dtype=np.int64) if fv is None else _array(fv, np.int64)
    mvtt = _flags(info.attr("nodes_missing_value_tracks_true"), M)
    if values is None:
        values = np.zeros(M, dtype=np.float32)
    for name, arr in (("nodes_nodeids", nodeids), ("nodes_featureids", featureids),
                      ("nodes_modes", modes_s), ("nodes_truenodeids", tnode),
                      ("nodes_falsenodeids", fnode), ("nodes_values", values),
                      ("nodes_missing_value_tracks_true", mvtt)):
        if len(arr) != M:
            raise InvalidArgument(f"attribute '{name}' has {len(arr)} entries, "
                                  f"nodes_treeids has {M}")
    modes = _mode_codes(modes_s, M)
    if (modes == MEMBER).any():
        raise InvalidArgument("BRANCH_MEMBER is only valid in TreeEnsemble")
    index = _NodeIndex(treeids, nodeids)
    # one root per tree, in the order the trees first appear: node 0, else the tree's first node
    n_trees = len(index.trees)
    ranks = np.arange(n_trees, dtype=np.intp)
    at0, has0 = index.find(ranks, np.zeros(n_trees, dtype=np.int64))
    roots_old = np.where(has0, at0, index.tree_first)[np.argsort(index.tree_first, kind="stable")]
    # leaves first: a leaf's new id is its rank among the leaves, interior nodes follow
    is_leaf = modes == LEAF
    leaf_old = np.flatnonzero(is_leaf)
    inner_old = np.flatnonzero(~is_leaf)
    L = len(leaf_old)
    new_id = np.empty(M, dtype=np.intp)
    new_id[leaf_old] = np.arange(L, dtype=np.intp)
    new_id[inner_old] = np.arange(L, M, dtype=np.intp)
    rank_inner = index.tree_rank[inner_old]
    t_at, t_ok = index.find(rank_inner, tnode[inner_old])
    f_at, f_ok = index.find(rank_inner, fnode[inner_old])
    bad = np.flatnonzero(~(t_ok & f_ok))
    if len(bad):
        i = int(inner_old[bad[0]])
        raise InvalidArgument(f"tree {int(treeids[i])} node {int(nodeids[i])}: a child node id "
                              "is missing")
    w_tree = _array(info.attr(f"{prefix}_treeids", []), np.int64)
    w_node = _array(info.attr(f"{prefix}_nodeids", []), np.int64)
    w_ids = _array(info.attr(f"{prefix}_ids", []), np.int64)
    weights = np.zeros(0) if weights is None else weights
    if not (len(w_tree) == len(w_node) == len(w_ids) == len(weights)):
        raise InvalidArgument(f"the {prefix}_* attributes must have the same length")
    w_rank, w_tree_ok = index.tree_ranks(w_tree)
    w_at, w_ok = index.find(w_rank, w_node)
    w_ok &= w_tree_ok
    bad = np.flatnonzero(~w_ok)
    if len(bad):
        j = int(bad[0])
        raise InvalidArgument(f"{prefix}_nodeids: tree {int(w_tree[j])} has no node "
                              f"{int(w_node[j])}")
    w_rows = new_id[w_at]
    bad = np.flatnonzero(w_rows >= L)
    if len(bad):
        j = int(bad[0])
        raise InvalidArgument(f"{prefix}_nodeids: tree {int(w_tree[j])} node {int(w_node[j])} "
                              "is not a leaf")
    return Forest(L, featureids[inner_old], values[inner_old], modes[inner_old],
                  new_id[t_at], new_id[f_at], mvtt[inner_old], new_id[roots_old],
                  w_rows, w_ids, weights, n_targets, minmax=minmax)


def build_v5(info, minmax: bool = False) -> Forest:
    """Forest from TreeEnsemble (ai.onnx.ml 5) attributes."""
    featureids = _array(_req(info, "nodes_featureids"), np.int64)
    K = len(featureids)
    splits = np.asarray(_req(info, "nodes_splits")).ravel()
    modes_in = np.asarray(_req(info, "nodes_modes")).ravel().astype(np.int64)
    tids = _array(_req(info, "nodes_truenodeids"), np.int64)
    fids = _array(_req(info, "nodes_falsenodeids"), np.int64)
    tleaf = _array(_req(info, "nodes_trueleafs"), np.int64) != 0
    fleaf = _array(_req(info, "nodes_falseleafs"), np.int64) != 0
    mvtt = _flags(info.attr("nodes_missing_value_tracks_true"), K)
    for name, arr in (("nodes_splits", splits), ("nodes_modes", modes_in),
                      ("nodes_truenodeids", tids), ("nodes_falsenodeids", fids),
                      ("nodes_trueleafs", tleaf), ("nodes_falseleafs", fleaf),
                      ("nodes_missing_value_tracks_true", mvtt)):
        if len(arr) != K:
            raise InvalidArgument(f"attribute '{name}' has {len(arr)} entries, "
                                  f"nodes_featureids has {K}")
    if len(modes_in) and (modes_in.min() < 0 or modes_in.max() > MEMBER):
        raise InvalidArgument("nodes_modes values must be in 0..6")
    targets = _array(_req(info, "leaf_targetids"), np.int64)
    lw = np.asarray(_req(info, "leaf_weights")).ravel()
    L = len(targets)
    if len(lw) != L:
        raise InvalidArgument("leaf_weights and leaf_targetids must have the same length")
    roots = _array(_req(info, "tree_roots"), np.int64)
    for ids, isl, what in ((tids, tleaf, "true"), (fids, fleaf, "false")):
        lim = np.where(isl, L, K)
        if len(ids) and ((ids < 0) | (ids >= lim)).any():
            raise InvalidArgument(f"nodes_{what}nodeids has an id out of range")
    if len(roots) and (roots.min() < 0 or roots.max() >= K):
        raise InvalidArgument("tree ensemble: a tree root is outside the nodes")
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
            members[L + node] = np.asarray(g, dtype=np.float64)
    thr_dtype = np.float64 if splits.dtype == np.float64 else np.float32
    # leaves first: leaf j keeps id j, interior node k becomes L + k
    tc = np.where(tleaf, tids, tids + L)
    fc = np.where(fleaf, fids, fids + L)
    n_targets = info.attr("n_targets")
    if n_targets is None:
        n_targets = int(targets.max()) + 1 if L else 1
    return Forest(L, featureids, splits.astype(thr_dtype), modes_in.astype(np.uint8), tc, fc,
                  mvtt, roots + L, np.arange(L), targets, lw.astype(np.float64),
                  int(n_targets), members, minmax=minmax)
