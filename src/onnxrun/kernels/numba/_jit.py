"""Compiling the Numba kernels: one set of njit options, an on-disk cache in a user cache
folder, and compilation of exactly the signatures a session asks for.

Kernel sources are factories: ``maker(*key)`` returns a plain Python function whose closure
holds compile-time constants (kernel size, strides, activation, ...). ``compiled(maker, key,
sig)`` wraps it with ``numba.njit``, compiles ``sig`` (or loads it from the cache) once per
process, and then forbids further compilation, so a call with other types is an error rather
than a silent compile in the middle of a run.

The cache lives in ``$ONNXRUN_NUMBA_CACHE``, else ``$XDG_CACHE_HOME/onnxrun/numba``, else
``~/.cache/onnxrun/numba`` (site-packages may be read-only). Numba keys each entry by the
signature, the CPU, the function's bytecode and its closure constants, and drops a file's
entries when its source changes. Where the folder cannot be written, kernels compile in memory.
"""

from __future__ import annotations

import os
import threading
import zlib
from typing import Callable, Dict, Tuple

import numba
import numpy as np
from numba.core import caching

CACHE_ENV = "ONNXRUN_NUMBA_CACHE"

#: options of every kernel: callable without the GIL, FMA contraction allowed, NumPy's error
#: model (no ZeroDivisionError checks in loops), no bounds checks
OPTIONS = dict(nogil=True, fastmath={"contract"}, error_model="numpy", boundscheck=False)


def cache_dir() -> str:
    """Where compiled kernels are cached."""
    path = os.environ.get(CACHE_ENV)
    if path:
        return path
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "onnxrun", "numba")


class _Locator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
    def __init__(self, py_func, py_file) -> None:
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = os.path.join(cache_dir(), self.get_suitable_cache_subpath(py_file))

    def get_cache_path(self) -> str:
        return self._cache_path


class _CacheImpl(caching.CompileResultCacheImpl):
    _locator_classes = [_Locator]


class _FunctionCache(caching.FunctionCache):
    _impl_class = _CacheImpl


#: passed to every kernel factory as its last argument, for the kernel to keep in its closure:
#: Numba keys a cache entry by the function's own source file and closure, not by the code it
#: calls (``activate`` below), so a change to this file must reach the key this way
def _source_tag() -> int:
    try:
        with open(__file__, "rb") as f:
            return zlib.crc32(f.read())
    except OSError:  # no source file (a zipped install): the package version stands in
        from ...version import __version__
        return zlib.crc32(__version__.encode())


DEPENDENCY_TAG = _source_tag()

_lock = threading.Lock()
_made: Dict[Tuple, object] = {}
#: compilations and cache loads in this process (what a test of the cache looks at)
stats = {"compiled": 0, "loaded": 0}


def compiled(maker: Callable, key: Tuple, sig):
    """``numba.njit(maker(*key, DEPENDENCY_TAG))`` compiled for ``sig`` (from the disk cache
    when there)."""
    with _lock:
        disp = _made.get((maker, key, sig))
        if disp is not None:
            return disp
        disp = numba.njit(**OPTIONS)(maker(*key, DEPENDENCY_TAG))
        try:
            disp._cache = _FunctionCache(disp.py_func)
        except Exception:  # noqa: BLE001 - no writable cache folder: compile in memory
            pass
        disp.compile(sig)
        hits = sum(disp.stats.cache_hits.values())
        stats["loaded" if hits else "compiled"] += 1
        disp.disable_compile()
        _made[(maker, key, sig)] = disp
        return disp


def array(dtype, ndim: int, readonly: bool = False, layout: str = "C"):
    """The Numba type of a C-contiguous NumPy array argument; ``readonly`` for inputs (a
    writable array converts to it, so a read-only one such as an initializer passes too)."""
    return numba.types.Array(numba.from_dtype(dtype), ndim, layout, readonly=readonly)


def scalar(dtype):
    return numba.from_dtype(dtype)


#: activation codes of the fused epilogues (FusedConv's ``activation`` attribute)
ACTIVATIONS = {None: 0, "Relu": 1, "Clip": 2, "HardSigmoid": 3, "HardSwish": 4,
               "LeakyRelu": 5, "Sigmoid": 6, "Tanh": 7}


def epilogue_constants(dtype, params=()):
    """The constants array ``activate`` reads, in the output's dtype: alpha, beta (the
    activation's parameters), 0, 1, 1/6, 1/2 (typed, so float32 math stays float32)."""
    p = list(params) + [0.0] * (2 - len(params))
    return np.array([p[0], p[1], 0.0, 1.0, 1.0 / 6.0, 0.5], dtype=dtype)


@numba.njit(**OPTIONS)
def activate(v, act, k):
    """``v`` through activation ``act`` (a compile-time constant where it is inlined, so the
    branches fold away) with constants ``k`` from :func:`epilogue_constants`; the semantics of
    the NumPy epilogues (fused/_activation.py), NaN staying NaN."""
    if act == 1:
        return k[2] if v < k[2] else v
    if act == 2:
        v = k[0] if v < k[0] else v
        return k[1] if v > k[1] else v
    if act == 3:
        g = v * k[0] + k[1]
        g = k[2] if g < k[2] else g
        return k[3] if g > k[3] else g
    if act == 4:
        g = v * k[4] + k[5]
        g = k[2] if g < k[2] else g
        g = k[3] if g > k[3] else g
        return v * g
    if act == 5:
        return v * k[0] if v < k[2] else v
    if act == 6:
        return k[3] / (k[3] + np.exp(-v))
    if act == 7:
        return np.tanh(v)
    return v
