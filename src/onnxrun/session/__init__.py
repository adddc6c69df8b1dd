"""Stage 8: the public session API (InferenceSession, NodeArg, ModelMetadata)."""

from .inference_session import InferenceSession  # noqa: F401
from .node_arg import ModelMetadata, NodeArg  # noqa: F401
