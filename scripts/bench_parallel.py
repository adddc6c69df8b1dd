"""ORT_PARALLEL against ORT_SEQUENTIAL on onnxrun, interleaved run by run in one process.

    python scripts/bench_parallel.py [--runs N] [--inter N] [--intra N] MODEL_OR_SUITE_NAME ...

Prints per model the median latency of each mode, their ratio (parallel / sequential: below 1 is
faster), the cost model's expected gain and whether the parallel executor chose to run steps
concurrently. Suite names (e.g. inception_v1) resolve as in ``onnxrun bench --suite``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import onnxrun
from onnxrun.bench.suite import SUITE
from onnxrun.cli.inputs import make_feeds


def _path(name: str) -> str:
    if os.path.exists(name):
        return name
    for m in SUITE:
        if m.name == name:
            return m.path()
    raise SystemExit(f"no model file or suite model named '{name}'")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--inter", type=int, default=2, help="inter_op_num_threads (parallel)")
    ap.add_argument("--intra", type=int, default=1, help="intra_op_num_threads (both)")
    args = ap.parse_args()
    for name in args.models:
        path = _path(name)
        sessions = {}
        for mode in ("sequential", "parallel"):
            so = onnxrun.SessionOptions()
            so.intra_op_num_threads = args.intra
            so.inter_op_num_threads = args.inter
            if mode == "parallel":
                so.execution_mode = onnxrun.ExecutionMode.ORT_PARALLEL
            sessions[mode] = onnxrun.InferenceSession(path, so)
        feeds = make_feeds(sessions["sequential"], {}, {}, 0)
        times = {k: [] for k in sessions}
        for s in sessions.values():
            s.run(None, feeds)
        for _ in range(args.runs):
            for k, s in sessions.items():
                t0 = time.perf_counter()
                s.run(None, feeds)
                times[k].append(time.perf_counter() - t0)
        seq = statistics.median(times["sequential"])
        par = statistics.median(times["parallel"])
        ex = sessions["parallel"]._core.parallel
        print(f"{name}: sequential {seq * 1e3:.1f} ms, parallel {par * 1e3:.1f} ms, "
              f"parallel/sequential {par / seq:.2f} (expected gain {ex.gain:.2f}, "
              f"{'sequential fallback' if ex.sequential else 'concurrent'})", flush=True)


if __name__ == "__main__":
    main()
