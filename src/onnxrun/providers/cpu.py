"""The CPU provider: NumPy arrays on the host; kernels registered under its name."""

from ..kernels.registry import CPU
from .base import ExecutionProvider, register_provider


@register_provider
class CPUExecutionProvider(ExecutionProvider):
    name = CPU
    device = "cpu"
    in_default = True
