"""The ONNX backend (``onnx.backend.base.Backend``) implemented with onnxrun sessions."""

from __future__ import annotations

import os
from typing import Any

import onnx
from onnx.backend.base import Backend, BackendRep

from ..options import RunOptions, SessionOptions
from ..session import InferenceSession


def _set_known(target, kwargs: dict) -> None:
    """Set the attributes of ``target`` named in ``kwargs`` (others are ignored, as onnxruntime's
    backend ignores them)."""
    for key, value in kwargs.items():
        if hasattr(target, key):
            setattr(target, key, value)


class OnnxRunBackendRep(BackendRep):
    """A prepared model: ``rep.run(inputs)``; inputs a dict, a list in graph-input order, or
    one array for a single-input model."""

    def __init__(self, session: InferenceSession) -> None:
        self._session = session

    def run(self, inputs: Any, **kwargs):
        options = RunOptions()
        _set_known(options, kwargs)
        names = [i.name for i in self._session.get_inputs()]
        if isinstance(inputs, dict):
            feeds = inputs
        elif isinstance(inputs, (list, tuple)):
            if len(inputs) != len(names):
                raise RuntimeError(f"Model expects {len(names)} inputs, {len(inputs)} given")
            feeds = dict(zip(names, inputs))
        elif len(names) == 1:
            feeds = {names[0]: inputs}
        else:
            raise RuntimeError(f"Model expects {len(names)} inputs; give a list or a dict")
        return self._session.run(None, feeds, options)


class OnnxRunBackend(Backend):
    """``prepare`` / ``run_model`` / ``supports_device`` for onnxrun (CPU only)."""

    @classmethod
    def is_compatible(cls, model, device: str = None, **kwargs) -> bool:
        return cls.supports_device(device or "CPU")

    @classmethod
    def supports_device(cls, device: str) -> bool:
        return str(device).upper().split(":")[0] == "CPU"

    @classmethod
    def prepare(cls, model, device: str = None, **kwargs) -> OnnxRunBackendRep:
        if device is not None and not cls.supports_device(device):
            raise RuntimeError(f"Incompatible device: expected 'CPU', got '{device}'")
        if isinstance(model, OnnxRunBackendRep):
            return model
        if isinstance(model, InferenceSession):
            return OnnxRunBackendRep(model)
        if not isinstance(model, (str, bytes, os.PathLike, onnx.ModelProto)):
            raise TypeError(f"Unexpected type {type(model)} for model")
        options = SessionOptions()
        _set_known(options, kwargs)
        return OnnxRunBackendRep(InferenceSession(model, sess_options=options,
                                                  providers=kwargs.get("providers")))

    @classmethod
    def run_model(cls, model, inputs, device: str = None, **kwargs):
        return cls.prepare(model, device, **kwargs).run(inputs, **kwargs)

    @classmethod
    def run_node(cls, node, inputs, device=None, outputs_info=None, **kwargs):
        raise NotImplementedError("run_node is not supported: build a one-node model and use "
                                  "run_model")
