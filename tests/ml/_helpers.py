"""Shared helpers of the ai.onnx.ml tests: convert scikit-learn models, run them through onnxrun
and onnxruntime, compare."""

from __future__ import annotations

import warnings

import numpy as np

import onnxrun
import onnxrun.errors

try:
    import onnxruntime as ort
except ImportError:  # pragma: no cover
    ort = None


def convert(model, X, **kw):
    """skl2onnx model (serialized) for ``model`` with ``X``'s input type."""
    from skl2onnx import to_onnx
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        onx = to_onnx(model, X[:1], **kw)
    return onx.SerializeToString()


ML_OPS = {"ArrayFeatureExtractor", "Binarizer", "CastMap", "CategoryMapper", "DictVectorizer",
          "FeatureVectorizer", "Imputer", "LabelEncoder", "LinearClassifier", "LinearRegressor",
          "Normalizer", "OneHotEncoder", "SVMClassifier", "SVMRegressor", "Scaler",
          "TreeEnsemble", "TreeEnsembleClassifier", "TreeEnsembleRegressor", "ZipMap"}


def run_onnxrun(model_bytes, feeds):
    """Run with onnxrun; skips the test while a default-domain kernel it needs is missing
    (those belong to other kernel families)."""
    import pytest
    try:
        sess = onnxrun.InferenceSession(model_bytes)
    except onnxrun.errors.NotImplemented as e:
        msg = str(e)
        if "Could not find an implementation for " in msg:
            op = msg.split("Could not find an implementation for ", 1)[1].split("(", 1)[0]
            if op not in ML_OPS:
                pytest.skip(f"default-domain kernel {op} not available yet")
        raise
    return sess.run(None, feeds)


def run_ort(model_bytes, feeds):
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def zipmap_to_array(z, classes):
    """A ZipMap output (list of dicts) as a [N, C] array in the order of ``classes``."""
    return np.array([[row[c] for c in classes] for row in z], dtype=np.float64)


def assert_same_outputs(ours, theirs, rtol=1e-5, atol=1e-6):
    """onnxrun's outputs equal onnxruntime's: labels exactly, numbers within tolerance."""
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        if isinstance(b, list):
            assert isinstance(a, list) and len(a) == len(b)
            for ra, rb in zip(a, b):
                assert set(ra) == set(rb)
                np.testing.assert_allclose([ra[k] for k in rb], list(rb.values()),
                                           rtol=rtol, atol=atol)
            continue
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape, (a.shape, b.shape)
        assert a.dtype == b.dtype, (a.dtype, b.dtype)
        if a.dtype == object or a.dtype.kind in "iub":
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
