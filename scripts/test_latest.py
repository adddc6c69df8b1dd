"""Run the test suite against the newest releases of every dependency and report what changed.

CI installs the versions pinned in constraints.txt. This script makes a fresh virtual environment,
installs the project's test extra *without* the constraints (so pip takes the newest releases),
runs pytest there and in the pinned environment (the Python running this script, or
``--pinned-python``), and prints:

* every package whose version differs from constraints.txt (pinned -> newest);
* every test whose outcome differs (e.g. passed with the pins, failed with the newest releases).

    python scripts/test_latest.py                  # venv in a temporary folder, removed after
    python scripts/test_latest.py --venv .venv-latest --keep -- -x tests/kernels
    python scripts/test_latest.py --skip-pinned    # only the newest run, outcomes listed

Needs network access for pip. Exit status: 0 when no test got worse, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from typing import Dict, List

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pinned_versions(path: str) -> Dict[str, str]:
    out = {}
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, _, ver = line.partition("==")
            out[_norm(name)] = ver.strip()
    return out


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def installed_versions(python: str) -> Dict[str, str]:
    text = subprocess.run([python, "-m", "pip", "freeze", "--exclude-editable"],
                          capture_output=True, text=True, check=True).stdout
    return {_norm(n): v for n, _, v in (l.partition("==") for l in text.splitlines()) if v}


def run_pytest(python: str, junit: str, extra: List[str]) -> int:
    cmd = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"] + extra
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=REPO).returncode


def outcomes(junit: str) -> Dict[str, str]:
    """test id -> passed | failed | error | skipped (xfail counts as skipped in JUnit XML)."""
    result = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        tid = f"{case.get('classname')}::{case.get('name')}"
        state = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                state = {"failure": "failed"}.get(child.tag, child.tag)
        result[tid] = state
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--venv", help="where to make the newest-releases venv (default: temporary)")
    ap.add_argument("--keep", action="store_true", help="keep the venv afterwards")
    ap.add_argument("--pinned-python", default=sys.executable,
                    help="Python of the pinned environment to compare with")
    ap.add_argument("--skip-pinned", action="store_true", help="do not run the pinned suite")
    ap.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="onnxrun-latest-")  # JUnit reports
    venv = args.venv or tempfile.mkdtemp(prefix="onnxrun-latest-venv-")
    python = os.path.join(venv, "bin", "python")
    try:
        if not os.path.exists(python):
            subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "--upgrade",
                        "--upgrade-strategy", "eager", "-e", ".[test]"], cwd=REPO, check=True)

        pins = pinned_versions(os.path.join(REPO, "constraints.txt"))
        newest = installed_versions(python)
        print("\npackages that differ from constraints.txt (pinned -> newest):")
        changed = [(n, pins.get(n, "-"), v) for n, v in sorted(newest.items())
                   if pins.get(n) != v]
        for name, old, new in changed:
            print(f"  {name}: {old} -> {new}")
        if not changed:
            print("  none")

        new_xml = os.path.join(work, "latest.xml")
        run_pytest(python, new_xml, args.pytest_args)
        latest = outcomes(new_xml)
        worse = []
        if args.skip_pinned:
            bad = sorted(t for t, s in latest.items() if s in ("failed", "error"))
            print(f"\nnewest releases: {len(latest)} tests, {len(bad)} failed")
            for t in bad:
                print("  FAIL", t)
            worse = bad
        else:
            old_xml = os.path.join(work, "pinned.xml")
            run_pytest(args.pinned_python, old_xml, args.pytest_args)
            pinned = outcomes(old_xml)
            print("\ntests whose outcome differs (pinned -> newest):")
            diffs = [(t, pinned.get(t, "absent"), latest.get(t, "absent"))
                     for t in sorted(set(pinned) | set(latest))
                     if pinned.get(t) != latest.get(t)]
            for t, a, b in diffs:
                print(f"  {t}: {a} -> {b}")
            if not diffs:
                print("  none")
            worse = [t for t, a, b in diffs if b in ("failed", "error") and a not in
                     ("failed", "error")]
        print(f"\n{len(worse)} test(s) worse with the newest releases")
        return 1 if worse else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(venv, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
