"""A/B of onnxrun on a suite model: two onnxrun sessions, A with a knob turned or older
kernels, B as installed, each call right after an onnxruntime call as ``onnxrun bench --suite``
alternates them (a call after another runtime's finds colder caches: timing onnxrun sessions
back to back flatters the second by ~15% on a small model). Stream models (``vad``) are called
frame by frame with their state fed back.

    ONNXRUN_BENCH_CACHE=/work/bench_cache python scripts/bench_ab.py vad \\
        [--threads 1] [--rounds 3] [--calls N] \\
        [--set onnxrun.kernels.nn._conv_small:MAX_COLS=0] [--kernel-attr stacked=None] \\
        [--old HEAD~1:src/onnxrun/kernels/tensor/gather.py]

``--set MODULE:NAME=VALUE`` (repeatable) holds while session A is created and first run
(per-shape plans are made then) and is undone before timing; ``--kernel-attr NAME=VALUE`` sets
an attribute on every kernel of A (subgraphs included) that has it; ``--old REV:FILE``
(repeatable) gives A the kernels that FILE registered at git revision REV (loaded into a
private registry). Without any, A and B are the same: a control whose ratio should be about 1.
Prints per-round medians and the median of rounds for A, B and onnxruntime, with the ratios.
"""

from __future__ import annotations

import argparse
import ast
import functools
import importlib
import os
import statistics
import subprocess
import time

def _kernels(plan):
    for step in plan.steps:
        yield step.fn
        for attr in ("then_branch", "else_branch", "body"):
            branch = getattr(step.fn, attr, None)
            if branch is not None:
                yield from _kernels(branch.plan)

def _old_registry(specs):
    """A private registry holding what each ``REV:FILE`` registered at that revision."""
    from onnxrun.kernels import registry as reg
    private = reg.KernelRegistry()
    real = reg.kernel
    reg.kernel = functools.partial(real, registry=private)
    try:
        for spec in specs:
            rev, path = spec.split(":", 1)
            src = subprocess.run(["git", "show", f"{rev}:{path}"], check=True,
                                 capture_output=True, text=True).stdout
            parts = os.path.splitext(path)[0].split("/")
            package = ".".join(parts[parts.index("onnxrun"):-1])
            name = f"{package}._ab_old_{parts[-1]}"
            module = type(reg)(name)
            module.__package__ = package
            exec(compile(src, f"{rev}:{path}", "exec"), module.__dict__)  # noqa: S102
    finally:
        reg.kernel = real
    return private

def _use_old_kernels(sess, private) -> int:
    """Replace the kernels of ``sess`` (subgraphs included) that ``private`` has; returns
    how many were replaced."""
    ctx = sess._ctx
    count = 0

    def walk(plan):
        nonlocal count
        for k, step in enumerate(plan.steps):
            node = step.node
            kdef = private.lookup(node.domain, node.op_type, node.since_version or 1)
            if kdef is not None:
                fn = kdef.factory(ctx.info_for(node, plan.graph,
                                               ctx.providers_by_name.get(step.provider)))
                step.fn = step.base_fn = fn
                plan.fast[k] = (fn,) + tuple(plan.fast[k][1:])
                plan.flat[k] = (fn,) + tuple(plan.flat[k][1:])
                count += 1
            for attr in ("then_branch", "else_branch", "body"):
                branch = getattr(step.fn, attr, None)
                if branch is not None:
                    walk(branch.plan)

    walk(sess._core.plan)
    return count

def _assignment(text: str):
    name, value = text.split("=", 1)
    return name, ast.literal_eval(value)

def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="suite model name (onnxrun bench --list)")
    p.add_argument("--threads", type=int, default=0, help="intra_op_num_threads (0: default)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--calls", type=int, default=0, help="calls per round (default: the "
                   "suite's run count)")
    p.add_argument("--set", action="append", default=[], metavar="MODULE:NAME=VALUE")
    p.add_argument("--kernel-attr", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--old", action="append", default=[], metavar="REV:FILE")
    args = p.parse_args(argv)

    import onnxruntime as ort

    import onnxrun
    from onnxrun.bench.runner import prepare_feeds
    from onnxrun.bench.suite import select
    spec, = select([args.model])
    path = spec.path()
    calls = args.calls or spec.runs

    def session(mod):
        so = mod.SessionOptions()
        if args.threads:
            so.intra_op_num_threads = args.threads
        return mod.InferenceSession(path, so, providers=["CPUExecutionProvider"])

    probe = session(onnxrun)
    first, frames, feedback = prepare_feeds(probe, spec.dims, 0, spec.inputs, spec.stream,
                                            calls)
    frames = frames or [{}] * calls
    names = [o.name for o in probe.get_outputs()]

    undo = []
    for item in args.set:
        target, assignment = item.split(":", 1)
        name, value = _assignment(assignment)
        module = importlib.import_module(target)
        undo.append((module, name, getattr(module, name)))
        setattr(module, name, value)
    a = session(onnxrun)
    for kernel in _kernels(a._core.plan):
        for name, value in map(_assignment, args.kernel_attr):
            if hasattr(kernel, name):
                setattr(kernel, name, value)
    if args.old:
        print(f"A: {_use_old_kernels(a, _old_registry(args.old))} kernels from {args.old}")
    a.run(None, {**first, **frames[0]})
    for module, name, value in undo:
        setattr(module, name, value)

    sessions = [session(ort), a, session(ort), session(onnxrun)]
    per_round = [[] for _ in sessions]
    clock = time.perf_counter
    for _ in range(args.rounds):
        state = [dict(first) for _ in sessions]
        times = [[] for _ in sessions]
        for frame in frames:
            for k, s in enumerate(sessions):
                state[k].update(frame)
                t0 = clock()
                out = s.run(None, state[k])
                times[k].append(clock() - t0)
                for out_name, in_name in feedback.items():
                    state[k][in_name] = out[names.index(out_name)]
        for k in range(len(sessions)):
            per_round[k].append(statistics.median(times[k][1:] or times[k]) * 1e3)
    rows = {"A": per_round[1], "B": per_round[3], "onnxruntime": per_round[0] + per_round[2]}
    med = {k: statistics.median(v) for k, v in rows.items()}
    for k, v in rows.items():
        print(f"{k:12s} ms/run per round: {' '.join(f'{x:.3f}' for x in v)}  "
              f"(median {med[k]:.3f})")
    ref = med["onnxruntime"]
    print(f"{args.model} threads={args.threads or 'default'}: B/A {med['B'] / med['A']:.2f}; "
          f"ratio to onnxruntime A {med['A'] / ref:.2f}, B {med['B'] / ref:.2f}")

if __name__ == "__main__":
    main()
