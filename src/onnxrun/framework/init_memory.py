"""Allocation policy while a session initializes: no transparent-huge-page advice.

NumPy asks Linux for transparent huge pages (``madvise(MADV_HUGEPAGE)``) on every allocation of
4 MiB or more. Where the kernel's THP ``defrag`` setting is ``madvise`` (a common default, and
this project's benchmark machine), each such allocation may stall in direct memory compaction
until a 2 MiB page is free. Session initialization allocates every weight once (constant
folding, transformed and packed filters), and there the stalls dominated: VGG-19's init took
0.28-1.97 s with the advice and 0.45-0.85 s without, over repeated sessions in one process,
while its run latency was the same either way (396-437 ms against 399-404 ms). So the advice
is switched off while sessions initialize and restored afterwards; a reference count keeps
concurrent initializations from restoring it early. Runs (activations) keep NumPy's setting.

The switch is NumPy's private ``_set_madvise_hugepage``; where it is missing this is a no-op.
It only changes a performance hint, never results.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

_lock = threading.Lock()
_depth = 0
_saved = None


def _switch():
    core = getattr(np, "_core", None) or getattr(np, "core", None)
    multiarray = getattr(core, "multiarray", None)
    return getattr(multiarray, "_set_madvise_hugepage", None)


@contextlib.contextmanager
def no_huge_page_advice():
    """Within the block (and any concurrent one), NumPy gives no huge-page advice."""
    global _depth, _saved
    switch = _switch()
    if switch is None:
        yield
        return
    with _lock:
        if _depth == 0:
            _saved = switch(False)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                switch(bool(_saved))
