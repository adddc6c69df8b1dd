"""TfIdfVectorizer (opset 9): n-gram (with skips) counts of integer or string tokens."""

from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel

_MODES = ("TF", "IDF", "TFIDF")


@kernel("TfIdfVectorizer", since=9, fresh=True)
class TfIdfVectorizer(OpKernel):
    """Counts, per input row, the occurrences of each pool n-gram of length
    ``min_gram_length..max_gram_length`` whose tokens are ``skip+1`` apart for every skip in
    ``0..max_skip_count`` (unigrams counted once). Output column ``ngram_indexes[i]`` holds the
    i-th pool n-gram; IDF/TFIDF scale it by ``weights[i]``."""

    def __init__(self, info) -> None:
        super().__init__(info)
        mode = info.require_attr("mode")
        if mode not in _MODES:
            raise InvalidArgument(f"TfIdfVectorizer mode '{mode}' is not one of TF, IDF, TFIDF")
        self.mode = mode
        self.min_n = int(info.require_attr("min_gram_length"))
        self.max_n = int(info.require_attr("max_gram_length"))
        self.max_skip = int(info.require_attr("max_skip_count"))
        counts = [int(c) for c in info.require_attr("ngram_counts")]
        indexes = [int(i) for i in info.require_attr("ngram_indexes")]
        if self.min_n < 1 or self.max_n < self.min_n:
            raise InvalidArgument(f"TfIdfVectorizer needs 1 <= min_gram_length <= "
                                  f"max_gram_length, got {self.min_n} and {self.max_n}")
        if self.max_skip < 0:
            raise InvalidArgument(f"TfIdfVectorizer max_skip_count must be >= 0, got "
                                  f"{self.max_skip}")
        if not counts or self.max_n > len(counts):
            raise InvalidArgument(f"TfIdfVectorizer ngram_counts {counts} must have an entry "
                                  f"for every n-gram length up to {self.max_n}")
        if not indexes or min(indexes) < 0:
            raise InvalidArgument("TfIdfVectorizer ngram_indexes must be non-empty and "
                                  "non-negative")
        self.out_size = max(indexes) + 1
        pool_s = info.attr("pool_strings")
        pool_i = info.attr("pool_int64s")
        if pool_s:
            self.strings = True
            pool = list(pool_s)
        elif pool_i:
            self.strings = False
            pool = [int(v) for v in pool_i]
        else:
            raise InvalidArgument("TfIdfVectorizer needs a non-empty pool_strings or "
                                  "pool_int64s")
        weights = info.attr("weights")
        self.weights = None
        if weights:
            if len(weights) != len(indexes):
                raise InvalidArgument(f"TfIdfVectorizer has {len(weights)} weights but "
                                      f"{len(indexes)} ngram_indexes")
            w = np.zeros(self.out_size, dtype=np.float32)
            w[np.asarray(indexes)] = np.asarray(weights, dtype=np.float32)
            self.weights = w
        # split the pool into n-grams per length; keep lengths min_n..max_n
        grams: Dict[int, Tuple[List[tuple], List[int]]] = {}
        ngram_id = 0
        for k, start in enumerate(counts):
            n = k + 1
            end = counts[k + 1] if k + 1 < len(counts) else len(pool)
            if not 0 <= start <= end <= len(pool) or (end - start) % n:
                raise InvalidArgument(f"TfIdfVectorizer ngram_counts {counts} do not split the "
                                      f"pool of {len(pool)} items into whole {n}-grams")
            items = [tuple(pool[s:s + n]) for s in range(start, end, n)]
            if self.min_n <= n <= self.max_n and items:
                if len(set(items)) != len(items):
                    raise InvalidArgument(f"TfIdfVectorizer pool has duplicate {n}-grams")
                if ngram_id + len(items) > len(indexes):
                    raise InvalidArgument("TfIdfVectorizer ngram_indexes has fewer entries "
                                          "than the pool has n-grams")
                grams[n] = (items, indexes[ngram_id:ngram_id + len(items)])
            ngram_id += len(items)
        # vocabulary: token -> id (ids from 0), every pool n-gram as a row of ids
        vocab = sorted({t for items, _ in grams.values() for g in items for t in g})
        self.vocab = {t: i for i, t in enumerate(vocab)}
        self.vocab_sorted = None if self.strings else np.array(vocab, dtype=np.int64)
        self.base = len(vocab) + 1
        self.tables = {}
        for n, (items, cols) in grams.items():
            rows = np.array([[self.vocab[t] for t in g] for g in items], dtype=np.int64)
            if self.base ** n < 2 ** 62:
                codes = self._encode([rows[:, j] for j in range(n)])
                order = np.argsort(codes)
                self.tables[n] = ("code", codes[order], np.asarray(cols, np.int64)[order])
            else:
                lookup = {tuple(int(v) for v in r): c for r, c in zip(rows, cols)}
                self.tables[n] = ("dict", lookup, None)

    def _encode(self, columns) -> np.ndarray:
        code = np.zeros(columns[0].shape, dtype=np.int64)
        for col in reversed(columns):
            code = code * self.base + (col + 1)
        return code

    def _token_ids(self, X: np.ndarray) -> np.ndarray:
        if self.strings:
            if X.dtype != object:
                raise InvalidArgument(f"TfIdfVectorizer with pool_strings needs a string "
                                      f"input, got {X.dtype}")
            get = self.vocab.get
            ids = np.fromiter((get(t, -1) for t in X.reshape(-1)), dtype=np.int64,
                              count=X.size)
            return ids.reshape(X.shape)
        if X.dtype not in (np.int32, np.int64):
            raise InvalidArgument(f"TfIdfVectorizer with pool_int64s needs an int32/int64 "
                                  f"input, got {X.dtype}")
        v = self.vocab_sorted
        x = X.astype(np.int64)
        pos = np.searchsorted(v, x)
        pos_c = np.minimum(pos, len(v) - 1)
        return np.where(v[pos_c] == x, pos_c, -1)

    def __call__(self, X):
        if not isinstance(X, np.ndarray):
            raise InvalidArgument("TfIdfVectorizer input must be a tensor")
        if X.ndim == 0:
            X = X.reshape(1)
        if X.ndim == 1:
            rows, one_d = X.reshape(1, -1), True
        elif X.ndim == 2:
            if X.shape[0] < 1:
                raise InvalidArgument("TfIdfVectorizer input must have shape [C] or [B, C] "
                                      "with B > 0")
            rows, one_d = X, False
        else:
            raise InvalidArgument(f"TfIdfVectorizer input must have shape [C] or [B, C], got "
                                  f"{list(X.shape)}")
        B, C = rows.shape
        counts = np.zeros(B * self.out_size, dtype=np.int64)
        if rows.size:
            ids = self._token_ids(rows)
            row_base = (np.arange(B, dtype=np.int64) * self.out_size)[:, None]
            for n, table in self.tables.items():
                for skip in range(self.max_skip + 1 if n > 1 else 1):
                    d = skip + 1
                    span = (n - 1) * d
                    if span >= C:
                        break
                    cols = [ids[:, j * d:C - span + j * d] for j in range(n)]
                    hit_cols = self._match(table, cols, n)
                    hit = hit_cols >= 0
                    np.add.at(counts, (row_base + hit_cols)[hit], 1)
        counts = counts.reshape(B, self.out_size)
        if self.mode == "TF":
            out = counts.astype(np.float32)
        elif self.mode == "IDF":
            w = self.weights if self.weights is not None else np.float32(1)
            out = np.where(counts > 0, w, np.float32(0)).astype(np.float32)
        else:
            out = counts.astype(np.float32)
            if self.weights is not None:
                out *= self.weights
        return out[0] if one_d else out

    def _match(self, table, cols, n: int) -> np.ndarray:
        """Output column of every window (-1 where the n-gram is not in the pool)."""
        kind, keys, values = table
        valid = np.ones(cols[0].shape, dtype=bool)
        for c in cols:
            valid &= c >= 0
        if kind == "code":
            code = self._encode(cols)
            pos = np.minimum(np.searchsorted(keys, code), len(keys) - 1)
            return np.where(valid & (keys[pos] == code), values[pos], -1)
        out = np.full(cols[0].shape, -1, dtype=np.int64)
        stacked = np.stack(cols, axis=-1)
        for idx in zip(*np.nonzero(valid)):
            out[idx] = keys.get(tuple(int(v) for v in stacked[idx]), -1)
        return out
