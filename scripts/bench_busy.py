"""Latency on a busy machine: each model on onnxrun and onnxruntime at their default settings,
idle and then while spinning processes occupy the cores; the slowdown busy / idle of each.

    python scripts/bench_busy.py [MODEL_OR_SUITE_NAME ...] [--loads N-1,N] [--runs R]
                                 [--calls C] [--budget S] [--threads default,1]

Default models: vad (per call, state fed back) and ocr_rec. ``--loads`` lists the background
loads as counts of spinning processes, written as numbers or relative to the core count
(``N``, ``N-1``, ``2N``); default ``N-1,N``. ``--threads`` lists the settings to time:
``default`` (nothing set on either runtime, what users get) and, as a reference, ``1``
(intra_op_num_threads=1 on both). For each model and load: interleaved timed runs of every
session (onnxrun and onnxruntime at each setting, call by call) with no load, then with the
load, in the same process. Each phase stops after ``--budget`` seconds (at least 3 timed runs),
so a collapse shows as a large slowdown rather than a hang. The spinners stop by themselves at
a deadline too.

onnxrun's BLAS threads and onnxruntime's intra-op pool both spin-wait for work; with every
core taken by other processes, a runtime whose threads wait on each other can slow down far
more than the load alone explains (one core's worth of work shared with N spinners).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time

from onnxrun.bench.memory import import_runtime, make_session
from onnxrun.bench.runner import interleaved, prepare_feeds
from onnxrun.bench.suite import SUITE, SuiteModel


def _spin(deadline: float, stop) -> None:
    """Busy work until ``stop`` is set or the wall clock passes ``deadline``."""
    x = 0
    while not stop.is_set() and time.time() < deadline:
        for i in range(200_000):
            x ^= i


def _load_count(spec: str, cores: int) -> int:
    spec = spec.strip().upper().replace(" ", "")
    if "N" not in spec:
        return int(spec)
    head, _, tail = spec.partition("N")
    n = cores * (int(head) if head else 1)
    return n + int(tail) if tail else n


def _model(name: str) -> SuiteModel:
    for m in SUITE:
        if m.name == name:
            return m
    if os.path.exists(name):
        return SuiteModel(os.path.basename(name), lambda log=None: name, 20, "file")
    raise SystemExit(f"no model file or suite model named '{name}'")


def _phase(sessions, feeds, frames, feedback, runs, budget):
    times = [[] for _ in sessions]
    interleaved(sessions, feeds, frames, feedback, 1, runs, times,
                deadline=time.perf_counter() + budget)
    return [statistics.median(t) for t in times], len(times[0])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", default=["vad", "ocr_rec"])
    ap.add_argument("--loads", default="N-1,N", help="spinning processes, e.g. N-1,N,2N")
    ap.add_argument("--runs", type=int, default=20, help="timed runs per phase (20)")
    ap.add_argument("--calls", type=int, default=200, help="timed calls per phase, stream "
                    "models (200)")
    ap.add_argument("--budget", type=float, default=30.0, help="seconds per phase at most")
    ap.add_argument("--threads", default="default,1",
                    help="thread settings to time, comma-separated: default and/or counts")
    a = ap.parse_args()
    cores = os.cpu_count() or 1
    loads = [_load_count(s, cores) for s in a.loads.split(",") if s.strip()]
    settings = [0 if t.strip() == "default" else int(t) for t in a.threads.split(",")]
    import_runtime("onnxrun")
    import_runtime("onnxruntime")
    print(f"bench_busy: {cores} cores (os.cpu_count); 'idle' = no load added by this script")
    print("| model | load (spinners) | load average before | runtime | threads | runs idle/busy "
          "| idle ms | busy ms | slowdown |")
    print("|---|---|---|---|---|---|---|---|---|")
    ctx = mp.get_context("fork")
    for name in a.models:
        m = _model(name)
        path = m.path()
        keys = [(rt, t) for t in settings for rt in ("onnxrun", "onnxruntime")]
        sessions = [make_session(rt, path, t) for rt, t in keys]
        runs = a.calls if m.stream else a.runs
        feeds, frames, feedback = prepare_feeds(sessions[0], m.dims, 0, m.inputs, m.stream,
                                                runs + 1)
        for load in loads:
            before = os.getloadavg()[0]
            idle, n_idle = _phase(sessions, feeds, frames, feedback, runs, a.budget)
            stop = ctx.Event()
            deadline = time.time() + a.budget * 2 + 30
            procs = [ctx.Process(target=_spin, args=(deadline, stop), daemon=True)
                     for _ in range(load)]
            for p in procs:
                p.start()
            time.sleep(0.5)
            try:
                busy, n_busy = _phase(sessions, feeds, frames, feedback, runs, a.budget)
            finally:
                stop.set()
                for p in procs:
                    p.join(5)
            unit = " per call" if m.stream else ""
            for (rt, t), i, b in zip(keys, idle, busy):
                print(f"| {m.name}{unit} | {load} | {before:.2f} | {rt} | "
                      f"{'default' if t == 0 else t} | {n_idle}/{n_busy} | {i * 1e3:.2f} | "
                      f"{b * 1e3:.2f} | {b / i:.1f}x |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
