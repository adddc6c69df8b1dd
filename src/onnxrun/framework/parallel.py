"""ParallelExecutor (ORT_PARALLEL): runs independent steps of a plan concurrently.

Decided at initialization, from the static cost model (framework/cost.py):

* whether the graph has branches worth overlapping: when ``threads`` workers could at best
  gain less than ``min_gain`` (session config ``session.parallel_min_gain``, default 1.15; a chain, or branches too small next to the longest path), runs
  go through the sequential executor, so ORT_PARALLEL is never the slower choice there;
* each step's priority: the estimated cost of the longest path from it to the end. Ready steps
  run longest-path first, so the critical path never waits behind a short branch.

At run time the calling thread works too: it runs the first ready step, then keeps going with
the most urgent newly ready successor of each step it finishes, and only the other ready steps
go to a shared queue that ``threads - 1`` pool threads (and the caller, when its own chain ends)
take from. Values are freed when their last reader (in any order) has run. Steps run their
``base_fn`` (in-place variants are planned for the sequential order only).
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import threading
import time
import weakref
from typing import List

from .cost import critical_path, parallel_gain, step_cost
from .executor import finish_outputs, node_error, run_plan
from .planner import ExecutionPlan
from .run_context import NodeEvent, RunContext

from ..options import DEFAULT_PARALLEL_MIN_GAIN


class _Pool:
    """Worker threads sharing one priority queue of (priority, seq, context, work, step)."""

    def __init__(self, workers: int, blas_threads: int) -> None:
        self.cv = threading.Condition()
        self.heap: list = []
        self.closed = False
        self.seq = itertools.count()
        self.threads = [threading.Thread(target=self._loop, args=(blas_threads,), daemon=True,
                                         name=f"onnxrun-inter-op-{i}") for i in range(workers)]
        for t in self.threads:
            t.start()

    def _loop(self, blas_threads: int) -> None:
        if blas_threads > 0:
            from .threads import set_local
            set_local(blas_threads)
        cv = self.cv
        while True:
            with cv:
                while not self.heap and not self.closed:
                    cv.wait()
                if self.closed:
                    return
                _, _, context, work, k = heapq.heappop(self.heap)
            context.copy().run(work, k)

    def close(self) -> None:
        with self.cv:
            self.closed = True
            self.cv.notify_all()


class ParallelExecutor:
    """Runs steps whose inputs are ready concurrently on ``threads`` threads (the caller's
    included), or sequentially where the graph offers too little to overlap."""

    def __init__(self, plan: ExecutionPlan, threads: int, blas_threads: int = 0,
                 min_gain: float = DEFAULT_PARALLEL_MIN_GAIN) -> None:
        self.plan = plan
        self.threads = max(1, int(threads))
        self.blas_threads = blas_threads
        producer = {}
        for k, step in enumerate(plan.steps):
            for s in step.out_slots:
                if s != plan.trash_slot:
                    producer[s] = k
        # how many steps read each slot; a slot is freed when the last of them has run
        pinned = set(plan.output_slots) | {i for i, v in enumerate(plan.template)
                                          if v is not None}
        self.readers = {}
        for step in plan.steps:
            for slot in set(step.in_slots):
                if slot not in pinned and slot != plan.trash_slot:
                    self.readers[slot] = self.readers.get(slot, 0) + 1
        self.reads = [tuple(sl for sl in set(st.in_slots) if sl in self.readers)
                      for st in plan.steps]
        dep_lists: List[List[int]] = []
        self.users: List[List[int]] = [[] for _ in plan.steps]
        for k, step in enumerate(plan.steps):
            deps = sorted({producer[s] for s in step.in_slots
                           if s in producer and producer[s] != k})
            dep_lists.append(deps)
            for d in deps:
                self.users[d].append(k)
        self.deps = [len(d) for d in dep_lists]
        costs = [step_cost(st.node) for st in plan.steps]
        self.priority = critical_path(costs, dep_lists)
        self.gain = parallel_gain(costs, dep_lists, self.threads)
        self.sequential = self.threads < 2 or self.gain < min_gain
        for k in range(len(self.users)):  # most urgent successor first
            self.users[k].sort(key=lambda u: -self.priority[u])
        self.fns = [st.base_fn if st.base_fn is not None else st.fn for st in plan.steps]
        #: steps with no producer to wait for, most urgent first
        self.initial = sorted((k for k, d in enumerate(self.deps) if d == 0),
                              key=lambda k: -self.priority[k])
        self._pool = None
        self._pool_lock = threading.Lock()

    def _get_pool(self) -> _Pool:
        with self._pool_lock:
            if self._pool is None:
                self._pool = _Pool(self.threads - 1, self.blas_threads)
                weakref.finalize(self, self._pool.close)  # threads end with the session
            return self._pool

    def run(self, feeds: list, outer: list, ctx: RunContext) -> list:
        plan = self.plan
        if self.sequential or not plan.steps:
            return run_plan(plan, feeds, outer, ctx)
        pool = self._get_pool()
        values = plan.template.copy()
        for s, v in zip(plan.input_slots, feeds):
            values[s] = v
        for s, v in zip(plan.outer_slots, outer):
            values[s] = v
        remaining = list(self.deps)
        readers = dict(self.readers)
        state = {"left": len(plan.steps), "error": None}
        cv = pool.cv
        context = contextvars.copy_context()  # the run's context (errstate, run context)
        priority, users, reads, fns, steps = (self.priority, self.users, self.reads, self.fns,
                                              plan.steps)
        hooks = ctx.hooks

        def run_one(k):
            """Run step k; returns the successor to continue with, or None."""
            step = steps[k]
            try:
                if state["error"] is not None:
                    return None
                ctx.check_terminate()
                args = [values[i] for i in step.in_slots]
                t0 = time.perf_counter()
                res = fns[k](*args)
                dt = time.perf_counter() - t0
                multi = step.multi if step.multi is not None else type(res) is tuple
                results = list(res) if multi else [res]
                for s, v in zip(step.out_slots, results):
                    values[s] = v
                if hooks:
                    event = NodeEvent(step.node, args[:len(step.node.inputs)],
                                      results[:len(step.out_slots)], t0, dt, ctx.depth)
                    for h in hooks:
                        h(event)
            except Exception as exc:  # noqa: BLE001 - reported to the caller below
                with cv:
                    if state["error"] is None:
                        state["error"] = node_error(step.node, exc)
                    cv.notify_all()
                return None
            nxt = None
            with cv:
                for slot in reads[k]:
                    readers[slot] -= 1
                    if readers[slot] == 0:
                        values[slot] = None
                for u in users[k]:
                    remaining[u] -= 1
                    if remaining[u] == 0:
                        if nxt is None:
                            nxt = u  # users are sorted by priority: the most urgent
                        else:
                            heapq.heappush(pool.heap, (-priority[u], next(pool.seq), context,
                                                       work, u))
                            cv.notify()
                state["left"] -= 1
                if state["left"] == 0:
                    cv.notify_all()
            return nxt

        def work(k):
            while k is not None:
                k = run_one(k)

        initial = self.initial
        with cv:
            for k in initial[1:]:
                heapq.heappush(pool.heap, (-priority[k], next(pool.seq), context, work, k))
            cv.notify_all()
        work(initial[0])
        # the caller helps with queued steps until this run is over
        while True:
            with cv:
                while (state["left"] and state["error"] is None and not pool.heap):
                    cv.wait()
                if not state["left"] or state["error"] is not None:
                    break
                _, _, c, w, k = heapq.heappop(pool.heap)
            c.copy().run(w, k)
        if state["error"] is not None:
            # wait for steps still running on workers before the values go away
            raise state["error"]
        return finish_outputs(plan, values)
