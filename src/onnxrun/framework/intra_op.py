"""The intra-op thread pool: how one kernel uses several cores.

onnxruntime splits an op's work into many small pieces that its pool threads *and the calling
thread* take from a shared counter, so a pool thread that the OS does not schedule (other work
on the machine) delays nothing: the caller takes its pieces. BLAS libraries split a GEMM into
one fixed share per thread instead, and the caller waits for every share; on a busy machine
that wait is a scheduler time slice per GEMM (measured here: 10 float32 GEMMs 256x256x256 took
137 ms with OpenBLAS on 2 threads and one other busy process, 12.7 ms on one thread).

So onnxrun runs BLAS on one thread per calling thread (``framework/threads.py``) and gets its
parallelism from this pool, the onnxruntime way:

* ``parallel_for(n, fn)`` runs ``fn(0) ... fn(n-1)``; the caller takes pieces too and only waits
  for pieces a worker has already started, never for pieces nobody picked up;
* ``threads - 1`` workers (``intra_op_num_threads``; default: the physical cores this process may
  run on, as in onnxruntime), started lazily on first use, blocked (not spinning) while idle;
* a call from inside a piece, from a pool worker, or while the pool is busy with another
  caller's job (runs from several threads, ORT_PARALLEL) runs serially in the caller;
* pieces must be independent; their results must not depend on which thread runs them (kernels
  split along rows of an output, so the sums each element sees are the same at any thread count).

NumPy releases the GIL in BLAS calls and large ufunc loops, so pieces really run in parallel.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from typing import Callable, List, Optional

_local = threading.local()  # .inside: this thread is running a piece (or is a worker)


class _Job:
    __slots__ = ("fn", "n", "next", "left", "done", "error")

    def __init__(self, fn: Callable[[int], None], n: int) -> None:
        self.fn = fn
        self.n = n
        self.next = itertools.count()  # next() is atomic in CPython: pieces are handed out once
        self.left = n
        self.done = threading.Event()
        self.error: Optional[BaseException] = None


class IntraOpPool:
    """``threads`` threads in all, the caller included; see the module docstring."""

    def __init__(self, threads: int) -> None:
        self.threads = max(1, int(threads))
        self._cv = threading.Condition()
        self._job: Optional[_Job] = None
        self._generation = 0
        self._busy = threading.Lock()  # held by the one caller whose job is published
        self._workers: List[threading.Thread] = []
        self._closed = False

    # ---- workers ---------------------------------------------------------------------------
    def _start(self) -> None:
        ref = weakref.ref(self)
        for i in range(self.threads - 1):
            t = threading.Thread(target=_worker_loop, args=(ref, self._cv), daemon=True,
                                 name=f"onnxrun-intra-op-{i}")
            t.start()
            self._workers.append(t)

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    # ---- the one call ----------------------------------------------------------------------
    def parallel_for(self, n: int, fn: Callable[[int], None]) -> None:
        """Run ``fn(i)`` for ``i in range(n)`` on the pool; returns when all have run. The
        first exception raised by a piece is re-raised here (other pieces still finish)."""
        if n <= 0:
            return
        if n == 1 or self.threads == 1 or getattr(_local, "inside", False) or \
                not self._busy.acquire(blocking=False):
            for i in range(n):
                fn(i)
            return
        try:
            if not self._workers:
                self._start()
            job = _Job(fn, n)
            with self._cv:
                self._job = job
                self._generation += 1
                self._cv.notify_all()
            _run_pieces(job)
            job.done.wait()
            with self._cv:
                self._job = None
        finally:
            self._busy.release()
        if job.error is not None:
            raise job.error


def _run_pieces(job: _Job) -> None:
    """Take pieces of ``job`` until none are left to take."""
    _local.inside = True
    try:
        while True:
            i = next(job.next)
            if i >= job.n:
                return
            try:
                job.fn(i)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                if job.error is None:
                    job.error = exc
            finally:
                # one thread at a time reaches zero: the decrement runs under the GIL and
                # ``left`` is read and written by this line only
                with _LEFT_LOCK:
                    job.left -= 1
                    last = job.left == 0
                if last:
                    job.done.set()
    finally:
        _local.inside = False


_LEFT_LOCK = threading.Lock()


def _worker_loop(ref, cv: threading.Condition) -> None:
    from .threads import set_local
    set_local(1)  # pieces are the parallelism: BLAS stays on this thread
    _local.inside = True
    seen = 0
    while True:
        with cv:
            while True:
                pool = ref()
                if pool is None or pool._closed:
                    return
                if pool._generation != seen and pool._job is not None:
                    seen = pool._generation
                    job = pool._job
                    break
                del pool
                cv.wait()
        del pool
        _run_pieces(job)
        _local.inside = True
        del job


def physical_cores() -> int:
    """Physical cores this process may run on (Linux: distinct (package, core) pairs of the
    CPUs in its affinity mask); the logical CPU count where that cannot be read."""
    import os
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
    cores = set()
    for c in cpus:
        base = f"/sys/devices/system/cpu/cpu{c}/topology/"
        try:
            with open(base + "physical_package_id") as f:
                pkg = f.read().strip()
            with open(base + "core_id") as f:
                core = f.read().strip()
        except OSError:
            return len(cpus) or 1
        cores.add((pkg, core))
    return len(cores) or 1
