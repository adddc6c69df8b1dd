"""Compare onnxrun's results with onnxruntime's, output by output or to the first diverging node."""

from __future__ import annotations

import os


def add_arguments(p) -> None:
    p.add_argument("model", help="model path")
    p.add_argument("--against", default="onnxruntime", choices=["onnxruntime"],
                   help="reference runtime (default: onnxruntime)")
    p.add_argument("--per-node", action="store_true",
                   help="compare every node's outputs and report the first that diverges")
    p.add_argument("--rtol", type=float, default=1e-4, help="relative tolerance (default 1e-4)")
    p.add_argument("--atol", type=float, default=1e-5, help="absolute tolerance (default 1e-5)")
    p.add_argument("--input", action="append", metavar="NAME=FILE.npy",
                   help="feed an input from a .npy file (repeatable)")
    p.add_argument("--dim", action="append", metavar="NAME=VALUE",
                   help="value of a symbolic dimension for random inputs (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed of random inputs")
    p.add_argument("--level", default="all", choices=["disable", "basic", "extended", "all"],
                   help="onnxrun's graph optimization level (onnxruntime uses the same)")


def main(args) -> int:
    import numpy as np

    from ..tools.compare import compare_with_onnxruntime
    from .inputs import parse_pairs
    if not os.path.exists(args.model):
        raise FileNotFoundError(f"no such model file: {args.model}")
    feeds = {k: np.load(v, allow_pickle=False)
             for k, v in parse_pairs(args.input, "--input").items()}
    dims = {k: int(v) for k, v in parse_pairs(args.dim, "--dim").items()}
    result = compare_with_onnxruntime(args.model, feeds=feeds, per_node=args.per_node,
                                      rtol=args.rtol, atol=args.atol, dims=dims,
                                      seed=args.seed, level=args.level, show_progress=True)
    print(f"model: {args.model}   against: {args.against}")
    print(result.report())
    return 0 if result.ok else 1
