"""Benchmark: onnxrun's tree-ensemble kernels against onnxruntime.

    python scripts/bench_trees.py [--rows 10000] [--features 20] [--trees 100] [--depth 10]
                                  [--repeat 9] [--threads 1]

Builds scikit-learn RandomForestRegressor and GradientBoostingRegressor models (100 trees of
depth 10 by default) and a RandomForestClassifier, converts them with skl2onnx, checks that both
runtimes agree, then times them interleaved on the same input and prints the median times and
the ratio (onnxrun / onnxruntime). ``--threads`` is onnxruntime's intra-op thread count.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np

import onnxrun


def build_models(rows, features, trees, depth):
    from sklearn.ensemble import (GradientBoostingRegressor, RandomForestClassifier,
                                  RandomForestRegressor)
    from skl2onnx import to_onnx
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, features)).astype(np.float32)
    y = X[:, 0] * 2 + np.sin(3 * X[:, 1]) + X[:, 2] * X[:, 3] + 0.1 * rng.standard_normal(rows)
    n_fit = min(rows, 4000)
    models = [
        ("RandomForestRegressor", RandomForestRegressor(
            n_estimators=trees, max_depth=depth, random_state=0, n_jobs=1)),
        ("GradientBoostingRegressor", GradientBoostingRegressor(
            n_estimators=trees, max_depth=depth, random_state=0, subsample=0.5)),
        ("RandomForestClassifier(3)", RandomForestClassifier(
            n_estimators=trees, max_depth=depth, random_state=0, n_jobs=1)),
    ]
    out = []
    for name, m in models:
        target = y if "Regressor" in name else np.digitize(y, [-1.0, 1.0])
        m.fit(X[:n_fit], target[:n_fit])
        opts = {id(m): {"zipmap": False}} if "Classifier" in name else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            onx = to_onnx(m, X[:1], options=opts)
        nodes = sum(e.tree_.node_count for e in np.ravel(m.estimators_))
        out.append((name, onx.SerializeToString(), nodes))
    return X, out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    import onnxruntime as ort

    X, models = build_models(args.rows, args.features, args.trees, args.depth)
    print(f"{args.rows} rows x {args.features} features, {args.trees} trees of depth "
          f"<= {args.depth}; onnxruntime intra_op_num_threads={args.threads}; "
          f"median of {args.repeat} interleaved runs")
    print(f"{'model':28s} {'nodes':>7s} {'onnxrun ms':>11s} {'ort ms':>9s} {'ratio':>7s}")
    for name, onx, nodes in models:
        so = ort.SessionOptions()
        so.intra_op_num_threads = args.threads
        so.inter_op_num_threads = 1
        s_ort = ort.InferenceSession(onx, so, providers=["CPUExecutionProvider"])
        s_our = onnxrun.InferenceSession(onx)
        feeds = {"X": X}
        a = s_our.run(None, feeds)
        b = s_ort.run(None, feeds)
        for u, v in zip(a, b):
            if u.dtype.kind == "f":
                np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-5)
            else:
                np.testing.assert_array_equal(u, v)
        t_our, t_ort = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            s_our.run(None, feeds)
            t_our.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            s_ort.run(None, feeds)
            t_ort.append(time.perf_counter() - t0)
        mo, mr = statistics.median(t_our), statistics.median(t_ort)
        print(f"{name:28s} {nodes:7d} {mo * 1e3:11.1f} {mr * 1e3:9.1f} {mo / mr:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
