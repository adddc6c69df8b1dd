"""``onnxruntime.backend``: the ONNX backend API (``onnx.backend.base``) over onnxrun:
``prepare(model)`` -> a rep whose ``run(inputs)`` returns the outputs; ``run_model``;
``supports_device``."""

from .backend import OnnxRunBackend, OnnxRunBackendRep  # noqa: F401

is_compatible = OnnxRunBackend.is_compatible
prepare = OnnxRunBackend.prepare
run = OnnxRunBackend.run_model
run_model = OnnxRunBackend.run_model
supports_device = OnnxRunBackend.supports_device
