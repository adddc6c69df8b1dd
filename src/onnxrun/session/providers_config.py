"""Turning the ``providers`` / ``provider_options`` arguments into provider objects."""

from __future__ import annotations

import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..providers import ALL_PROVIDERS, available_providers, default_providers, get_provider_class


def resolve_providers(providers: Optional[Sequence], provider_options: Optional[Sequence]) -> List:
    """Provider objects in priority order; unknown or unavailable names are skipped with a
    warning (as onnxruntime does), and CPU is always appended as the final fallback.
    ``providers=None`` means every available default provider (NumbaExecutionProvider when
    numba imports, then CPUExecutionProvider)."""
    entries: List[Tuple[str, Dict[str, Any]]] = []
    if providers is None:
        providers = default_providers()
    if provider_options is not None and len(provider_options) != len(providers):
        raise ValueError("'providers' and 'provider_options' should be the same length if both "
                         "are given.")
    for i, p in enumerate(providers):
        if isinstance(p, tuple):
            if len(p) != 2 or not isinstance(p[0], str) or not isinstance(p[1], dict):
                raise ValueError("Only string or (string, dict) tuple is allowed in the "
                                 f"providers list, got {p!r}")
            name, opts = p
        elif isinstance(p, str):
            name, opts = p, {}
        else:
            raise ValueError(f"Only string or (string, dict) tuple is allowed in the providers "
                             f"list, got {p!r}")
        if provider_options is not None:
            opts = dict(opts, **provider_options[i])
        entries.append((name, opts))
    available = available_providers()
    result = []
    for name, opts in entries:
        if name not in available:
            known = name in ALL_PROVIDERS or get_provider_class(name) is not None
            what = "not available" if known else "not a known provider"
            warnings.warn(f"Specified provider '{name}' is {what}. Available providers: "
                          f"'{', '.join(available)}'", stacklevel=3)
            continue
        if any(p.name == name for p in result):
            continue
        result.append(get_provider_class(name)(opts))
    if not any(p.name == "CPUExecutionProvider" for p in result):
        result.append(get_provider_class("CPUExecutionProvider")({}))
    return result


def check_provider_names(providers: Optional[Sequence]) -> None:
    """onnxruntime's ``set_providers`` refuses a name it does not know with a RuntimeError
    ``Unknown Provider Type: <name>`` (names it knows but cannot use give a warning)."""
    for p in providers or []:
        name = p[0] if isinstance(p, tuple) and p else p
        if isinstance(name, str) and name not in ALL_PROVIDERS and \
                get_provider_class(name) is None:
            raise RuntimeError(f"Unknown Provider Type: {name}")
