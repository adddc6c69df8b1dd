"""The execution provider abstraction.

A provider names itself, says which device its arrays live on, claims the nodes it has kernels
for (``get_capability``), and moves arrays to and from the host. The partitioner inserts copy
nodes wherever a value crosses devices, so a GPU provider (arrays from CuPy or PyTorch) plugs in
by subclassing this and registering its kernels under its own name; the executor never changes.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Type

from ..kernels.registry import REGISTRY, KernelDef, KernelRegistry

_PROVIDERS: Dict[str, Type["ExecutionProvider"]] = {}


class ExecutionProvider:
    """Base class. Subclasses set ``name`` and ``device`` and may override the hooks."""

    name = "ExecutionProvider"
    device = "cpu"
    #: used by sessions created with ``providers=None`` (when available)
    in_default = False

    def __init__(self, options: Optional[Dict[str, Any]] = None,
                 registry: Optional[KernelRegistry] = None) -> None:
        self.options = {str(k): str(v) for k, v in (options or {}).items()}
        self.registry = registry or REGISTRY

    @classmethod
    def is_available(cls) -> bool:
        return True

    def get_capability(self, node, info_factory) -> Optional[KernelDef]:
        """The kernel this provider would run ``node`` with, or ``None``."""
        kdef = self.registry.lookup(node.domain, node.op_type, node.since_version or 1, self.name)
        if kdef is None:
            return None
        if kdef.supports is not None and not kdef.supports(info_factory(node)):
            return None
        return kdef

    # ---- device transfers (host = NumPy) --------------------------------------------------
    def to_host(self, value):
        """Copy a value of this provider's device to a NumPy value."""
        return value

    def from_host(self, value):
        """Copy a NumPy value onto this provider's device."""
        return value

    def __repr__(self) -> str:
        return f"{self.name}({self.options})"


def register_provider(cls: Type[ExecutionProvider]) -> Type[ExecutionProvider]:
    """Make a provider class selectable by name (usable as a decorator)."""
    _PROVIDERS[cls.name] = cls
    return cls


def get_provider_class(name: str) -> Optional[Type[ExecutionProvider]]:
    return _PROVIDERS.get(name)


def available_providers() -> List[str]:
    """Registered, available providers; CPU last, as onnxruntime lists them."""
    names = [n for n, c in _PROVIDERS.items() if c.is_available() and n != "CPUExecutionProvider"]
    return names + ["CPUExecutionProvider"]


def default_providers() -> List[str]:
    """The providers a session uses when none are given: the available ones that declare
    ``in_default`` (the host providers shipped with onnxrun), CPU last."""
    return [n for n in available_providers() if _PROVIDERS[n].in_default]
