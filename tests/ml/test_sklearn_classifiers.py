"""scikit-learn classifiers converted with skl2onnx: onnxrun must give scikit-learn's labels
exactly, its probabilities within tolerance, and onnxruntime's outputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("skl2onnx")

from sklearn import datasets  # noqa: E402
from sklearn.ensemble import (ExtraTreesClassifier, GradientBoostingClassifier,  # noqa: E402
                              RandomForestClassifier)
from sklearn.linear_model import LogisticRegression, SGDClassifier  # noqa: E402
from sklearn.naive_bayes import GaussianNB  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import MinMaxScaler, Normalizer, StandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

from ._helpers import assert_same_outputs, convert, run_onnxrun, run_ort, zipmap_to_array  # noqa: E402


def _data(name):
    loader = {"iris": datasets.load_iris, "breast_cancer": datasets.load_breast_cancer,
              "digits": datasets.load_digits}[name]
    X, y = loader(return_X_y=True)
    X = X.astype(np.float32)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(X))
    X, y = X[idx], y[idx]
    n = min(len(X) // 2, 400)
    return X[:n], y[:n], X[n:n + 150]


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


# (id, dataset, estimator factory, probability rtol, probability atol)
# Float32 models: onnxrun and onnxruntime both compute in float32 (with float64 sums in onnxrun),
# scikit-learn in float64, so probabilities agree with scikit-learn to about 1e-5 relative
# except where stated (SVC: libsvm's Platt coupling is iterative and stops at 0.005/k, so the
# float32 run may stop one iteration apart: 1e-3; MLP/SGD/LogReg: float32 matmuls, 1e-4).
CASES = [
    ("logreg-iris", "iris", lambda: LogisticRegression(max_iter=500), 1e-4, 1e-5),
    ("logreg-binary", "breast_cancer",
     lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)), 1e-4, 1e-5),
    ("tree-iris", "iris", lambda: DecisionTreeClassifier(max_depth=4, random_state=0), 1e-5, 1e-6),
    ("tree-binary", "breast_cancer",
     lambda: DecisionTreeClassifier(max_depth=5, random_state=0), 1e-5, 1e-6),
    ("rf-digits", "digits",
     lambda: RandomForestClassifier(n_estimators=15, max_depth=8, random_state=0), 1e-5, 1e-6),
    ("rf-binary", "breast_cancer",
     lambda: RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0), 1e-5, 1e-6),
    ("et-iris", "iris",
     lambda: ExtraTreesClassifier(n_estimators=10, max_depth=5, random_state=0), 1e-5, 1e-6),
    ("gb-iris", "iris",
     lambda: GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=0), 1e-4, 1e-6),
    ("gb-binary", "breast_cancer",
     lambda: GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0), 1e-4, 1e-6),
    ("svc-iris", "iris", lambda: SVC(probability=True, random_state=0), 1e-3, 1e-4),
    ("svc-binary", "breast_cancer",
     lambda: make_pipeline(StandardScaler(), SVC(probability=True, random_state=0)), 1e-3, 1e-4),
    ("svc-poly", "iris",
     lambda: SVC(kernel="poly", degree=2, probability=True, random_state=0), 1e-3, 1e-4),
    ("knn-iris", "iris", lambda: KNeighborsClassifier(n_neighbors=5), 1e-5, 1e-6),
    ("gnb-iris", "iris", lambda: GaussianNB(), 1e-4, 1e-5),
    ("mlp-iris", "iris",
     lambda: make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,),
                                                           max_iter=300, random_state=0)),
     1e-4, 1e-5),
    ("sgd-iris", "iris",
     lambda: make_pipeline(MinMaxScaler(), SGDClassifier(loss="log_loss", random_state=0)),
     1e-4, 1e-5),
    ("normalizer-logreg", "iris",
     lambda: make_pipeline(Normalizer(), LogisticRegression(max_iter=500)), 1e-4, 1e-5),
]


# ZipMap (list of dicts output) is checked on a subset
WITH_ZIPMAP = ("logreg-iris", "rf-binary", "svc-iris", "gb-binary", "tree-iris")
PARAMS = [pytest.param(c, False, id=f"{c[0]}-nozipmap") for c in CASES] + \
    [pytest.param(c, True, id=f"{c[0]}-zipmap") for c in CASES if c[0] in WITH_ZIPMAP]


@pytest.mark.parametrize("case,zipmap", PARAMS)
def test_classifier(case, zipmap):
    name, data, factory, rtol, atol = case
    X, y, Xt = _data(data)
    model = _fit(factory(), X, y)
    options = None if zipmap else {id(model): {"zipmap": False}}
    onx = convert(model, X, options=options)
    ours = run_onnxrun(onx, {"X": Xt})
    theirs = run_ort(onx, {"X": Xt})
    assert_same_outputs(ours, theirs, rtol=max(rtol, 1e-5), atol=max(atol, 1e-6))
    expected_label = model.predict(Xt)
    np.testing.assert_array_equal(ours[0], expected_label)
    classes = list(model.classes_)
    proba = zipmap_to_array(ours[1], classes) if zipmap else np.asarray(ours[1])
    np.testing.assert_allclose(proba, model.predict_proba(Xt), rtol=rtol, atol=atol)
