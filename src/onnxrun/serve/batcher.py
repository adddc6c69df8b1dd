"""Dynamic batching: concurrent requests that differ only in their leading (batch) dimension are
stacked into one session run, run on a worker thread, and split back.

One scheduler task forms batches on the event loop. It waits for a free worker, takes the oldest
pending request, adds every pending request with the same key (input names, dtypes and shapes
past axis 0, requested outputs) up to ``max_batch`` rows, and if still short waits for more until
``max_delay`` after the oldest request's arrival. Requests queued while every worker is busy are
therefore batched without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, Hashable, List, Optional, Sequence, Tuple

import numpy as np

from .metrics import ServerMetrics
from .model import ServedModel

log = logging.getLogger("onnxrun.serve")


@dataclass
class Job:
    """One request waiting for its run."""

    feeds: Dict[str, np.ndarray]
    outputs: Tuple[str, ...]
    key: Optional[Hashable]  # None: runs alone
    rows: int
    future: asyncio.Future
    arrival: float = field(default_factory=time.perf_counter)


def batch_key(feeds: Dict[str, np.ndarray], outputs: Sequence[str]) -> Tuple[Optional[tuple], int]:
    """The key requests must share to be stacked, and this request's rows (key None: alone)."""
    leading = {v.shape[0] if v.ndim else None for v in feeds.values()}
    if len(leading) != 1 or None in leading or 0 in leading:
        return None, 0
    key = tuple(sorted((n, v.dtype.str, v.shape[1:]) for n, v in feeds.items()))
    return (key, tuple(outputs)), leading.pop()


class DynamicBatcher:
    """Runs requests on ``workers`` threads, batching them when the model allows it."""

    def __init__(self, model: ServedModel, max_batch: int, max_delay_s: float, workers: int,
                 metrics: ServerMetrics) -> None:
        self.model = model
        self.max_batch = max(1, int(max_batch))
        self.max_delay = max(0.0, float(max_delay_s))
        self.batching = model.batchable and self.max_batch > 1
        self.workers = max(1, int(workers))
        self.metrics = metrics
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="onnxrun-serve")
        self._pending: List[Job] = []
        self._wake: Optional[asyncio.Event] = None
        self._slots: Optional[asyncio.Semaphore] = None
        self._task: Optional[asyncio.Task] = None
        self._running: set = set()

    # ---- lifecycle (on the server's event loop) ---------------------------------------------
    def start(self) -> None:
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(self.workers)
        self._task = asyncio.get_running_loop().create_task(self._schedule())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        for job in self._pending:
            if not job.future.done():
                job.future.set_exception(RuntimeError("the server is shutting down"))
        self._pending.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ---- requests ----------------------------------------------------------------------------
    async def infer(self, feeds: Dict[str, np.ndarray], outputs: Tuple[str, ...]):
        """The output values for one request, in the order of ``outputs``."""
        if self._task is None or self._task.done():
            raise RuntimeError("the batch scheduler is not running")
        key, rows = batch_key(feeds, outputs)
        if not self.batching:
            key = None
        job = Job(feeds, outputs, key, rows, asyncio.get_running_loop().create_future())
        self._pending.append(job)
        self._wake.set()
        return await job.future

    # ---- scheduling --------------------------------------------------------------------------
    async def _schedule(self) -> None:
        while True:
            await self._slots.acquire()
            while not self._pending:
                self._wake.clear()
                await self._wake.wait()
            group = self._take(self._pending[0])
            if group[0].key is not None:
                deadline = group[0].arrival + self.max_delay
                while sum(j.rows for j in group) < self.max_batch:
                    remaining = deadline - time.perf_counter()
                    if remaining <= 0:
                        break
                    self._wake.clear()
                    try:
                        await asyncio.wait_for(self._wake.wait(), remaining)
                    except asyncio.TimeoutError:
                        pass
                    group += self._take(group[0], sum(j.rows for j in group))
            task = asyncio.get_running_loop().create_task(self._dispatch(group))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    def _take(self, head: Job, rows: int = 0) -> List[Job]:
        """Remove from the pending list ``head`` (if still there) and the requests that batch
        with it, up to ``max_batch`` rows in all (``rows`` already taken)."""
        taken, keep = [], []
        for job in self._pending:
            same = job is head or (head.key is not None and job.key == head.key)
            if same and (job is head or rows + job.rows <= self.max_batch):
                taken.append(job)
                rows += job.rows
            else:
                keep.append(job)
        self._pending = keep
        return taken

    async def _dispatch(self, group: List[Job]) -> None:
        loop = asyncio.get_running_loop()
        try:
            start = time.perf_counter()
            for job in group:
                self.metrics.observe(self.metrics.queue_seconds, start - job.arrival)
            results = await loop.run_in_executor(self._pool, self._run, group)
            for job, result in zip(group, results):
                if job.future.done():
                    continue
                if isinstance(result, BaseException):
                    job.future.set_exception(result)
                else:
                    job.future.set_result(result)
        except BaseException as exc:  # the pool is shut down, or the loop is stopping
            for job in group:
                if not job.future.done():
                    job.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            self._slots.release()

    # ---- on a worker thread ------------------------------------------------------------------
    def _run(self, group: List[Job]) -> list:
        if len(group) > 1:
            t0 = time.perf_counter()
            try:
                parts = self.model.run_batch([j.feeds for j in group], group[0].outputs,
                                             [j.rows for j in group])
            except Exception as exc:  # one bad request must not fail the others: rerun alone
                log.info("batched run of %d requests failed (%s); running them one by one",
                         len(group), exc)
                parts = []
            finally:
                self._record(t0, sum(j.rows for j in group), len(group))
            if parts is None:
                reason = "an output's leading dimension is not the batch's row count"
                log.warning("model '%s': %s; dynamic batching is turned off",
                            self.model.name, reason)
                self.batching = False
                self.model.batchable, self.model.batching_reason = False, reason
            elif parts:
                return parts
        return [self._run_one(j) for j in group]

    def _run_one(self, job: Job):
        t0 = time.perf_counter()
        try:
            values = self.model.run(job.feeds, job.outputs)
        except Exception as exc:
            return exc
        finally:
            self._record(t0, job.rows or 1, 1)
        return values

    def _record(self, t0: float, rows: int, requests: int) -> None:
        m = self.metrics
        m.observe(m.run_seconds, time.perf_counter() - t0)
        m.observe(m.batch_size, rows)
        m.observe(m.batch_requests, requests)
