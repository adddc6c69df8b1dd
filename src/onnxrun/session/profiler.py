"""Profiling as onnxruntime does it: a Chrome-trace JSON file of session and node events."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from datetime import datetime


class Profiler:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix or "onnxrun_profile_"
        self.start_ns = time.perf_counter_ns()
        self._t0 = time.perf_counter()
        self.events = []
        self._lock = threading.Lock()

    def _us(self, t: float) -> int:
        return int((t - self._t0) * 1e6)

    @contextlib.contextmanager
    def span(self, name: str):
        t = time.perf_counter()
        try:
            yield
        finally:
            self._add({"cat": "Session", "name": name, "ph": "X", "ts": self._us(t),
                       "dur": self._us(time.perf_counter()) - self._us(t), "pid": os.getpid(),
                       "tid": threading.get_ident(), "args": {}})

    def on_node(self, ev) -> None:
        node = ev.node
        shapes = lambda vals: [{"shape": list(getattr(v, "shape", ()))} for v in vals]  # noqa
        self._add({"cat": "Node", "name": f"{node.name or node.op_type}_kernel_time", "ph": "X",
                   "ts": self._us(ev.start), "dur": max(int(ev.duration * 1e6), 0),
                   "pid": os.getpid(), "tid": threading.get_ident(),
                   "args": {"op_name": node.op_type, "provider": node.provider or "",
                            "node_index": str(id(node)),
                            "input_type_shape": shapes(ev.inputs),
                            "output_type_shape": shapes(ev.outputs)}})

    def _add(self, event) -> None:
        with self._lock:
            self.events.append(event)

    def write(self) -> str:
        stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
        path = f"{self.prefix}_{stamp}.json"
        with open(path, "w") as f:
            json.dump(self.events, f)
        return path
