"""Stage 2: execution providers. CPU is always present and always the last fallback."""

from .base import (ExecutionProvider, available_providers, default_providers,  # noqa: F401
                   get_provider_class, register_provider)
from .cpu import CPUExecutionProvider  # noqa: F401
from .numba_ep import NumbaExecutionProvider  # noqa: F401
from .known import ALL_PROVIDERS  # noqa: F401
