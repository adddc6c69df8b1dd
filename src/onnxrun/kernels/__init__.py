"""Stage 3: kernels. Every module below this package registers its kernels on import, so adding
a kernel is adding a file; :func:`load_all` imports them all once."""

from __future__ import annotations

import importlib
import pkgutil

from .base import OpKernel, OpKernelInfo  # noqa: F401
from .registry import REGISTRY, KernelDef, KernelRegistry, kernel  # noqa: F401

_loaded = False


def load_all() -> None:
    """Import every kernel module (idempotent)."""
    global _loaded
    if _loaded:
        return
    for mod in pkgutil.walk_packages(__path__, prefix=__name__ + "."):
        if mod.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        importlib.import_module(mod.name)
    _loaded = True
