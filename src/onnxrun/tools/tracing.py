"""Tracing: what every node of a run did (op, provider, input/output shapes and dtypes, time).

Attach a :class:`Tracer` to one session for the duration of a ``with`` block::

    with onnxrun.Tracer(sess) as trace:
        sess.run(None, feeds)
    for rec in trace.records:
        print(rec.name, rec.op_type, rec.output_shapes, rec.duration_ms)

or to single runs through ``RunOptions.hooks``::

    tracer = onnxrun.Tracer()
    ro = onnxrun.RunOptions()
    ro.hooks.append(tracer)
    sess.run(None, feeds, ro)

With ``check_finite=True`` the run stops with :class:`onnxrun.errors.Fail` at the first node
that produces a NaN or an infinity, naming the node, its op and the output.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, List, Optional, Tuple

import numpy as np

from ..errors import Fail

__all__ = ["Tracer", "TraceRecord", "describe_value"]


@dataclass
class TraceRecord:
    """One node run: times in seconds (``start`` from ``time.perf_counter``)."""

    name: str
    op_type: str
    domain: str
    provider: str
    input_names: List[str]
    output_names: List[str]
    input_shapes: List[Optional[Tuple[int, ...]]]
    input_dtypes: List[Optional[str]]
    output_shapes: List[Optional[Tuple[int, ...]]]
    output_dtypes: List[Optional[str]]
    start: float
    duration: float
    depth: int
    run_index: int = 0
    origin: Optional[str] = None  # the node this one was fused from/expanded from, if any
    extra: dict = field(default_factory=dict)

    @property
    def duration_ms(self) -> float:
        return self.duration * 1e3

    def as_dict(self) -> dict:
        """JSON-friendly form."""
        return {"name": self.name, "op_type": self.op_type, "domain": self.domain,
                "provider": self.provider, "inputs": self.input_names,
                "outputs": self.output_names,
                "input_shapes": [list(s) if s is not None else None for s in self.input_shapes],
                "input_dtypes": self.input_dtypes,
                "output_shapes": [list(s) if s is not None else None for s in self.output_shapes],
                "output_dtypes": self.output_dtypes, "start": self.start,
                "duration_ms": self.duration_ms, "depth": self.depth, "run": self.run_index}


_DTYPE_NAMES: dict = {}


def describe_value(v: Any) -> Tuple[Optional[Tuple[int, ...]], Optional[str]]:
    """(shape, dtype name) of a runtime value; sequences as ``seq(<dtype>)`` with length shape."""
    if v is None:
        return None, None
    if isinstance(v, (np.ndarray, np.generic)):
        dt = v.dtype
        name = _DTYPE_NAMES.get(dt)
        if name is None:
            name = _DTYPE_NAMES[dt] = str(dt)  # str(dtype) is slow: cache it
        return v.shape, name
    if isinstance(v, list):
        inner = describe_value(v[0])[1] if v else "?"
        return (len(v),), f"seq({inner})"
    if isinstance(v, dict):
        return (len(v),), "map"
    shape = getattr(v, "shape", None)
    dtype = getattr(v, "dtype", None)
    return (tuple(shape) if shape is not None else None), (str(dtype) if dtype is not None
                                                            else type(v).__name__)


def _names(values) -> List[str]:
    return [v.name if v is not None else "" for v in values]


def _non_finite(v) -> Optional[str]:
    if isinstance(v, np.ndarray) and v.dtype.kind in "fc" and v.size:
        if not np.isfinite(v).all():
            return "NaN" if np.isnan(v).any() else "Inf"
    elif isinstance(v, np.generic) and np.asarray(v).dtype.kind in "fc":
        if not np.isfinite(v):
            return "NaN" if np.isnan(v) else "Inf"
    elif isinstance(v, list):
        for x in v:
            bad = _non_finite(x)
            if bad:
                return bad
    return None


class Tracer:
    """A per-node observer recording a :class:`TraceRecord` for every node run.

    ``Tracer(session)`` used as a context manager traces every run of ``session`` inside the
    block; a ``Tracer()`` appended to ``RunOptions.hooks`` traces the runs given those options.

    Options:
      * ``check_finite``: raise :class:`onnxrun.errors.Fail` naming the first node (its name, op
        and output) whose output holds a NaN or an infinity.
      * ``include_subgraphs``: also record nodes run inside If/Loop/Scan bodies (``depth > 0``).
      * ``keep_values``: also keep each node's output arrays (``record.extra["outputs"]``);
        memory-hungry, for small models.
    """

    def __init__(self, session=None, check_finite: bool = False, include_subgraphs: bool = True,
                 keep_values: bool = False) -> None:
        self.session = session
        self.check_finite = check_finite
        self.include_subgraphs = include_subgraphs
        self.keep_values = keep_values
        self.records: List[TraceRecord] = []
        self.runs = 0
        self._lock = threading.Lock()
        self._saved = None

    # ---- the hook ------------------------------------------------------------------------
    def __call__(self, event) -> None:
        if event.depth > 0 and not self.include_subgraphs:
            return
        node = event.node
        outs = [v for v in node.outputs]
        if self.check_finite:
            for i, (val, value) in enumerate(zip(outs, event.outputs)):
                bad = _non_finite(value)
                if bad:
                    oname = val.name if val is not None else f"#{i}"
                    where = f" (from '{node.origin}')" if getattr(node, "origin", None) else ""
                    raise Fail(f"first non-finite value: {bad} in output {i} '{oname}' of node "
                               f"'{node.name}' (op {node.op_type}{where})")
        in_desc = [describe_value(v) for v in event.inputs]
        out_desc = [describe_value(v) for v in event.outputs]
        rec = TraceRecord(
            name=node.name, op_type=node.op_type, domain=node.domain or "",
            provider=node.provider or "", input_names=_names(node.inputs)[:len(event.inputs)],
            output_names=_names(outs)[:len(event.outputs)],
            input_shapes=[d[0] for d in in_desc], input_dtypes=[d[1] for d in in_desc],
            output_shapes=[d[0] for d in out_desc], output_dtypes=[d[1] for d in out_desc],
            start=event.start, duration=event.duration, depth=event.depth,
            run_index=self.runs, origin=getattr(node, "origin", None))
        if self.keep_values:
            rec.extra["outputs"] = list(event.outputs)
        with self._lock:
            self.records.append(rec)

    # ---- attaching to a session ----------------------------------------------------------
    def __enter__(self) -> "Tracer":
        if self.session is not None:
            self.session.add_run_hook(self)
        return self

    def __exit__(self, *exc) -> None:
        if self.session is not None and self in self.session._run_hooks:
            self.session.remove_run_hook(self)

    def start_run(self) -> None:
        """Called by the session as each run begins."""
        self.runs += 1

    # ---- results -------------------------------------------------------------------------
    def clear(self) -> None:
        with self._lock:
            self.records.clear()

    def by_op_type(self) -> List[Tuple[str, float, int]]:
        """(op type, total seconds, count), slowest first (main graph nodes only)."""
        totals = {}
        for r in self.records:
            if r.depth:
                continue
            t, c = totals.get(r.op_type, (0.0, 0))
            totals[r.op_type] = (t + r.duration, c + 1)
        return sorted(((k, t, c) for k, (t, c) in totals.items()), key=lambda x: -x[1])

    def slowest(self, n: int = 10) -> List[TraceRecord]:
        return sorted((r for r in self.records if not r.depth), key=lambda r: -r.duration)[:n]

    def total_time(self) -> float:
        return sum(r.duration for r in self.records if not r.depth)

    def summary(self) -> str:
        """A per-node table: name, op, provider, output shapes, time."""
        from .table import format_table
        rows = []
        for r in self.records:
            shapes = ", ".join(f"{d}{list(s) if s is not None else ''}"
                               for s, d in zip(r.output_shapes, r.output_dtypes))
            rows.append(["  " * r.depth + (r.name or "(unnamed)"), r.op_type, r.provider,
                         shapes, f"{r.duration_ms:.3f}"])
        return format_table(rows, ["node", "op", "provider", "outputs", "ms"], align="llllr")
