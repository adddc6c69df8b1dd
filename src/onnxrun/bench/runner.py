"""One model, both runtimes: interleaved timed runs, medians, init times, output agreement and
(optionally) peak memory measured in a separate process per runtime."""

from __future__ import annotations

import gc
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np

from . import memory

#: session inits per runtime (the fastest counts), and the init time above which one is enough
INIT_TRIES = 3
INIT_RETRY_LIMIT = 2.0


@dataclass
class Result:
    """What ``compare`` measured; times in seconds, memory in bytes, ``None`` where not run."""

    name: str
    model: str
    nodes: int = 0
    runs: int = 0
    ours: List[float] = field(default_factory=list)
    theirs: List[float] = field(default_factory=list)
    level: str = "all"
    init_ours: Optional[float] = None
    init_theirs: Optional[float] = None
    peak_ours: Optional[int] = None
    peak_theirs: Optional[int] = None
    max_abs_diff: Optional[float] = None
    error: Optional[str] = None
    notes: List[str] = field(default_factory=list)
    threads: int = 0  # intra_op_num_threads of both (0: each runtime's default)
    per_call: bool = False  # times are per call of a stream

    @property
    def median_ours(self) -> Optional[float]:
        return statistics.median(self.ours) if self.ours else None

    @property
    def median_theirs(self) -> Optional[float]:
        return statistics.median(self.theirs) if self.theirs else None

    @property
    def ratio(self) -> Optional[float]:
        a, b = self.median_ours, self.median_theirs
        return a / b if a is not None and b else None

    @property
    def init_ratio(self) -> Optional[float]:
        a, b = self.init_ours, self.init_theirs
        return a / b if a is not None and b else None

    @property
    def memory_ratio(self) -> Optional[float]:
        a, b = self.peak_ours, self.peak_theirs
        return a / b if a is not None and b and b > 0 else None


@dataclass
class Stream:
    """A model called once per frame with state fed back, as a real stream calls it.

    ``make(node_args, rng, calls)`` returns the first call's extra feeds (initial state,
    constants) and one dict of frame feeds per call; ``feedback`` maps output names to the
    input names they feed on the next call.
    """

    make: Callable
    feedback: Dict[str, str]


def prepare_feeds(sess, dims=None, seed: int = 0, inputs: Optional[Callable] = None,
                  stream: Optional[Stream] = None, calls: int = 1):
    """Feeds for ``sess``: random of each input's type and shape, some replaced by
    ``inputs(node_args, rng)``; with ``stream``, also one frame per call. Returns
    (feeds, frames or None, feedback)."""
    from ..cli.inputs import make_feeds
    rng = np.random.default_rng(seed)
    feeds = make_feeds(sess, {}, dict(dims or {}), seed)
    if inputs is not None:
        feeds.update(inputs(sess.get_inputs(), rng))
    if stream is None:
        return feeds, None, {}
    first, frames = stream.make(sess.get_inputs(), rng, calls)
    feeds.update(first)
    feeds.update(frames[0])
    return feeds, frames, stream.feedback


def interleaved(sessions, feeds, frames, feedback, warmup, runs, times, bar=None,
                deadline: Optional[float] = None):
    """``warmup`` + ``runs`` calls of every session, alternating sessions call by call; the
    timed calls' durations go to ``times[k]``. ``frames`` (one dict per call, or None) update
    the feeds before each call; ``feedback`` maps output names to the inputs they feed next.
    Past ``deadline`` (a ``time.perf_counter`` value) it stops after 3 timed calls.
    Returns each session's last outputs."""
    clock = time.perf_counter
    outs = [None] * len(sessions)
    names = [[o.name for o in s.get_outputs()] for s in sessions]
    state = [dict(feeds) for _ in sessions]
    for i in range(warmup + runs):
        if deadline is not None and i >= warmup + 3 and clock() > deadline:
            break
        if i >= warmup and bar is not None:
            bar.update()
        for k, sess in enumerate(sessions):
            if frames is not None:
                state[k].update(frames[i])
            t0 = clock()
            out = sess.run(None, state[k])
            took = clock() - t0
            if i >= warmup:
                times[k].append(took)
            for o_name, i_name in feedback.items():
                state[k][i_name] = out[names[k].index(o_name)]
            outs[k] = out
    return outs


def count_nodes(path: str) -> int:
    import onnx
    return len(onnx.load(path, load_external_data=False).graph.node)


def max_abs_diff(ours, theirs) -> float:
    """Largest absolute difference over all outputs (inf on a shape or kind mismatch)."""
    worst = 0.0
    for a, b in zip(ours, theirs):
        if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
            if len(a) != len(b):
                return float("inf")
            worst = max(worst, max_abs_diff(a, b))
            continue
        if isinstance(a, dict) or isinstance(b, dict):
            continue
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return float("inf")
        if a.size == 0:
            continue
        if a.dtype.kind in "biufc" and b.dtype.kind in "biufc":
            d = np.abs(a.astype(np.float64) - b.astype(np.float64))
            both_nan = np.isnan(a.astype(np.float64)) & np.isnan(b.astype(np.float64))
            d = np.where(both_nan, 0.0, d)
            worst = max(worst, float(np.nanmax(np.where(np.isnan(d), np.inf, d))))
        elif not np.array_equal(a, b):
            return float("inf")
    return worst


