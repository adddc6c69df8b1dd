"""Stage 1: model loading (path, bytes or ModelProto) and safe tensor decoding."""

from .model_loader import load_model  # noqa: F401
from .tensors import TensorDecoder  # noqa: F401
