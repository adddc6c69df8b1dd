"""``Predictor`` (the callable class Ray Data runs on each actor) and ``predict``."""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, Mapping, Optional, Sequence

import numpy as np

from ..errors import InvalidArgument
from ..ir.types import ELEM_TYPE_NAMES, dtype_of

_ELEM_BY_NAME = {name: elem for elem, name in ELEM_TYPE_NAMES.items()}


def _import_ray():
    try:
        import ray  # the Ray package (absolute import), not this module
        import ray.data  # noqa: F401
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError("onnxrun.ray.predict needs Ray Data: "
                                  "pip install 'onnxrun[ray]'", name=exc.name) from exc
    return ray


def _is_object_ref(value: Any) -> bool:
    ray = sys.modules.get("ray")
    return ray is not None and isinstance(value, ray.ObjectRef)


def _input_dtype(arg) -> Optional[np.dtype]:
    t = arg.type
    if not t.startswith("tensor("):
        return None
    return dtype_of(_ELEM_BY_NAME[t[len("tensor("):-1]])


class Predictor:
    """Runs a model on NumPy batches (``{column: array}``) with one session per instance.

    ``model``: a path, bytes, ``onnx.ModelProto`` or a Ray ``ObjectRef`` to model bytes.
    ``input_columns`` maps model inputs to batch columns and ``output_columns`` model outputs
    to result columns (default: the same names); ``outputs`` picks outputs (default all);
    ``keep_columns`` are copied from the batch into the result (e.g. an id). Columns are cast
    to the input's dtype when NumPy's ``same_kind`` rule allows (float64 -> float32) and
    object columns of equal-shape arrays are stacked; anything else is an InvalidArgument.
    """

    def __init__(self, model, *, input_columns: Optional[Mapping[str, str]] = None,
                 output_columns: Optional[Mapping[str, str]] = None,
                 outputs: Optional[Sequence[str]] = None, keep_columns: Sequence[str] = (),
                 sess_options=None, providers=None) -> None:
        from ..session import InferenceSession
        if _is_object_ref(model):
            model = sys.modules["ray"].get(model)
        self.session = InferenceSession(model, sess_options, providers)
        self.inputs = [(a.name, (input_columns or {}).get(a.name, a.name), _input_dtype(a))
                       for a in self.session.get_inputs()]
        names = {a.name for a in self.session.get_inputs()}
        unknown = set(input_columns or {}) - names
        if unknown:
            raise InvalidArgument(f"input_columns names {sorted(unknown)}, which are not inputs "
                                  f"of the model (inputs: {sorted(names)})")
        self.outputs = list(outputs) if outputs else [o.name for o in self.session.get_outputs()]
        self.output_columns = dict(output_columns or {})
        self.keep_columns = list(keep_columns)

    def __call__(self, batch: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        feeds = {name: self._column(batch, name, column, dtype)
                 for name, column, dtype in self.inputs}
        rows = {len(v) for v in feeds.values() if getattr(v, "ndim", 0)}
        values = self.session.run(self.outputs, feeds)
        result = {}
        for name, value in zip(self.outputs, values):
            if not isinstance(value, np.ndarray) or value.ndim == 0 or (
                    rows and value.shape[0] not in rows):
                raise InvalidArgument(
                    f"output '{name}' has shape {getattr(value, 'shape', None)}: not one row per "
                    f"input row ({sorted(rows)}), so it cannot be a column of the result")
            result[self.output_columns.get(name, name)] = value
        for column in self.keep_columns:
            result[column] = batch[column]
        return result

    @staticmethod
    def _column(batch, name: str, column: str, dtype: Optional[np.dtype]) -> np.ndarray:
        if column not in batch:
            raise InvalidArgument(f"the batch has no column '{column}' for model input '{name}' "
                                  f"(columns: {sorted(batch)})")
        value = np.asarray(batch[column])
        if dtype is None or value.dtype == dtype:
            return value
        if dtype == object:
            return value.astype(object)
        if value.dtype == object:  # variable-shape tensor column: equal shapes stack
            try:
                value = np.array(value.tolist())
            except ValueError:
                raise InvalidArgument(f"column '{column}' holds arrays of different shapes; "
                                      f"model input '{name}' needs one tensor") from None
        if not np.can_cast(value.dtype, dtype, "same_kind"):
            raise InvalidArgument(f"column '{column}' has dtype {value.dtype}, which does not "
                                  f"cast safely to model input '{name}' ({dtype})")
        return value.astype(dtype)


def model_bytes(model) -> bytes:
    """The serialized model (external data inlined) from a path, bytes or ModelProto."""
    if isinstance(model, (bytes, bytearray)):
        return bytes(model)
    if isinstance(model, (str, os.PathLike)):
        import onnx
        proto = onnx.load(os.fspath(model), load_external_data=False)
        if not any(t.data_location == onnx.TensorProto.EXTERNAL
                   for t in proto.graph.initializer):
            with open(model, "rb") as f:
                return f.read()
        model = onnx.load(os.fspath(model))
    if hasattr(model, "SerializeToString"):
        return model.SerializeToString()
    raise TypeError(f"model must be a path, bytes or onnx.ModelProto, not {type(model).__name__}")


def predict(ds, model, *, concurrency: int = 1, batch_size: Optional[int] = None,
            input_columns: Optional[Mapping[str, str]] = None,
            output_columns: Optional[Mapping[str, str]] = None,
            outputs: Optional[Sequence[str]] = None, keep_columns: Sequence[str] = (),
            sess_options=None, **map_batches_kwargs):
    """``ds.map_batches`` with a pool of ``concurrency`` actors, each holding one session of
    ``model``. The model's bytes go into Ray's object store once (``ray.put``); actors get the
    reference. Returns the lazy result Dataset."""
    ray = _import_ray()
    ref = ray.put(model_bytes(model))
    kwargs = {"model": ref, "input_columns": input_columns, "output_columns": output_columns,
              "outputs": outputs, "keep_columns": keep_columns, "sess_options": sess_options}
    return ds.map_batches(Predictor, fn_constructor_kwargs=kwargs,
                          compute=ray.data.ActorPoolStrategy(size=int(concurrency)),
                          batch_size=batch_size, batch_format="numpy", **map_batches_kwargs)
