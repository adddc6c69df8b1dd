"""NumbaExecutionProvider: compiled CPU kernels (Numba) for the ops NumPy runs slowly.

It sits ahead of the CPU provider the way onnxruntime's XNNPACK and DNNL providers do: its
arrays are NumPy arrays on the host (device ``cpu``, so no copy nodes between the two), and it
claims only the nodes its kernels take (``kernels/numba/``, each kernel's ``supports``
deciding); every other node falls to ``CPUExecutionProvider``.

Numba is optional (``pip install onnxrun[numba]``). ``import onnxrun`` never imports it: the
provider is available when Numba is installed (found, not imported), and Numba is imported the
first time a session creates one of its kernels, so a model with no node for it never pays
Numba's import (about 55 MB of memory here). Kernels compile at session initialization, only
for the signatures the model needs, with compiled code cached on disk (see
``kernels/numba/_jit.py``). A broken install shows up when the first kernel is created.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading

from .base import ExecutionProvider, register_provider

NAME = "NumbaExecutionProvider"

_lock = threading.Lock()
_state = {"available": None, "imports": None}


def numba_importable() -> bool:
    """Whether Numba is installed here (looked up once, without importing it)."""
    with _lock:
        if _state["available"] is None:
            try:
                _state["available"] = importlib.util.find_spec("numba") is not None
            except (ImportError, ValueError):
                _state["available"] = False
        return _state["available"]


def numba_imports() -> bool:
    """Whether ``import numba`` works (tried once, when a first node would be claimed; a broken
    install then leaves every node to the CPU provider, with one warning)."""
    with _lock:
        if _state["imports"] is None:
            try:
                importlib.import_module("numba")
                _state["imports"] = True
            except Exception as exc:  # noqa: BLE001 - a broken install is as good as none
                import warnings
                warnings.warn(f"NumbaExecutionProvider: numba is installed but does not import "
                              f"({type(exc).__name__}: {exc}); its nodes run on the CPU "
                              "provider", stacklevel=2)
                _state["imports"] = False
        return _state["imports"]


@register_provider
class NumbaExecutionProvider(ExecutionProvider):
    """Host arrays; kernels registered with ``provider="NumbaExecutionProvider"``."""

    name = NAME
    device = "cpu"
    in_default = True

    @classmethod
    def is_available(cls) -> bool:
        return numba_importable()

    def get_capability(self, node, info_factory):
        kdef = super().get_capability(node, info_factory)
        return kdef if kdef is not None and numba_imports() else None
