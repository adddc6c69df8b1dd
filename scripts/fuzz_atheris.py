"""Open-ended fuzzing of onnxrun's model loading and running (not run in CI).

    pip install atheris
    python scripts/fuzz_atheris.py corpus_dir -max_total_time=3600      # libFuzzer flags

Feeds arbitrary bytes to ``onnxrun.InferenceSession`` (and runs the model on plausible feeds
when it loads). The corpus starts from the small seed model of tests/reliability. Any exception
outside onnxrun's error classes (and the ValueError onnxruntime raises for missing inputs) is a
finding: the input is saved by libFuzzer as ``crash-*``.

Without atheris installed, ``--random N`` runs N random mutations (bit flips, truncations,
insertions) of the seed instead, and writes findings to ``fuzz-findings/``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import traceback

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "src"))

from tests.reliability import _fuzz_common as fc  # noqa: E402


def one_input(data: bytes) -> None:
    """The fuzz target: raise on a finding, return otherwise."""
    exc = fc.check(data, np.random.default_rng(0))
    if exc is not None:
        raise exc


def _mutate(data: bytes, rnd: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        kind = rnd.randrange(4)
        if kind == 0 and b:
            pos = rnd.randrange(len(b))
            b[pos] ^= 1 << rnd.randrange(8)
        elif kind == 1 and b:
            del b[rnd.randrange(len(b)):]
        elif kind == 2:
            pos = rnd.randrange(len(b) + 1)
            b[pos:pos] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 16)))
        elif b:
            pos = rnd.randrange(len(b))
            b[pos:pos] = b[pos:pos + rnd.randint(1, 64)]
    return bytes(b)


def random_mode(n: int, seed: int) -> int:
    rnd = random.Random(seed)
    base = fc.seed_model().SerializeToString()
    os.makedirs("fuzz-findings", exist_ok=True)
    found = 0
    for i in range(n):
        data = _mutate(base, rnd)
        exc = fc.check(data, np.random.default_rng(0))
        if exc is not None:
            found += 1
            path = os.path.join("fuzz-findings", f"finding-{i}.onnx")
            with open(path, "wb") as f:
                f.write(data)
            print(f"{path}: {type(exc).__name__}: {exc}")
            traceback.print_exception(exc, limit=-3)
    print(f"{n} inputs, {found} findings")
    return 1 if found else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--random", type=int, default=0, help="run N random mutations, no atheris")
    ap.add_argument("--seed", type=int, default=0)
    args, rest = ap.parse_known_args()
    if args.random:
        return random_mode(args.random, args.seed)
    try:
        import atheris
    except ImportError:
        print("atheris is not installed; use --random N, or pip install atheris", file=sys.stderr)
        return 2
    corpus = [a for a in rest if not a.startswith("-")]
    if corpus:
        os.makedirs(corpus[0], exist_ok=True)
        seed_path = os.path.join(corpus[0], "seed.onnx")
        if not os.path.exists(seed_path):
            with open(seed_path, "wb") as f:
                f.write(fc.seed_model().SerializeToString())
    atheris.Setup([sys.argv[0]] + rest, one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
