"""Benchmark a model (or the suite) on onnxrun side by side with onnxruntime.

``onnxrun bench MODEL [--compare onnxruntime] [--runs N] [--warmup N] [--threads N]``: median
latency of each runtime over interleaved runs, their ratio, session initialization times,
peak memory of each (separate processes) and the largest output difference.
``onnxrun bench --suite [--group user|classic|all] [--quick] [--only NAME ...]
[--threads default|1|both]``: the same over the suite's models, as one table with a column
group per thread setting, with the geometric mean and worst of the ratios against the targets.
See docs/benchmarks.md.
"""

from __future__ import annotations

import os
import sys
import time


def add_arguments(p) -> None:
    p.add_argument("model", nargs="?", help="model path or suite model name (omit with "
                   "--suite); a suite name brings its dimensions and realistic inputs")
    p.add_argument("--suite", action="store_true", help="run the benchmark suite")
    p.add_argument("--only", nargs="+", metavar="NAME", help="suite models to run")
    p.add_argument("--group", default="user", choices=["user", "classic", "all"],
                   help="suite models: user-like (default), the classic suite, or all")
    p.add_argument("--quick", action="store_true",
                   help="a few small user models (development)")
    p.add_argument("--list", action="store_true", help="list the suite models and exit")
    p.add_argument("--compare", default="onnxruntime", choices=["onnxruntime", "none"],
                   help="peer runtime (default onnxruntime; 'none' times onnxrun alone)")
    p.add_argument("--runs", type=int, help="timed runs of each runtime (default 10; in the "
                   "suite, each model's own count)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs of each first (1)")
    p.add_argument("--budget", type=float, default=15.0,
                   help="suite: seconds of timed runs per model and thread setting, after "
                        "which the runs stop (at least 3 each; default 15)")
    p.add_argument("--threads", default=None, metavar="default|1|both|N",
                   help="intra_op_num_threads of both: 'default' (0) leaves each runtime's "
                        "default, N sets it, 'both' runs at default and at 1 (default: "
                        "'both' with --suite, 'default' for one model)")
    p.add_argument("--level", default="all", choices=["disable", "basic", "extended", "all"],
                   help="graph optimization level of both")
    p.add_argument("--dim", action="append", metavar="NAME=VALUE",
                   help="value of a symbolic dimension for the random inputs (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    p.add_argument("--no-memory", action="store_true",
                   help="skip the peak-memory processes")
    p.add_argument("--profile", action="store_true",
                   help="also profile onnxrun per op type and per node (RunOptions.hooks)")
    p.add_argument("--memory-runs", type=int, default=2,
                   help="runs in each peak-memory process (2)")


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def thread_settings(value, suite: bool):
    """``--threads`` as a list of intra_op settings (0: each runtime's default)."""
    if value is None:
        value = "both" if suite else "default"
    if value == "both":
        return [0, 1]
    if value == "default":
        return [0]
    try:
        n = int(value)
    except ValueError:
        raise ValueError(f"--threads {value!r}: expected default, both or a count") from None
    if n < 0:
        raise ValueError(f"--threads {n}: expected a count >= 0")
    return [n]


