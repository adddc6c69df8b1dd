"""Per-run state (terminate flag, node observers), reachable from kernels that run subgraphs."""

from __future__ import annotations

import contextvars
import threading
from typing import List, NamedTuple, Optional

from ..errors import Fail


class NodeEvent(NamedTuple):
    """What an observer sees for each node run (times in seconds from ``time.perf_counter``)."""

    node: object  # ir.Node
    inputs: list
    outputs: list
    start: float
    duration: float
    depth: int  # 0 for the main graph, 1+ inside subgraphs


class RunContext:
    """One call of ``run``: shared by the main graph and every subgraph it runs."""

    __slots__ = ("terminate_event", "hooks", "depth", "run_options")

    def __init__(self, run_options=None, hooks: Optional[List] = None) -> None:
        self.run_options = run_options
        self.terminate_event: Optional[threading.Event] = (
            run_options._terminate if run_options is not None else None)
        self.hooks = list(hooks or [])
        self.depth = 0

    def check_terminate(self) -> None:
        if self.terminate_event is not None and self.terminate_event.is_set():
            raise Fail("Exiting due to terminate flag being set to true.")


_CURRENT: contextvars.ContextVar = contextvars.ContextVar("onnxrun_run_context", default=None)
_IDLE = RunContext()


def current() -> RunContext:
    """The RunContext of the run in progress on this thread (a neutral one outside a run)."""
    ctx = _CURRENT.get()
    return ctx if ctx is not None else _IDLE


def activate(ctx: RunContext):
    return _CURRENT.set(ctx)


def deactivate(token) -> None:
    _CURRENT.reset(token)
