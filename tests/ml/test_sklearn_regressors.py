"""scikit-learn regressors and transformers converted with skl2onnx: onnxrun must match
scikit-learn's predictions within tolerance and onnxruntime's outputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("skl2onnx")

from sklearn import datasets  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.ensemble import (ExtraTreesRegressor, GradientBoostingRegressor,  # noqa: E402
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge  # noqa: E402
from sklearn.neighbors import KNeighborsRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import (MinMaxScaler, Normalizer, OneHotEncoder,  # noqa: E402
                                   StandardScaler)
from sklearn.svm import SVR  # noqa: E402
from sklearn.tree import DecisionTreeRegressor  # noqa: E402

from ._helpers import assert_same_outputs, convert, run_onnxrun, run_ort  # noqa: E402


def _diabetes():
    X, y = datasets.load_diabetes(return_X_y=True)
    X = X.astype(np.float32)
    return X[:300], y[:300], X[300:]


# (id, estimator factory, rtol vs scikit-learn, atol vs scikit-learn)
# Models run in float32: values agree with scikit-learn (float64) to ~1e-5 relative for trees
# (float32 leaf values summed in float32) and to 1e-4 for the float32 matmul/kernel models.
CASES = [
    ("linreg", lambda: LinearRegression(), 1e-4, 1e-3),
    ("ridge-pca", lambda: make_pipeline(StandardScaler(), PCA(n_components=5), Ridge(alpha=1.0)),
     1e-4, 1e-3),
    ("tree", lambda: DecisionTreeRegressor(max_depth=6, random_state=0), 1e-5, 1e-4),
    ("rf", lambda: RandomForestRegressor(n_estimators=15, max_depth=6, random_state=0),
     1e-5, 1e-4),
    ("et", lambda: ExtraTreesRegressor(n_estimators=15, max_depth=6, random_state=0),
     1e-5, 1e-4),
    ("gb", lambda: GradientBoostingRegressor(n_estimators=30, max_depth=3, random_state=0),
     1e-5, 1e-3),
    ("svr-rbf", lambda: make_pipeline(StandardScaler(), SVR(C=50.0)), 1e-4, 1e-3),
    ("svr-linear", lambda: make_pipeline(MinMaxScaler(), SVR(kernel="linear", C=10.0)),
     1e-4, 1e-3),
    ("knn", lambda: KNeighborsRegressor(n_neighbors=4), 1e-5, 1e-4),
    ("normalizer-ridge", lambda: make_pipeline(Normalizer(), Ridge(alpha=0.1)), 1e-4, 1e-3),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_regressor(case):
    name, factory, rtol, atol = case
    X, y, Xt = _diabetes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = factory().fit(X, y)
    onx = convert(model, X)
    ours = run_onnxrun(onx, {"X": Xt})
    theirs = run_ort(onx, {"X": Xt})
    assert_same_outputs(ours, theirs, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(np.asarray(ours[0]).ravel(), model.predict(Xt),
                               rtol=rtol, atol=atol)


@pytest.mark.parametrize("scaler", [StandardScaler, MinMaxScaler, Normalizer],
                         ids=["standard", "minmax", "normalizer"])
def test_transformers(scaler):
    X, _, Xt = _diabetes()
    model = scaler().fit(X)
    onx = convert(model, X)
    ours = run_onnxrun(onx, {"X": Xt})
    theirs = run_ort(onx, {"X": Xt})
    assert_same_outputs(ours, theirs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[0], model.transform(Xt), rtol=1e-5, atol=1e-5)


def _mixed_frame(n, rng):
    """Numeric columns plus two categorical string columns, without pandas."""
    num = rng.standard_normal((n, 3)).astype(np.float32)
    colors = rng.choice(["red", "green", "blue"], size=n)
    sizes = rng.choice(["S", "M", "L", "XL"], size=n)
    cat = np.stack([colors, sizes], axis=1).astype(object)
    y = (num[:, 0] + (colors == "red") - 0.5 * (sizes == "S") > 0.2).astype(np.int64)
    return num, cat, y


@pytest.mark.parametrize("zipmap", [False, True], ids=["nozipmap", "zipmap"])
def test_column_transformer_onehot(zipmap):
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType
    rng = np.random.default_rng(0)
    num, cat, y = _mixed_frame(300, rng)
    X = np.concatenate([num.astype(object), cat], axis=1)
    pre = ColumnTransformer([("num", StandardScaler(), [0, 1, 2]),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), [3, 4])])
    model = make_pipeline(pre, LogisticRegression(max_iter=500)).fit(X, y)
    # two graph inputs, a float block (columns 0-2) and a string block (columns 3-4)
    inputs = [("num", FloatTensorType([None, 3])), ("cat", StringTensorType([None, 2]))]
    onx = _convert_two_inputs(model, inputs, zipmap)
    num_t, cat_t, _ = _mixed_frame(100, np.random.default_rng(1))
    cat_t[0, 0] = "purple"  # unknown category: all zeros
    feeds = {"num": num_t, "cat": cat_t}
    ours = run_onnxrun(onx, feeds)
    theirs = run_ort(onx, feeds)
    assert_same_outputs(ours, theirs, rtol=1e-5, atol=1e-6)
    Xt = np.concatenate([num_t.astype(object), cat_t], axis=1)
    np.testing.assert_array_equal(ours[0], model.predict(Xt))
    proba = ours[1]
    if zipmap:
        proba = np.array([[row[c] for c in model.classes_] for row in proba])
    np.testing.assert_allclose(proba, model.predict_proba(Xt), rtol=1e-4, atol=1e-5)


def _convert_two_inputs(model, inputs, zipmap):
    """Convert a pipeline whose ColumnTransformer takes columns 0-2 from input 'num' and 3-4
    from input 'cat' (skl2onnx maps integer column indices over the concatenated inputs)."""
    from skl2onnx import convert_sklearn
    options = None if zipmap else {id(model.steps[-1][1]): {"zipmap": False}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        onx = convert_sklearn(model, initial_types=inputs, options=options,
                              target_opset={"": 17, "ai.onnx.ml": 3})
    return onx.SerializeToString()


def test_random_forest_string_labels():
    X, y = datasets.load_iris(return_X_y=True)
    X = X.astype(np.float32)
    labels = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    model = RandomForestClassifier(n_estimators=8, max_depth=4, random_state=0).fit(X, labels)
    onx = convert(model, X, options={id(model): {"zipmap": False}})
    ours = run_onnxrun(onx, {"X": X})
    theirs = run_ort(onx, {"X": X})
    assert_same_outputs(ours, theirs)
    np.testing.assert_array_equal(ours[0], model.predict(X))


def test_linear_svc_one_class_svm_and_svc_decision():
    from sklearn.svm import SVC, LinearSVC, OneClassSVM
    X, y = datasets.load_iris(return_X_y=True)
    X = X.astype(np.float32)
    for model in (LinearSVC(random_state=0), SVC(kernel="rbf"),
                  make_pipeline(StandardScaler(), SVC(kernel="sigmoid", gamma=0.1))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
        onx = convert(model, X)
        ours = run_onnxrun(onx, {"X": X})
        assert_same_outputs(ours, run_ort(onx, {"X": X}), rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(ours[0], model.predict(X))
    binary = SVC(kernel="linear").fit(X[:100], y[:100])
    onx = convert(binary, X)
    ours = run_onnxrun(onx, {"X": X[:100]})
    assert_same_outputs(ours, run_ort(onx, {"X": X[:100]}), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(ours[0], binary.predict(X[:100]))
    oc = OneClassSVM(gamma=0.5, nu=0.1).fit(X)
    onx = convert(oc, X)
    ours = run_onnxrun(onx, {"X": X})
    assert_same_outputs(ours, run_ort(onx, {"X": X}), rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(ours[0].ravel(), oc.predict(X))


def test_multi_output_trees():
    X, y, Xt = _diabetes()
    Y = np.stack([y, np.sqrt(y) * X[:, 0]], axis=1)
    for model in (DecisionTreeRegressor(max_depth=5, random_state=0),
                  RandomForestRegressor(n_estimators=8, max_depth=5, random_state=0)):
        model.fit(X, Y)
        onx = convert(model, X)
        ours = run_onnxrun(onx, {"X": Xt})
        assert_same_outputs(ours, run_ort(onx, {"X": Xt}), rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(ours[0], model.predict(Xt), rtol=1e-5, atol=1e-4)


def test_dict_vectorizer_pipeline():
    """scikit-learn's DictVectorizer: a map input through ai.onnx.ml DictVectorizer."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import DictionaryType, FloatTensorType, StringTensorType
    from sklearn.feature_extraction import DictVectorizer
    rows = [{"a": 1.0, "b": 2.0}, {"b": 3.0, "c": -1.0}, {"a": 0.5, "c": 4.0}]
    dv = DictVectorizer(sparse=False).fit(rows)
    onx = convert_sklearn(dv, initial_types=[("X", DictionaryType(StringTensorType([]),
                                                                  FloatTensorType([])))],
                          target_opset={"": 17, "ai.onnx.ml": 3}).SerializeToString()
    for row in rows + [{"a": 2.0, "zz": 5.0}]:
        ours = run_onnxrun(onx, {"X": row})
        assert_same_outputs(ours, run_ort(onx, {"X": row}))
        np.testing.assert_allclose(ours[0], dv.transform([row]))