def main(args) -> int:
    from ..bench import suite
    if args.list:
        for m in suite.select(args.only, args.group, args.quick):
            runs = f"{m.runs} calls" if m.stream else f"{m.runs} runs"
            print(f"{m.name:24s} {m.group:8s} {m.kind:9s} {runs:10s} {m.what}")
        return 0
    if args.suite:
        return _suite(args)
    if not args.model:
        raise ValueError("give a MODEL or --suite")
    settings = thread_settings(args.threads, suite=False)
    if len(settings) > 1:
        raise ValueError("--threads both is for --suite; give default or a count")
    threads = settings[0]
    from ..bench.report import setting_name, single_table
    from ..bench.runner import compare
    from .inputs import parse_pairs
    dims = {k: int(v) for k, v in parse_pairs(args.dim, "--dim").items()}
    # a suite model's name stands for its file, dimensions and realistic inputs
    entry = None
    if not os.path.exists(args.model) and args.model in {m.name for m in suite.SUITE}:
        entry = suite.select([args.model])[0]
        args.model = entry.path(log=_log)
        dims = {**(entry.dims or {}), **dims}
    inputs = entry.inputs if entry else None
    stream = entry.stream if entry else None
    peer = None if args.compare == "none" else args.compare
    r = compare(args.model, name=entry.name if entry else None, runs=args.runs or 10,
                warmup=args.warmup, threads=threads, level=args.level, dims=dims,
                seed=args.seed, peer=peer,
                measure_memory=not args.no_memory, memory_runs=args.memory_runs, log=_log,
                inputs=inputs, stream=stream)
    print(f"model: {args.model} ({r.nodes} nodes)")
    if r.error:
        print(f"error: {r.error}")
        return 1
    print(f"runs: {len(r.ours)} timed each, interleaved, after {args.warmup} warm-up; "
          f"threads: {setting_name(threads)}; optimization level: {args.level}")
    print(single_table(r))
    ours = r.median_ours
    print(f"onnxrun median {ours * 1e3:.3f} ms (min {min(r.ours) * 1e3:.3f}, "
          f"max {max(r.ours) * 1e3:.3f})")
    if r.theirs:
        print(f"{peer} median {r.median_theirs * 1e3:.3f} ms (min {min(r.theirs) * 1e3:.3f}, "
              f"max {max(r.theirs) * 1e3:.3f}); ratio onnxrun/{peer}: {r.ratio:.2f}")
    if r.nodes:
        print(f"per node: onnxrun {ours / r.nodes * 1e6:.2f} us"
              + (f", {peer} {r.median_theirs / r.nodes * 1e6:.2f} us" if r.theirs else ""))
    if r.max_abs_diff is not None:
        print(f"outputs: max abs diff {r.max_abs_diff:.3g}")
    for n in r.notes:
        print(f"note: {n}")
    if args.profile:
        from ..bench.memory import make_session
        from ..bench.profile import profile, report
        from ..bench.runner import prepare_feeds
        sess = make_session("onnxrun", args.model, threads, args.level)
        feeds, _, _ = prepare_feeds(sess, dims, args.seed, inputs, stream)
        sess.run(None, feeds)
        p = profile(sess, feeds, runs=max(3, min(10, args.runs or 5)),
                    nested=stream is not None)
        for line in report(p):
            print(line)
    return 0


def _suite(args) -> int:
    from ..bench import report, suite
    from ..bench.memory import import_runtime
    from ..bench.models.scripted import ModelMissing
    from ..bench.runner import Result, compare
    models = suite.select(args.only, args.group, args.quick)
    settings = thread_settings(args.threads, suite=True)
    peer = None if args.compare == "none" else args.compare
    loads = [f"onnxrun kernels {import_runtime('onnxrun') * 1e3:.0f} ms"]
    if peer:
        loads.append(f"{peer} {import_runtime(peer) * 1e3:.0f} ms")
    started = time.perf_counter()
    entries = []
    for m in models:
        _log(f"[{m.name}]")
        entry = report.Entry(m)
        entries.append(entry)
        try:
            path = m.path(log=_log)
        except ModelMissing as exc:
            entry.skipped = str(exc)
            _log(f"  skipped: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - reported in the table
            entry.results[settings[0]] = Result(m.name, "", error=f"model: {exc}"[:300])
            continue
        level = m.level or args.level
        for k, threads in enumerate(settings):
            _log(f"  {report.setting_name(threads)}")
            r = compare(path, name=m.name, runs=args.runs or m.runs, warmup=args.warmup,
                        threads=threads, level=level, dims=m.dims, seed=args.seed, peer=peer,
                        measure_memory=k == 0 and not args.no_memory,
                        memory_runs=args.memory_runs, log=_log, inputs=m.inputs,
                        stream=m.stream, budget=args.budget)
            r.level = level
            entry.results[threads] = r
            if r.error and k == 0:
                break
        _log("  " + " | ".join(report.row(entry, settings)))
    what = ", ".join(report.setting_name(t) for t in settings)
    print(f"onnxrun bench --suite: {len(entries)} models, threads: {what} (both runtimes), "
          f"optimization level: {args.level}, warm-up {args.warmup}, "
          f"took {time.perf_counter() - started:.0f} s")
    print(f"one-time imports, not in the init times: {', '.join(loads)}")
    print(report.legend(settings))
    print("ms: median per run; for stream models (runs in calls), median per call; init and "
          "peak memory at the first setting (peak: separate process per runtime)")
    print()
    print(report.suite_table(entries, settings))
    print()
    diagnostic = [m for m in models if m.diagnostic]
    if diagnostic:
        print("not in the means and targets: "
              + ", ".join(f"{m.name} (own level: {m.level or args.level})" for m in diagnostic))
    for line in report.summary(entries, settings):
        print(line)
    print(f"runs: each model's own count (--runs overrides), cut after --budget "
          f"{args.budget:g} s of timed runs per model and setting (at least 3)")
    failed = [e for e in entries if not e.model.expect_fail
              and any(r.error for r in e.results.values())]
    return 1 if failed else 0
