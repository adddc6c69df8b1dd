"""A random-forest regressor of 100 trees of depth 10 on 20 features, trained by scikit-learn
and converted by skl2onnx (both needed only to build it: the ``bench`` extra); benchmarked on
10,000 rows."""

from __future__ import annotations

import warnings

import numpy as np
import onnx

ROWS, FEATURES, TREES, DEPTH = 10_000, 20, 100, 10


def random_forest() -> onnx.ModelProto:
    try:
        from sklearn.ensemble import RandomForestRegressor
        from skl2onnx import to_onnx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("the tree-ensemble benchmark model needs scikit-learn and skl2onnx "
                           "(pip install 'onnxrun[bench]')") from exc
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4000, FEATURES)).astype(np.float32)
    y = x[:, 0] * 2 + np.sin(3 * x[:, 1]) + x[:, 2] * x[:, 3] + 0.1 * rng.standard_normal(4000)
    model = RandomForestRegressor(n_estimators=TREES, max_depth=DEPTH, random_state=0, n_jobs=1)
    model.fit(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        onx = to_onnx(model, x[:1])
    # a symbolic batch dimension, so the suite can feed 10,000 rows
    dim = onx.graph.input[0].type.tensor_type.shape.dim[0]
    dim.Clear()
    dim.dim_param = "N"
    return onx
