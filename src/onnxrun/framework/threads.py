"""intra_op_num_threads: the BLAS thread count, set for the calling thread only.

NumPy's bundled OpenBLAS exports ``openblas_set_num_threads_local``, which changes the thread
count of the calling thread and returns the previous one; a run sets it on entry and restores it
on exit, so sessions with different settings can run side by side. Where no such BLAS is found
the option cannot be honoured and ``available()`` is False.
"""

from __future__ import annotations

import ctypes
import glob
import os
from typing import Optional

import numpy as np

_fn = None
_searched = False


def _find():
    global _fn, _searched
    if _searched:
        return _fn
    _searched = True
    root = os.path.dirname(os.path.dirname(np.__file__))
    candidates = glob.glob(os.path.join(root, "numpy.libs", "*openblas*")) + glob.glob(
        os.path.join(os.path.dirname(np.__file__), ".libs", "*openblas*"))
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
            fn = lib.openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        fn.argtypes = [ctypes.c_int]
        fn.restype = ctypes.c_int
        _fn = fn
        break
    return _fn


def available() -> bool:
    return _find() is not None


def set_local(n: int) -> Optional[int]:
    """Set this thread's BLAS thread count; returns the previous one (None if unsupported)."""
    fn = _find()
    if fn is None:
        return None
    return int(fn(int(n)))
