"""NumbaExecutionProvider: compiled CPU kernels (Numba) for the ops NumPy runs slowly.

It sits ahead of the CPU provider the way onnxruntime's XNNPACK and DNNL providers do: its
arrays are NumPy arrays on the host (device ``cpu``, so no copy nodes between the two), and it
claims only the nodes its kernels take (``kernels/numba/``, each kernel's ``supports``
deciding); every other node falls to ``CPUExecutionProvider``.

Numba is optional (``pip install onnxrun[numba]``). ``import onnxrun`` never imports it: the
provider is available when ``import numba`` succeeds, tried once, the first time anyone asks
(``get_available_providers()`` or a session resolving its providers), and kernels compile at
session initialization, only for the signatures the model needs, with compiled code cached on
disk (see ``kernels/numba/_jit.py``).
"""

from __future__ import annotations

import importlib
import threading

from .base import ExecutionProvider, register_provider

NAME = "NumbaExecutionProvider"

_lock = threading.Lock()
_state = {"available": None}


def numba_importable() -> bool:
    """Whether ``import numba`` works here (tried once; any failure means no)."""
    with _lock:
        if _state["available"] is None:
            try:
                importlib.import_module("numba")
                _state["available"] = True
            except Exception:  # noqa: BLE001 - a broken install is as good as none
                _state["available"] = False
        return _state["available"]


@register_provider
class NumbaExecutionProvider(ExecutionProvider):
    """Host arrays; kernels registered with ``provider="NumbaExecutionProvider"``."""

    name = NAME
    device = "cpu"
    in_default = True

    @classmethod
    def is_available(cls) -> bool:
        return numba_importable()
