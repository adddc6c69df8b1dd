"""Stage 2: execution providers. CPU is always present and always the last fallback."""

from .base import ExecutionProvider, available_providers, get_provider_class, register_provider  # noqa: F401
from .cpu import CPUExecutionProvider  # noqa: F401
from .known import ALL_PROVIDERS  # noqa: F401
