"""Run the ONNX backend suite through onnxrun and print what passes.

    python scripts/conformance.py                 # everything, summary
    python scripts/conformance.py -k conv -v      # cases whose name contains 'conv', with errors
    python scripts/conformance.py --failing       # list failing cases with a one-line reason
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
import traceback
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tests.backend import harness  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", action="append", default=[], help="substring of case names (any)")
    ap.add_argument("--kind", action="append", default=[])
    ap.add_argument("-v", action="store_true", help="print the error of each failing case")
    ap.add_argument("--failing", action="store_true")
    ap.add_argument("--tb", action="store_true", help="full tracebacks")
    args = ap.parse_args()
    kinds = args.kind or ["node", "simple", "pytorch-converted", "pytorch-operator", "light"]
    cases = harness.all_cases(kinds)
    if args.k:
        cases = [c for c in cases if any(k in c.name for k in args.k)]
    excluded = harness.excluded()
    passed, failed = [], []
    by_kind = collections.Counter()
    t0 = time.time()
    for c in cases:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                harness.run_case(c)
            passed.append(c)
            by_kind[c.kind, "pass"] += 1
        except BaseException as e:  # noqa: BLE001
            if isinstance(e, KeyboardInterrupt):
                raise
            msg = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]
            failed.append((c, msg))
            by_kind[c.kind, "fail"] += 1
            if args.tb:
                traceback.print_exc()
    if args.v or args.failing:
        for c, msg in failed:
            tag = " [excluded]" if c.name in excluded else ""
            print(f"FAIL {c.kind}/{c.name}{tag}: {msg}")
    for kind in kinds:
        p, f = by_kind[kind, "pass"], by_kind[kind, "fail"]
        if p or f:
            print(f"{kind:20s} {p:5d} passed {f:5d} failed")
    newly = [c.name for c in passed if c.name in excluded]
    if newly:
        print("excluded but passing now:", ", ".join(newly))
    print(f"{len(passed)} passed, {len(failed)} failed ({time.time() - t0:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
