"""Batch inference on Ray Data: one onnxrun session per actor, NumPy batches in and out.

    import ray, onnxrun.ray
    ds = ray.data.from_numpy(x).rename_columns({"data": "input"})
    out = onnxrun.ray.predict(ds, "model.onnx", concurrency=2, batch_size=64)

or, by hand, ``ds.map_batches(onnxrun.ray.Predictor, fn_constructor_kwargs={"model": path},
compute=ray.data.ActorPoolStrategy(size=2), batch_size=64)``. ``Predictor`` itself needs only
NumPy; ``predict`` needs the ``ray`` extra (``pip install 'onnxrun[ray]'``), imported only
when it is called.
"""

from __future__ import annotations

from .predictor import Predictor, model_bytes, predict  # noqa: F401