def compare(model: str, name: Optional[str] = None, runs: int = 10, warmup: int = 1,
            threads: int = 0, level: str = "all", dims: Optional[Dict[str, int]] = None,
            seed: int = 0, peer: Optional[str] = "onnxruntime", measure_memory: bool = True,
            memory_runs: int = 2, log=None, inputs: Optional[Callable] = None,
            stream: Optional[Stream] = None, budget: Optional[float] = None) -> Result:
    """Benchmark ``model`` on onnxrun and (unless ``peer`` is None) onnxruntime.

    Both get the same random feeds (``inputs(node_args, rng)`` may replace some with realistic
    values, e.g. token ids and attention masks). After ``warmup`` untimed runs of each, the
    timed runs alternate (ours, theirs, ours, ...) so drift in machine load hits both alike.
    ``threads`` 0 leaves both runtimes at their defaults; N sets ``intra_op_num_threads``.
    With ``stream``, each run is one call of a stream: new frame feeds every call and outputs
    fed back as inputs (each runtime keeps its own state); times are per call.
    With ``budget`` (seconds), the timed runs stop once it is spent (at least 3 each).
    """
    res = Result(name or os.path.basename(model), model, runs=runs, threads=threads,
                 per_call=stream is not None)
    say = log or (lambda msg: None)
    try:
        res.nodes = count_nodes(model)
    except Exception:  # noqa: BLE001 - informative only
        res.nodes = 0
    with open(model, "rb") as f:  # warm the page cache so neither init pays for the disk
        while f.read(1 << 24):
            pass
    memory.import_runtime("onnxrun")
    if peer:
        memory.import_runtime(peer)
    # init: each runtime's session made up to INIT_TRIES times, alternating, the fastest kept
    # (the first session of a process also pays one-time costs both runtimes have: schema
    # tables, first calls; onnxrun's Numba provider compiles kernels on a cold disk cache);
    # after two tries, tries stop once a session took over INIT_RETRY_LIMIT seconds
    ours = theirs = None
    for attempt in range(INIT_TRIES):
        say("  init onnxrun")
        ours = None
        t0 = time.perf_counter()
        try:
            ours = memory.make_session("onnxrun", model, threads, level)
        except Exception as exc:  # noqa: BLE001 - reported in the table
            res.error = f"onnxrun init: {type(exc).__name__}: {exc}"[:300]
            return res
        took = time.perf_counter() - t0
        if attempt == 0:
            first = took
        res.init_ours = took if res.init_ours is None else min(res.init_ours, took)
        if peer and (attempt == 0 or res.init_theirs is not None):
            say(f"  init {peer}")
            theirs = None
            t0 = time.perf_counter()
            try:
                theirs = memory.make_session(peer, model, threads, level)
            except Exception as exc:  # noqa: BLE001
                res.notes.append(f"{peer} init failed: {exc}"[:300])
            else:
                t = time.perf_counter() - t0
                res.init_theirs = t if res.init_theirs is None else min(res.init_theirs, t)
        # at least two tries: a first session may compile kernels the next loads from disk
        if attempt >= 1 and max(took, res.init_theirs or 0) > INIT_RETRY_LIMIT:
            break
    if first > 2 * res.init_ours and first - res.init_ours > 0.2:
        res.notes.append(f"onnxrun's first session took {first * 1e3:.0f} ms (kernels compiled "
                         f"or first calls; the init column is the fastest of the later ones)")
    feeds, frames, feedback = prepare_feeds(ours, dims, seed, inputs, stream, warmup + runs)
    say(f"  {warmup} warm-up + {runs} timed {'calls' if stream else 'runs'} each")
    from ..tools.progress import Progress
    bar = Progress(runs, f"{res.name} timed runs")  # drawn only on a terminal
    sessions = [ours] + ([theirs] if theirs is not None else [])
    try:
        deadline = None if budget is None else time.perf_counter() + budget
        outs = interleaved(sessions, feeds, frames, feedback, warmup, runs,
                           [res.ours, res.theirs], bar, deadline)
    except Exception as exc:  # noqa: BLE001
        res.error = f"run: {type(exc).__name__}: {exc}"[:300]
        return res
    finally:
        bar.close()
    out_ours, out_theirs = outs[0], (outs[1] if theirs is not None else None)
    if theirs is not None and out_ours is not None and out_theirs is not None:
        res.max_abs_diff = max_abs_diff(out_ours, out_theirs)
    del ours, theirs, out_ours, out_theirs
    gc.collect()
    if measure_memory:
        with tempfile.TemporaryDirectory(prefix="onnxrun_bench_") as tmp:
            feeds_path = os.path.join(tmp, "feeds.npz")
            try:
                np.savez(feeds_path, **feeds)
            except ValueError as exc:  # object (string) feeds need pickle; np.load refuses it
                res.notes.append(f"memory not measured: {exc}")
                return res
            for runtime in ["onnxrun"] + ([peer] if peer else []):
                say(f"  peak memory of {runtime} (separate process)")
                m = memory.measure_in_subprocess(runtime, model, feeds_path, memory_runs,
                                                 threads, level)
                if "error" in m:
                    res.notes.append(f"{runtime} memory: {m['error']}")
                    continue
                if runtime == "onnxrun":
                    res.peak_ours = int(m["peak_bytes"])
                else:
                    res.peak_theirs = int(m["peak_bytes"])
    return res
