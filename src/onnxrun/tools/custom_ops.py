"""Custom operators: Python kernels for ops of any domain.

    import numpy as np, onnxrun

    @onnxrun.custom_op("com.example", "AddOne")
    def add_one(x, *, amount=1.0):        # inputs positional, node attributes as keywords
        return x + np.float32(amount)

    @onnxrun.custom_op("com.example", "Pair", fresh=True)
    class Pair(onnxrun.kernels.OpKernel):  # a class: built once per node, attributes parsed once
        def __init__(self, info):
            super().__init__(info)
            self.k = info.attr("k", 2)
        def __call__(self, x):
            return x * self.k, x + self.k    # several outputs: a tuple

A model whose nodes use ``domain="com.example"`` (and import that opset) then loads and runs;
the op shows up in tracing and profiling like any other.
"""

from __future__ import annotations

from typing import Callable, Dict, Optional

from ..kernels.registry import CPU, REGISTRY, kernel

__all__ = ["custom_op", "remove_custom_op"]


def custom_op(domain: str, op_type: str, since: int = 1, until: Optional[int] = None,
              fresh: bool = False, provider: str = CPU, supports: Optional[Callable] = None,
              may_alias: Optional[Dict[int, int]] = None):
    """Decorator registering a function or an :class:`onnxrun.kernels.OpKernel` subclass as
    the kernel of ``domain::op_type`` for opset versions ``since..until`` of that domain.

    A thin wrapper over :func:`onnxrun.kernels.registry.kernel` (same calling convention: see
    docs/kernels.md). ``fresh=True`` promises every output is a newly allocated array.
    Registering the same op twice over overlapping versions raises
    ``KernelRegistrationError``; :func:`remove_custom_op` undoes a registration.
    """
    if not isinstance(domain, str) or not isinstance(op_type, str) or not op_type:
        raise TypeError("custom_op(domain, op_type): both must be strings")
    return kernel(op_type, since=since, until=until, domain=domain, provider=provider,
                  supports=supports, fresh=fresh, may_alias=may_alias)


def remove_custom_op(domain: str, op_type: str, provider: str = CPU) -> None:
    """Forget every kernel registered for ``domain::op_type`` on ``provider``."""
    REGISTRY.unregister("" if domain == "ai.onnx" else domain, op_type, provider)
