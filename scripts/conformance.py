"""Run the ONNX backend suite through onnxrun and print what passes.

    python scripts/conformance.py                 # everything, summary
    python scripts/conformance.py -k conv -v      # cases whose name contains 'conv', with errors
    python scripts/conformance.py --failing       # list failing cases with a one-line reason
    python scripts/conformance.py --toolmade      # models of scripts/toolmade_models.py
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
import traceback
import warnings

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
from tests.backend import harness  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", action="append", default=[], help="substring of case names (any)")
    ap.add_argument("--kind", action="append", default=[])
    ap.add_argument("-v", action="store_true", help="print the error of each failing case")
    ap.add_argument("--failing", action="store_true")
    ap.add_argument("--tb", action="store_true", help="full tracebacks")
    ap.add_argument("--toolmade", action="store_true",
                    help="run the models scripts/toolmade_models.py built (in --cache)")
    ap.add_argument("--cache", default=os.path.join(ROOT, ".cache", "toolmade"))
    args = ap.parse_args()
    if args.toolmade:
        return toolmade(args.cache, args.k)
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


def toolmade(cache: str, patterns) -> int:
    """Run every model of ``cache``/manifest.json in onnxrun and onnxruntime; one line each."""
    import numpy as np

    from tests.tools import toolmade as tm
    manifest = os.path.join(cache, "manifest.json")
    if not os.path.exists(manifest):
        print(f"no {manifest}: build the models first (python scripts/toolmade_models.py)")
        return 1
    with open(manifest) as f:
        entries = [e for e in json.load(f) if not patterns or any(k in e["name"] for k in patterns)]
    passed, unbuilt, missing = 0, [], collections.Counter()
    t0 = time.time()
    for e in entries:
        if "error" in e:
            unbuilt.append(e)
            continue
        with np.load(os.path.join(cache, e["feeds"])) as data:
            feeds = {k: data[k] for k in data.files}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = tm.compare(e["name"], os.path.join(cache, e["path"]), feeds, e["quantized"])
        passed += r.ok
        missing.update(r.missing)
        diff = "" if r.max_diff is None else f" (max diff {r.max_diff:.3g})"
        print(f"{'ok  ' if r.ok else 'FAIL'} {e['name']:28s} {r.detail}{diff}", flush=True)
    for e in unbuilt:
        print(f"--   {e['name']:28s} could not be built: {e['error']}")
    if missing:
        print("ops missing, by number of models needing them: "
              + ", ".join(f"{op} ({n})" for op, n in missing.most_common()))
    built = len(entries) - len(unbuilt)
    print(f"tool-made models: {passed} of {built} run and match"
          + (f" ({len(unbuilt)} more could not be built)" if unbuilt else "")
          + f" ({time.time() - t0:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
