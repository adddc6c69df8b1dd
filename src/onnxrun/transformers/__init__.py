"""Helpers of ``onnxruntime.transformers`` that client libraries import (Hugging Face
optimum imports ``io_binding_helper.TypeHelper``)."""
