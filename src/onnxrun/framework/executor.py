"""Executors: walk an ExecutionPlan. No op is special here; every step is
``outputs = kernel(*inputs)`` on integer slots.

``run_plan`` is the sequential executor; with observers attached it takes the traced loop, and
``ParallelExecutor`` runs independent nodes concurrently (ORT_PARALLEL).
"""

from __future__ import annotations

import contextvars
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import List

import numpy as np

from ..errors import Fail, OnnxRuntimeError
from .planner import ExecutionPlan
from .run_context import NodeEvent, RunContext

_never = threading.Event()


def node_error(node, exc: BaseException) -> OnnxRuntimeError:
    """onnxruntime's report of a failing kernel, keeping our error class when there is one."""
    prefix = (f"Non-zero status code returned while running {node.op_type} node. "
              f"Name:'{node.name}' Status Message: ")
    if isinstance(exc, OnnxRuntimeError):
        return exc.with_prefix(prefix)
    detail = f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc)
    err = Fail(prefix + detail)
    err.__cause__ = exc
    return err


def run_plan(plan: ExecutionPlan, feeds: list, outer: list, ctx: RunContext) -> list:
    """Run ``plan`` and return the values of its output slots."""
    values = plan.template.copy()
    for s, v in zip(plan.input_slots, feeds):
        values[s] = v
    for s, v in zip(plan.outer_slots, outer):
        values[s] = v
    if ctx.hooks:
        _run_traced(plan, values, ctx)
    else:
        _run_fast(plan, values, ctx)
    return finish_outputs(plan, values)


def finish_outputs(plan: ExecutionPlan, values: list) -> list:
    """The output values, owned by the caller: copies where they may share memory with
    constants, feeds or outer values; NumPy scalars as 0-d arrays."""
    out = []
    for s, copy in zip(plan.output_slots, plan.copy_outputs):
        v = values[s]
        if isinstance(v, np.generic):
            v = np.asarray(v)
        elif copy:
            v = _owned(v)
        out.append(v)
    return out


def _owned(v):
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, list):
        return [_owned(x) for x in v]
    if isinstance(v, dict):
        return {k: _owned(x) for k, x in v.items()}
    return v


def _run_fast(plan: ExecutionPlan, values: list, ctx: RunContext) -> None:
    stop = (ctx.terminate_event or _never).is_set
    node = None
    try:
        for fn, get, single, outs, frees, multi, node in plan.fast:
            if stop():
                ctx.check_terminate()
            res = fn(*get(values))
            if single >= 0:
                values[single] = res
            else:
                if multi is None:
                    multi = type(res) is tuple
                if multi:
                    for s, v in zip(outs, res):
                        values[s] = v
                else:
                    values[outs[0]] = res
            for s in frees:
                values[s] = None
    except Exception as exc:
        if node is None:
            raise
        raise node_error(node, exc) from exc


def _run_traced(plan: ExecutionPlan, values: list, ctx: RunContext) -> None:
    hooks = ctx.hooks
    clock = time.perf_counter
    for fn, ins, outs, frees, multi, node in plan.flat:
        ctx.check_terminate()
        args = [values[i] for i in ins]
        t0 = clock()
        try:
            res = fn(*args)
        except Exception as exc:
            raise node_error(node, exc) from exc
        dt = clock() - t0
        if multi is None:
            multi = type(res) is tuple
        results = list(res) if multi else [res]
        for s, v in zip(outs, results):
            values[s] = v
        event = NodeEvent(node, args[:len(node.inputs)], results[:len(outs)], t0, dt, ctx.depth)
        for h in hooks:
            h(event)
        for s in frees:
            values[s] = None


class ParallelExecutor:
    """Runs nodes whose inputs are ready concurrently on a pool of ``threads`` workers."""

    def __init__(self, plan: ExecutionPlan, threads: int, blas_threads: int = 0) -> None:
        from .threads import set_local
        self.plan = plan
        init = (lambda: set_local(blas_threads)) if blas_threads > 0 else None
        self.pool = ThreadPoolExecutor(max_workers=max(1, threads),
                                       thread_name_prefix="onnxrun-inter-op", initializer=init)
        weakref.finalize(self, self.pool.shutdown, wait=False)  # threads end with the session
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
        self.deps = []
        self.users: List[List[int]] = [[] for _ in plan.steps]
        for k, step in enumerate(plan.steps):
            deps = {producer[s] for s in step.in_slots if s in producer and producer[s] != k}
            self.deps.append(len(deps))
            for d in deps:
                self.users[d].append(k)

    def run(self, feeds: list, outer: list, ctx: RunContext) -> list:
        plan = self.plan
        values = plan.template.copy()
        for s, v in zip(plan.input_slots, feeds):
            values[s] = v
        for s, v in zip(plan.outer_slots, outer):
            values[s] = v
        remaining = list(self.deps)
        readers = dict(self.readers)
        lock = threading.Lock()
        done = threading.Event()
        state = {"left": len(plan.steps), "error": None}
        if not plan.steps:
            return finish_outputs(plan, values)

        def submit(k):
            cv = contextvars.copy_context()
            self.pool.submit(cv.run, work, k)

        def work(k):
            # run k, then keep going inline with one newly ready successor; only extra
            # branches go to the pool, so chains cost no thread hand-offs
            while k is not None:
                k = run_one(k)

        def run_one(k):
            step = plan.steps[k]
            try:
                if state["error"] is not None:
                    return None
                ctx.check_terminate()
                args = [values[i] for i in step.in_slots]
                t0 = time.perf_counter()
                res = step.fn(*args)
                dt = time.perf_counter() - t0
                multi = step.multi if step.multi is not None else type(res) is tuple
                results = list(res) if multi else [res]
                for s, v in zip(step.out_slots, results):
                    values[s] = v
                if ctx.hooks:
                    event = NodeEvent(step.node, args[:len(step.node.inputs)],
                                      results[:len(step.out_slots)], t0, dt, ctx.depth)
                    for h in ctx.hooks:
                        h(event)
            except Exception as exc:  # noqa: BLE001 - reported to the caller below
                with lock:
                    if state["error"] is None:
                        state["error"] = node_error(step.node, exc)
                done.set()
                return None
            ready = []
            with lock:
                for slot in self.reads[k]:
                    readers[slot] -= 1
                    if readers[slot] == 0:
                        values[slot] = None
                for u in self.users[k]:
                    remaining[u] -= 1
                    if remaining[u] == 0:
                        ready.append(u)
                state["left"] -= 1
                if state["left"] == 0:
                    done.set()
            for u in ready[1:]:
                submit(u)
            return ready[0] if ready else None

        initial = [k for k, d in enumerate(remaining) if d == 0]  # before any worker runs
        for k in initial:
            submit(k)
        done.wait()
        if state["error"] is not None:
            raise state["error"]
        return finish_outputs(plan, values)
