"""IntraOpPool: the per-session intra-op thread pool (``SessionOptions.intra_op_num_threads``).

A kernel splits its work with ``info.intra_op.parallel_for(n, fn)``: ``fn(begin, end)`` is
called for contiguous blocks covering ``range(n)``, on the pool's ``num_threads - 1`` workers
and on the calling thread, and ``parallel_for`` returns when every block is done (re-raising
the first exception a block raised). The work itself should release the GIL (NumPy, BLAS,
``nogil`` compiled code), or the threads only take turns.

* ``num_threads`` 0 means the machine's physical cores (as onnxruntime), 1 runs everything on
  the calling thread.
* Several threads may call ``parallel_for`` at once (concurrent runs, ORT_PARALLEL, a kernel
  inside a block): each job is a queue entry the workers take blocks from, and every caller
  keeps taking blocks of its own job until none are left, so a job always finishes even when
  every worker is busy elsewhere.
* Idle workers wait on a condition variable (no spinning). They are started on the first job
  that can use them, and stop when the pool is garbage collected (with its session) or closed.

Why onnxrun splits work itself rather than leaving threads to BLAS: a BLAS library gives each of
its threads one fixed share of a GEMM and the caller waits for every share, so on a busy machine
each GEMM waits for a descheduled thread's time slice (measured here: 10 float32 GEMMs
256x256x256 took 137 ms with OpenBLAS on 2 threads and one other busy process, 12.7 ms on one
thread). Here a caller never waits for a block nobody has started. So BLAS runs on one thread per
calling thread during runs (``framework/threads.py``, workers included) and large GEMMs are cut
into blocks on this pool (``kernels/_parallel.py``).
"""

from __future__ import annotations

import contextvars
import os
import threading
import weakref
from collections import deque
from typing import Callable, Optional

from ..errors import InvalidArgument


def physical_cores() -> int:
    """Physical cores this process may run on (hyper-threads counted once); falls back to the
    logical CPU count where the topology cannot be read."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
    cores = set()
    for cpu in cpus:
        path = f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list"
        try:
            with open(path) as f:
                cores.add(f.read().strip())
        except OSError:
            cores.add(str(cpu))
    return max(1, len(cores))


def resolve_threads(requested: int) -> int:
    """The thread count for an ``intra_op_num_threads`` setting (0: physical cores)."""
    requested = int(requested)
    if requested < 0:
        raise InvalidArgument(f"intra_op_num_threads must be >= 0 (0: one thread per physical "
                              f"core), got {requested}")
    return requested if requested > 0 else physical_cores()


class _Job:
    __slots__ = ("fn", "bounds", "next", "done", "error", "finished", "context")

    def __init__(self, fn, bounds, context) -> None:
        self.fn = fn
        self.bounds = bounds
        self.next = 0  # next block to hand out (under the pool's lock)
        self.done = 0
        self.error: Optional[BaseException] = None
        self.finished = threading.Event()
        self.context = context

    def run_block(self, k: int, lock) -> None:
        try:
            self.context.copy().run(self.fn, *self.bounds[k])
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            with lock:
                if self.error is None:
                    self.error = exc
        with lock:
            self.done += 1
            if self.done == len(self.bounds):
                self.finished.set()


class _Workers:
    """The state worker threads share; holds no reference to the pool, so the pool (and its
    session) can be collected while workers wait."""

    def __init__(self) -> None:
        self.cv = threading.Condition()
        self.jobs: deque = deque()
        self.threads = []
        self.closed = False

    def take(self):
        """(job, block) of the oldest job with blocks left, or None (call under cv)."""
        while self.jobs:
            job = self.jobs[0]
            if job.next < len(job.bounds):
                k = job.next
                job.next += 1
                if job.next == len(job.bounds):
                    self.jobs.popleft()
                return job, k
            self.jobs.popleft()
        return None

    def loop(self) -> None:
        from .threads import set_local
        set_local(1)  # blocks are the parallelism: BLAS stays on this thread
        cv = self.cv
        while True:
            with cv:
                item = self.take()
                while item is None and not self.closed:
                    cv.wait()
                    item = self.take()
                if item is None:
                    return
            job, k = item
            job.run_block(k, cv)

    def close(self) -> None:
        with self.cv:
            self.closed = True
            self.cv.notify_all()


class IntraOpPool:
    """``num_threads`` threads for one session: the caller plus ``num_threads - 1`` workers."""

    def __init__(self, num_threads: int = 1) -> None:
        self.num_threads = max(1, int(num_threads))
        self._workers = _Workers()
        self._start_lock = threading.Lock()
        self._finalizer = weakref.finalize(self, self._workers.close)

    def parallel_for(self, n: int, fn: Callable[[int, int], None],
                     blocks: Optional[int] = None) -> None:
        """Call ``fn(begin, end)`` on ``blocks`` blocks (default: one per thread) covering
        ``range(n)`` and wait for all of them. Threads take blocks as they come free, so more
        blocks than threads balance uneven blocks and a thread the OS runs late. With one
        thread, ``fn(0, n)`` runs at once on the caller."""
        n = int(n)
        if n <= 0:
            return
        blocks = min(n, blocks or self.num_threads)
        if blocks <= 1 or self.num_threads == 1:
            fn(0, n)
            return
        bounds = [(n * k // blocks, n * (k + 1) // blocks) for k in range(blocks)]
        job = _Job(fn, bounds, contextvars.copy_context())
        w = self._workers
        self._ensure_started()
        with w.cv:
            if w.closed:
                raise RuntimeError("the intra-op thread pool is closed")
            w.jobs.append(job)
            w.cv.notify(blocks - 1)
        while True:  # the caller works on its own job until no block is left
            with w.cv:
                if job.next >= len(bounds):
                    break
                k = job.next
                job.next += 1
            job.run_block(k, w.cv)
        job.finished.wait()
        if job.error is not None:
            raise job.error

    def _ensure_started(self) -> None:
        w = self._workers
        if len(w.threads) >= self.num_threads - 1:
            return
        with self._start_lock:
            while len(w.threads) < self.num_threads - 1:
                t = threading.Thread(target=w.loop, daemon=True,
                                     name=f"onnxrun-intra-op-{len(w.threads)}")
                t.start()
                w.threads.append(t)

    def close(self) -> None:
        """Stop the workers (also done when the pool is garbage collected)."""
        self._finalizer()

    def __repr__(self) -> str:
        return f"IntraOpPool(num_threads={self.num_threads})"


#: A single-threaded pool for kernels created outside a session (unit tests, constant folding).
INLINE = IntraOpPool(1)
