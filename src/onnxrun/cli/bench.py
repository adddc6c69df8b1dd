"""Benchmark a model (or the suite) on onnxrun side by side with onnxruntime.

``onnxrun bench MODEL [--compare onnxruntime] [--runs N] [--warmup N] [--threads N]``: median
latency of each runtime over interleaved runs, their ratio, session initialization times,
peak memory of each (separate processes) and the largest output difference.
``onnxrun bench --suite [--only NAME ...]``: the same over every suite model, as one table,
with the geometric mean of the ratios. See docs/benchmarks.md.
"""

from __future__ import annotations

import sys
import time


def add_arguments(p) -> None:
    p.add_argument("model", nargs="?", help="model path (omit with --suite)")
    p.add_argument("--suite", action="store_true", help="run the benchmark suite")
    p.add_argument("--only", nargs="+", metavar="NAME", help="suite models to run")
    p.add_argument("--list", action="store_true", help="list the suite models and exit")
    p.add_argument("--compare", default="onnxruntime", choices=["onnxruntime", "none"],
                   help="peer runtime (default onnxruntime; 'none' times onnxrun alone)")
    p.add_argument("--runs", type=int, help="timed runs of each runtime (default 10; in the "
                   "suite, each model's own count)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs of each first (1)")
    p.add_argument("--threads", type=int, default=0,
                   help="intra_op_num_threads of both (0: each runtime's default)")
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


def main(args) -> int:
    from ..bench import suite
    if args.list:
        for m in suite.SUITE:
            print(f"{m.name:18s} {m.kind:9s} default runs {m.runs}")
        return 0
    if args.suite:
        return _suite(args)
    if not args.model:
        raise ValueError("give a MODEL or --suite")
    from ..bench.runner import compare
    from .inputs import parse_pairs
    dims = {k: int(v) for k, v in parse_pairs(args.dim, "--dim").items()}
    peer = None if args.compare == "none" else args.compare
    r = compare(args.model, runs=args.runs or 10, warmup=args.warmup, threads=args.threads,
                level=args.level, dims=dims, seed=args.seed, peer=peer,
                measure_memory=not args.no_memory, memory_runs=args.memory_runs, log=_log)
    print(f"model: {args.model} ({r.nodes} nodes)")
    if r.error:
        print(f"error: {r.error}")
        return 1
    print(f"runs: {len(r.ours)} timed each, interleaved, after {args.warmup} warm-up; "
          f"threads: {args.threads or 'default'}; optimization level: {args.level}")
    print(suite.table([suite.row(r)]))
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
        from .inputs import make_feeds
        sess = make_session("onnxrun", args.model, args.threads, args.level)
        feeds = make_feeds(sess, {}, dims, args.seed)
        sess.run(None, feeds)
        for line in report(profile(sess, feeds, runs=max(3, min(10, args.runs or 5)))):
            print(line)
    return 0


def _suite(args) -> int:
    from ..bench import suite
    from ..bench.runner import Result, compare
    models = suite.select(args.only)
    peer = None if args.compare == "none" else args.compare
    results = []
    from ..bench.memory import import_runtime
    loads = [f"onnxrun kernels {import_runtime('onnxrun') * 1e3:.0f} ms"]
    if peer:
        loads.append(f"{peer} {import_runtime(peer) * 1e3:.0f} ms")
    started = time.perf_counter()
    for m in models:
        _log(f"[{m.name}]")
        try:
            path = m.path()
        except Exception as exc:  # noqa: BLE001 - reported in the table
            results.append(Result(m.name, "", error=f"model: {exc}"[:300]))
            continue
        runs = args.runs if args.runs else m.runs
        level = m.level or args.level
        r = compare(path, name=m.name, runs=runs, warmup=args.warmup, threads=args.threads,
                    level=level, dims=m.dims, seed=args.seed, peer=peer,
                    measure_memory=not args.no_memory, memory_runs=args.memory_runs,
                    log=_log)
        r.level = level
        results.append(r)
        _log("  " + " | ".join(suite.row(r)))
    print(f"onnxrun bench --suite: {len(results)} models, threads: {args.threads or 'default'},"
          f" optimization level: {args.level}, warm-up {args.warmup}, "
          f"took {time.perf_counter() - started:.0f} s")
    print(f"one-time imports, not in the init times: {', '.join(loads)}")
    print()
    print(suite.table([suite.row(r) for r in results]))
    print()
    diagnostic = {m.name for m in models if m.diagnostic}
    if diagnostic:
        print(f"not in the means and targets: {', '.join(sorted(diagnostic))} (own level: "
              f"{', '.join(m.level or args.level for m in models if m.diagnostic)})")
    for line in suite.summary(results, {m.name for m in models if m.per_node}, diagnostic):
        print(line)
    return 1 if any(r.error for r in results) else 0
