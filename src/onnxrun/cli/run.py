"""Run a model (or, with no MODEL, the bundled digit classifier) and summarize its outputs."""

from __future__ import annotations

import os
import time

import numpy as np

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")


def add_arguments(p) -> None:
    p.add_argument("model", nargs="?", help="model path (default: the bundled digits model)")
    p.add_argument("--input", action="append", metavar="NAME=FILE.npy",
                   help="feed an input from a .npy file (repeatable)")
    p.add_argument("--dim", action="append", metavar="NAME=VALUE",
                   help="value of a symbolic dimension for random inputs (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed of random inputs")
    p.add_argument("--level", default="all", choices=["disable", "basic", "extended", "all"])
    p.add_argument("--save", metavar="DIR", help="save each output as DIR/<name>.npy")


def main(args) -> int:
    import onnxrun
    if args.model is None:
        return run_default()
    from .inputs import make_feeds, parse_pairs
    opts = onnxrun.SessionOptions()
    opts.graph_optimization_level = _LEVELS[args.level]
    t0 = time.perf_counter()
    sess = onnxrun.InferenceSession(args.model, opts)
    t1 = time.perf_counter()
    dims = {k: int(v) for k, v in parse_pairs(args.dim, "--dim").items()}
    feeds = make_feeds(sess, parse_pairs(args.input, "--input"), dims, args.seed)
    t2 = time.perf_counter()
    outputs = sess.run(None, feeds)
    t3 = time.perf_counter()
    print(f"model: {args.model}")
    print(f"session initialization: {(t1 - t0) * 1e3:.1f} ms, run: {(t3 - t2) * 1e3:.1f} ms")
    for arg, value in zip(sess.get_outputs(), outputs):
        print(f"  {arg.name}: {summarize(value)}")
    if args.save:
        os.makedirs(args.save, exist_ok=True)
        for arg, value in zip(sess.get_outputs(), outputs):
            if isinstance(value, np.ndarray):
                np.save(os.path.join(args.save, _safe(arg.name) + ".npy"), value)
    return 0


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def summarize(value) -> str:
    if value is None:
        return "None (empty optional)"
    if isinstance(value, list):
        return f"sequence of {len(value)}" + (f", first: {summarize(value[0])}" if value else "")
    if isinstance(value, dict):
        return f"map of {len(value)} entries"
    arr = np.asarray(value)
    text = f"{arr.dtype} {list(arr.shape)}"
    if arr.size and arr.dtype.kind in "fiub":
        a = arr.astype(np.float64)
        text += f"  min {a.min():.4g}  max {a.max():.4g}  mean {a.mean():.4g}"
    return text


def run_default() -> int:
    """The bundled digits classifier on held-out samples: predictions beside true labels."""
    import onnxrun
    path = os.path.join(DATA, "digits.onnx")
    sess = onnxrun.InferenceSession(path)
    samples = np.load(os.path.join(DATA, "digits_samples.npz"))
    images, labels = samples["images"], samples["labels"]
    logits, predicted = sess.run(None, {"image": images})
    print(f"onnxrun {onnxrun.__version__}: bundled digit classifier ({path})")
    print(f"{'sample':>6}  {'predicted':>9}  {'true':>4}")
    for i, (p, t) in enumerate(zip(predicted, labels)):
        mark = "" if p == t else "  <- wrong"
        print(f"{i:6d}  {int(p):9d}  {int(t):4d}{mark}")
    accuracy = float(np.mean(predicted == labels))
    print(f"accuracy: {accuracy:.3f} ({int(np.sum(predicted == labels))}/{len(labels)})")
    return 0


_LEVELS = {"disable": 0, "basic": 1, "extended": 2, "all": 99}
