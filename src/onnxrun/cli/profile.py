"""Time a model's nodes: time by op type, the slowest nodes, optional HTML/PNG charts."""

from __future__ import annotations

import os
import sys

_LEVELS = ["disable", "basic", "extended", "all"]


def add_arguments(p) -> None:
    p.add_argument("model", help="model path")
    p.add_argument("--runs", type=int, default=10, help="timed runs (default 10)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    p.add_argument("--input", action="append", metavar="NAME=FILE.npy",
                   help="feed an input from a .npy file (repeatable)")
    p.add_argument("--dim", action="append", metavar="NAME=VALUE",
                   help="value of a symbolic dimension for random inputs (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed of random inputs")
    p.add_argument("--level", default="all", choices=_LEVELS)
    p.add_argument("--top", type=int, default=10, help="slowest nodes listed (default 10)")
    p.add_argument("--html", metavar="OUT.html", help="write an HTML report with a bar chart")
    p.add_argument("--png", metavar="OUT.png", help="write a bar chart PNG (needs matplotlib)")


def main(args) -> int:
    import numpy as np

    from ..tools.profile_report import profile_model
    from .inputs import parse_pairs
    if not os.path.exists(args.model):
        raise FileNotFoundError(f"no such model file: {args.model}")
    if args.runs < 1:
        raise ValueError("--runs must be at least 1")
    feeds = {k: np.load(v, allow_pickle=False)
             for k, v in parse_pairs(args.input, "--input").items()}
    dims = {k: int(v) for k, v in parse_pairs(args.dim, "--dim").items()}
    report = profile_model(args.model, runs=args.runs, warmup=args.warmup, feeds=feeds,
                           dims=dims, seed=args.seed, level=args.level, top=args.top)
    print(report.text())
    if args.html:
        with open(args.html, "w", encoding="utf-8") as f:
            f.write(report.html())
        print(f"wrote {args.html}")
    if args.png:
        try:
            report.png(args.png)
        except ImportError as exc:
            print(f"onnxrun profile: {exc}", file=sys.stderr)
            return 1
        print(f"wrote {args.png}")
    return 0
