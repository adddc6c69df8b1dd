"""Executors: walk an ExecutionPlan. No op is special here; every step is
``outputs = kernel(*inputs)`` on integer slots.

``run_plan`` is the sequential executor; with observers attached it takes the traced loop, and
``parallel.ParallelExecutor`` runs independent nodes concurrently (ORT_PARALLEL).
"""

from __future__ import annotations

import time

import numpy as np

from ..errors import Fail, OnnxRuntimeError
from .planner import ExecutionPlan
from .run_context import NodeEvent, RunContext


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
    event = ctx.terminate_event  # None without RunOptions: nothing can ask to stop
    node = None
    try:
        for fn, get, single, outs, frees, multi, node in plan.fast:
            if event is not None and event.is_set():
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
