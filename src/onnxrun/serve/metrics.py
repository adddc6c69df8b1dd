"""Server metrics in Prometheus' text exposition format (version 0.0.4)."""

from __future__ import annotations

import bisect
import threading
from typing import Dict, List, Sequence, Tuple

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def _labels(pairs: Sequence[Tuple[str, str]]) -> str:
    if not pairs:
        return ""
    body = ",".join(f'{k}="{_escape(str(v))}"' for k, v in pairs)
    return "{" + body + "}"


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


class Counter:
    """A counter with labels (name should end in ``_total``)."""

    def __init__(self, name: str, help_text: str, label_names: Sequence[str] = ()) -> None:
        self.name, self.help, self.label_names = name, help_text, tuple(label_names)
        self._values: Dict[Tuple[str, ...], float] = {}

    def inc(self, *labels: str, amount: float = 1) -> None:
        self._values[labels] = self._values.get(labels, 0) + amount

    def get(self, *labels: str) -> float:
        return self._values.get(labels, 0)

    def render(self) -> List[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        for labels, v in sorted(self._values.items()):
            lines.append(f"{self.name}{_labels(list(zip(self.label_names, labels)))} {_num(v)}")
        return lines


class Histogram:
    """A histogram without labels."""

    def __init__(self, name: str, help_text: str, buckets: Sequence[float]) -> None:
        self.name, self.help, self.buckets = name, help_text, tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, v: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, v)] += 1
        self.sum += v
        self.count += 1

    def render(self) -> List[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        total = 0
        for le, c in zip(self.buckets + (float("inf"),), self.counts):
            total += c
            bound = "+Inf" if le == float("inf") else _num(le)
            lines.append(f'{self.name}_bucket{{le="{bound}"}} {total}')
        lines += [f"{self.name}_sum {_num(self.sum)}", f"{self.name}_count {self.count}"]
        return lines


class ServerMetrics:
    """Everything ``/metrics`` shows; safe to update from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = Counter("onnxrun_requests_total", "HTTP requests by endpoint and status.",
                                ("endpoint", "status"))
        self.request_seconds = Histogram(
            "onnxrun_request_duration_seconds",
            "Latency of successful inference requests, body read to response ready.", LATENCY_BUCKETS)
        self.queue_seconds = Histogram(
            "onnxrun_queue_duration_seconds",
            "Time an inference request waited before its session run began.", LATENCY_BUCKETS)
        self.run_seconds = Histogram("onnxrun_run_duration_seconds",
                                     "Duration of one session run (one batch).", LATENCY_BUCKETS)
        self.batch_size = Histogram("onnxrun_batch_size",
                                    "Rows (leading-dimension entries) per session run.",
                                    SIZE_BUCKETS)
        self.batch_requests = Histogram("onnxrun_batch_requests",
                                        "Requests merged into one session run.", SIZE_BUCKETS)

    def count_request(self, endpoint: str, status: int) -> None:
        with self._lock:
            self.requests.inc(endpoint, str(status))

    def observe(self, histogram: Histogram, value: float) -> None:
        with self._lock:
            histogram.observe(value)

    def render(self) -> str:
        with self._lock:
            lines: List[str] = []
            for m in (self.requests, self.request_seconds, self.queue_seconds, self.run_seconds,
                      self.batch_size, self.batch_requests):
                lines += m.render()
        return "\n".join(lines) + "\n"
