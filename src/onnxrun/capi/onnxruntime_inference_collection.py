"""``onnxruntime.capi.onnxruntime_inference_collection``: the Python-layer classes, and
``check_and_normalize_provider_args``."""

from __future__ import annotations

import collections.abc
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..session import InferenceSession  # noqa: F401
from ..session.compile_api import ModelCompiler  # noqa: F401
from ..session.devices import OrtDevice  # noqa: F401
from ..session.iobinding import IOBinding  # noqa: F401
from ..session.lora import AdapterFormat  # noqa: F401
from ..session.ortvalue import OrtValue  # noqa: F401
from ..session.sparse import SparseTensor  # noqa: F401


def check_and_normalize_provider_args(providers: Optional[Sequence], provider_options: Optional[Sequence],
                                      available_provider_names: Sequence[str]
                                      ) -> Tuple[List[str], List[Dict[str, str]]]:
    """Validate ``providers`` (names or ``(name, options)`` tuples) and ``provider_options``
    and return (names, options dicts with str keys and values). A name not available gives a
    warning, a repeated name a warning and is dropped; malformed arguments raise ValueError."""
    if providers is None:
        return [], []
    if not isinstance(providers, collections.abc.Sequence):
        raise ValueError("'providers' should be a sequence.")
    entries: List[Tuple[Any, Any]] = []
    if provider_options is not None:
        if not isinstance(provider_options, collections.abc.Sequence):
            raise ValueError("'provider_options' should be a sequence.")
        if len(providers) != len(provider_options):
            raise ValueError("'providers' and 'provider_options' should be the same length if "
                             "both are given.")
        if not all(isinstance(p, str) for p in providers):
            raise ValueError("Only string values for 'providers' are supported if "
                             "'provider_options' is given.")
        if not all(isinstance(o, dict) for o in provider_options):
            raise ValueError("'provider_options' values must be dicts.")
        entries = list(zip(providers, provider_options))
    else:
        for p in providers:
            if isinstance(p, str):
                entries.append((p, {}))
            elif isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) and \
                    isinstance(p[1], dict):
                entries.append(p)
            else:
                raise ValueError("'providers' values must be either strings or (string, dict) "
                                 "tuples.")
    normalized: Dict[str, Dict[str, str]] = {}
    for name, options in entries:
        if name not in available_provider_names:
            warnings.warn(f"Specified provider '{name}' is not in available provider names."
                          f"Available providers: '{', '.join(available_provider_names)}'",
                          stacklevel=2)
        if name in normalized:
            warnings.warn(f"Duplicate provider '{name}' encountered, ignoring.", stacklevel=2)
            continue
        normalized[name] = {str(k): str(v) for k, v in options.items()}
    return list(normalized), list(normalized.values())
