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
The folder is set through Numba's cache locator classes (``numba.core.caching``, internal API
of the pinned Numba version); should they change, kernels still compile, uncached.
"""

from __future__ import annotations

import os
import threading
import zlib
from typing import Callable, Dict, Tuple

import numba
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


try:
    class _Locator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
        def __init__(self, py_func, py_file) -> None:
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            self._cache_path = os.path.join(cache_dir(),
                                            self.get_suitable_cache_subpath(py_file))

        def get_cache_path(self) -> str:
            return self._cache_path

    class _CacheImpl(caching.CompileResultCacheImpl):
        _locator_classes = [_Locator]

    class _FunctionCache(caching.FunctionCache):
        _impl_class = _CacheImpl
except AttributeError:  # another Numba's internals: no disk cache
    _FunctionCache = None


def _source_tag() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        data = b"".join(open(os.path.join(here, f), "rb").read()
                        for f in ("_jit.py", "_common.py"))
    except OSError:  # no source files (a zipped install): the package version stands in
        from ...version import __version__
        data = __version__.encode()
    return zlib.crc32(data)


#: passed to every kernel factory as its last argument, for the kernel to keep in its closure:
#: Numba keys a cache entry by the function's own source file and closure, not by the code it
#: calls (the helpers of _common.py), so a change there must reach the key this way
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
            if _FunctionCache is not None:
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
