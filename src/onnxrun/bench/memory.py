"""Peak memory of one runtime on one model, measured in a fresh process.

Run as ``python -m onnxrun.bench.memory RUNTIME MODEL FEEDS.npz [--runs N] [--threads N]
[--level L]``; prints one JSON line. The figure is ``ru_maxrss`` (the process's resident-set
high-water mark) after loading the model and running it, minus ``ru_maxrss`` just before
loading (after the imports and the feeds): the memory the session and its runs added at peak.

On Linux the figures come from ``/proc/self/status`` instead: ``VmHWM`` (the resident-set
high-water mark of this process's address space) after the runs minus ``VmRSS`` just before
loading, after resetting the mark through ``/proc/self/clear_refs``. ``ru_maxrss`` is a
fallback only: it is inherited from the parent across fork and exec, so a child started by a
large benchmark process would report the parent's size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Dict, Optional

import numpy as np

LEVELS = ("disable", "basic", "extended", "all")


def _proc_status() -> Optional[Dict[str, int]]:
    try:
        with open("/proc/self/status") as f:
            out = {}
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0]) * 1024
            return out if len(out) == 2 else None
    except OSError:
        return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _baseline() -> int:
    """Current resident size with the high-water mark reset (or ru_maxrss as a fallback)."""
    st = _proc_status()
    if st is not None and _reset_peak():
        return _proc_status()["VmRSS"]
    return _maxrss_bytes()


def _peak() -> int:
    st = _proc_status()
    return st["VmHWM"] if st is not None else _maxrss_bytes()


def _maxrss_bytes() -> int:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(kb) * (1 if sys.platform == "darwin" else 1024)


def import_runtime(runtime: str) -> float:
    """Import ``runtime`` (for onnxrun: and every kernel and graph-transformer module, which
    the first session would otherwise import); seconds taken, 0 when already done. Init times
    exclude this one-time cost."""
    t0 = time.perf_counter()
    if runtime == "onnxrun":
        from ..kernels import load_all
        from ..optimizer import transformers
        load_all()
        transformers()
    elif runtime == "onnxruntime":
        import onnxruntime  # noqa: F401
    else:
        raise ValueError(f"unknown runtime '{runtime}'")
    return time.perf_counter() - t0


def make_session(runtime: str, model: str, threads: int = 0, level: str = "all"):
    """An InferenceSession of ``runtime`` ("onnxrun" or "onnxruntime") on ``model``."""
    if runtime == "onnxrun":
        import onnxrun as rt
        levels = [0, 1, 2, 99]
    elif runtime == "onnxruntime":
        import onnxruntime as rt
        g = rt.GraphOptimizationLevel
        levels = [g.ORT_DISABLE_ALL, g.ORT_ENABLE_BASIC, g.ORT_ENABLE_EXTENDED, g.ORT_ENABLE_ALL]
    else:
        raise ValueError(f"unknown runtime '{runtime}'")
    opts = rt.SessionOptions()
    opts.graph_optimization_level = levels[LEVELS.index(level)]
    if threads:
        opts.intra_op_num_threads = int(threads)
    if runtime == "onnxruntime":
        rt.set_default_logger_severity(3)  # no warnings about unused initializers
        return rt.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    return rt.InferenceSession(model, opts)


def measure(runtime: str, model: str, feeds_path: str, runs: int = 3, threads: int = 0,
            level: str = "all") -> Dict[str, float]:
    """In this process: import, load feeds, baseline, load model, run; the peak above it."""
    import_runtime(runtime)
    with np.load(feeds_path, allow_pickle=False) as data:
        feeds = {k: data[k] for k in data.files}
    base = _baseline()
    t0 = time.perf_counter()
    sess = make_session(runtime, model, threads, level)
    init = time.perf_counter() - t0
    after_init = _peak()
    for _ in range(max(1, runs)):
        sess.run(None, feeds)
    peak = _peak()
    return {"runtime": runtime, "method": "VmHWM" if _proc_status() else "ru_maxrss",
            "baseline_bytes": base, "init_bytes": after_init - base,
            "peak_bytes": peak - base, "init_s": init}


def measure_in_subprocess(runtime: str, model: str, feeds_path: str, runs: int = 3,
                          threads: int = 0, level: str = "all",
                          timeout: float = 600.0) -> Dict[str, object]:
    """``measure`` in a new Python process; {"error": ...} if it fails."""
    cmd = [sys.executable, "-m", "onnxrun.bench.memory", runtime, model, feeds_path,
           "--runs", str(runs), "--threads", str(threads), "--level", level]
    env = dict(os.environ)
    if threads:
        env.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {proc.returncode}: {tail[0][:200]}"}
    return json.loads(lines[-1])


def main(argv: Optional[list] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m onnxrun.bench.memory")
    p.add_argument("runtime", choices=["onnxrun", "onnxruntime"])
    p.add_argument("model")
    p.add_argument("feeds", help=".npz of the inputs")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--level", default="all", choices=LEVELS)
    a = p.parse_args(argv)
    result = measure(a.runtime, a.model, a.feeds, a.runs, a.threads, a.level)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
