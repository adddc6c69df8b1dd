"""onnxrun.ray: Predictor on NumPy batches, and predict() on a local Ray cluster."""

import numpy as np
import pytest

import onnxrun
from onnxrun.ray import Predictor, model_bytes, predict

from ..serve.models import scorer


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal((n, 4)).astype(np.float32),
            "idx": rng.integers(0, 5, n).astype(np.int64)}


def _direct(feeds):
    return onnxrun.InferenceSession(scorer()).run(None, feeds)


def test_predictor_on_a_numpy_batch():
    feeds = _data(7)
    out = Predictor(scorer())(dict(feeds, id=np.arange(7)))
    assert sorted(out) == ["cls", "y"]
    want = _direct(feeds)
    np.testing.assert_array_equal(out["y"], want[0])
    np.testing.assert_array_equal(out["cls"], want[1])


def test_predictor_column_maps_casts_and_kept_columns():
    feeds = _data(5)
    batch = {"features": feeds["x"].astype(np.float64), "row": feeds["idx"].astype(np.int32),
             "id": np.arange(5)}
    p = Predictor(scorer(), input_columns={"x": "features", "idx": "row"},
                  output_columns={"cls": "label"}, outputs=["cls"], keep_columns=["id"])
    out = p(batch)
    assert sorted(out) == ["id", "label"]
    np.testing.assert_array_equal(out["label"], _direct(feeds)[1])
    np.testing.assert_array_equal(out["id"], np.arange(5))
    rows = np.empty(5, dtype=object)  # a column of arrays, as Ray gives variable-shape tensors
    for i, r in enumerate(feeds["x"]):
        rows[i] = r
    np.testing.assert_array_equal(p(dict(batch, features=rows))["label"], _direct(feeds)[1])


def test_predictor_errors():
    with pytest.raises(onnxrun.InvalidArgument, match="not inputs of the model"):
        Predictor(scorer(), input_columns={"nope": "x"})
    p = Predictor(scorer())
    with pytest.raises(onnxrun.InvalidArgument, match="no column 'idx'"):
        p({"x": np.zeros((2, 4), np.float32)})
    with pytest.raises(onnxrun.InvalidArgument, match="does not cast safely"):
        p({"x": np.zeros((2, 4), np.float32), "idx": np.zeros(2, np.float64)})
    with pytest.raises(onnxrun.InvalidArgument, match="different shapes"):
        p({"x": np.array([np.zeros(4), np.zeros(3)], dtype=object), "idx": np.zeros(2, np.int64)})


def test_model_bytes(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(scorer())
    assert model_bytes(str(path)) == scorer() == model_bytes(scorer())
    import onnx
    assert onnx.load_from_string(model_bytes(onnx.load(str(path)))) == onnx.load(str(path))
    with pytest.raises(TypeError):
        model_bytes(3)


def test_predict_puts_the_model_once_and_uses_an_actor_pool():
    ray = pytest.importorskip("ray")
    import ray.data

    class FakeDataset:
        def map_batches(self, fn, **kwargs):
            self.fn, self.kwargs = fn, kwargs
            return self

    calls = []
    real_put = ray.put
    ray.put = lambda value: calls.append(value) or "ref"
    try:
        ds = predict(FakeDataset(), scorer(), concurrency=3, batch_size=8)
    finally:
        ray.put = real_put
    assert calls == [scorer()]
    assert ds.fn is Predictor and ds.kwargs["fn_constructor_kwargs"]["model"] == "ref"
    assert ds.kwargs["batch_size"] == 8 and ds.kwargs["batch_format"] == "numpy"
    assert isinstance(ds.kwargs["compute"], ray.data.ActorPoolStrategy)


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    import ray.data
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=200 << 20, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield ray
    ray.shutdown()


def test_predict_on_a_local_ray_cluster(local_ray):
    ray = local_ray
    n = 300
    feeds = _data(n, seed=1)
    ds = ray.data.from_items([{"id": i, "x": feeds["x"][i], "idx": feeds["idx"][i]}
                              for i in range(n)])
    rows = sorted(predict(ds, scorer(), concurrency=2, batch_size=32,
                          keep_columns=["id"]).take_all(), key=lambda r: r["id"])
    assert [r["id"] for r in rows] == list(range(n))
    y, cls = _direct(feeds)
    np.testing.assert_allclose(np.stack([r["y"] for r in rows]), y, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal([r["cls"] for r in rows], cls)

    # by hand, as the README shows it: map_batches with the class and a path
    out = ds.map_batches(Predictor, fn_constructor_kwargs={"model": scorer(),
                                                           "keep_columns": ["id"]},
                         compute=ray.data.ActorPoolStrategy(size=1), batch_size=64)
    rows = sorted(out.take_all(), key=lambda r: r["id"])
    np.testing.assert_array_equal([r["cls"] for r in rows], cls)
