"""Run onnxruntime's own Python API tests against onnxrun (or onnxruntime) and count.

    python scripts/ort_api_tests.py FOLDER [--against onnxrun|onnxruntime] [--only SUBSTR]
                                           [--json OUT.json] [--keep]

FOLDER holds onnxruntime's test files (``onnxruntime/test/python/onnxruntime_test_python*.py``
with ``helper.py`` and ``autoep_helper.py``) and optionally a ``testdata/`` folder with their
models; models it lacks are built by ``scripts/ort_api_testdata.py``. The files are copied to a
scratch folder; for onnxrun their ``import onnxruntime`` / ``from onnxruntime...`` lines are
rewritten to import onnxrun under the same name. Each file runs in its own process (as
onnxruntime's CI runs them: some set process-wide state) under pytest; the script prints one
line per test and the totals. A ``conftest.py`` supplies ``onnx.mapping`` (removed from onnx
1.19, still imported by the IO binding tests) for either runtime.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

_IMPORT = re.compile(r"^(\s*)(import|from)\s+onnxruntime(\b[\w.]*)(.*)$")

CONFTEST = '''
import sys, types
try:
    import onnx.mapping  # noqa: F401
except ImportError:
    import numpy as np
    from onnx import helper
    mapping = types.ModuleType("onnx.mapping")
    mapping.NP_TYPE_TO_TENSOR_TYPE = {}
    for elem in (1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15):
        dt = np.dtype(helper.tensor_dtype_to_np_dtype(elem))
        mapping.NP_TYPE_TO_TENSOR_TYPE[dt] = elem
    mapping.TENSOR_TYPE_TO_NP_TYPE = {v: k for k, v in mapping.NP_TYPE_TO_TENSOR_TYPE.items()}
    sys.modules["onnx.mapping"] = mapping
    import onnx
    onnx.mapping = mapping
'''


def substitute(text: str) -> str:
    """``import onnxruntime as X`` -> ``import onnxrun as X``; ``from onnxruntime.a import b``
    -> ``from onnxrun.a import b``; a bare ``import onnxruntime[.sub]`` keeps the name
    ``onnxruntime`` bound (to onnxrun)."""
    out = []
    for line in text.splitlines(keepends=True):
        m = _IMPORT.match(line.rstrip("\n"))
        if not m:
            out.append(line)
            continue
        indent, kind, sub, rest = m.groups()
        if kind == "from":
            out.append(f"{indent}from onnxrun{sub}{rest}\n")
        elif rest.strip().startswith("as "):
            out.append(f"{indent}import onnxrun{sub}{rest}\n")
        else:  # "import onnxruntime" / "import onnxruntime.backend": bind the package name
            out.append(f"{indent}import onnxrun{sub}; import onnxrun as onnxruntime{rest}\n")
    return "".join(out)


def prepare(folder: str, work: str, against: str) -> list:
    import ort_api_testdata
    files = sorted(glob.glob(os.path.join(folder, "*.py")))
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if against == "onnxrun":
            text = substitute(text)
        with open(os.path.join(work, os.path.basename(path)), "w", encoding="utf-8") as f:
            f.write(text)
    with open(os.path.join(work, "conftest.py"), "w", encoding="utf-8") as f:
        f.write(CONFTEST)
    data = os.path.join(work, "testdata")
    if os.path.isdir(os.path.join(folder, "testdata")):
        shutil.copytree(os.path.join(folder, "testdata"), data)
    os.makedirs(data, exist_ok=True)
    built = ort_api_testdata.build_missing(data)
    if built:
        print(f"built stand-ins for {len(built)} test models: {', '.join(built)}")
    return [os.path.basename(p) for p in files if os.path.basename(p).startswith("onnxruntime_test")]


def run_file(work: str, name: str, timeout: int) -> list:
    """[(test id, outcome, message)] of one test file, run in its own process."""
    xml_path = os.path.join(work, name + ".xml")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o",
           "junit_family=xunit1", f"--junitxml={xml_path}", name]
    try:
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [(name, "failed", f"timed out after {timeout} s")]
    if not os.path.exists(xml_path):
        return [(name, "failed", (proc.stdout + proc.stderr)[-500:])]
    results = []
    cases = list(ET.parse(xml_path).getroot().iter("testcase"))
    if len(cases) == 1 and not cases[0].get("classname") and len(cases[0]):
        # the file did not import: each of its tests counts as failed, with the reason
        message = (cases[0][0].get("message") or "collection failure").replace("\n", " ")
        return [(f"{name}::{cls}::{test}", "failed", "import failed: " + message[:250])
                for cls, test in _declared_tests(os.path.join(work, name))]
    for case in cases:
        test_id = f"{name}::{case.get('classname', '').split('.')[-1]}::{case.get('name')}"
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome, message = "failed", (child.get("message") or "")[:300]
                break
            if child.tag == "skipped":
                outcome, message = "skipped", (child.get("message") or "")[:200]
        results.append((test_id, outcome, message.replace("\n", " ")))
    return results


def _declared_tests(path: str) -> list:
    """(class, test method) pairs a unittest file declares."""
    import ast
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    return [(c.name, f.name) for c in tree.body if isinstance(c, ast.ClassDef)
            for f in c.body if isinstance(f, ast.FunctionDef) and f.name.startswith("test")]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--against", choices=["onnxrun", "onnxruntime"], default="onnxrun")
    ap.add_argument("--only", default="", help="run only files whose name contains this")
    ap.add_argument("--json", help="write the per-test results here")
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--keep", action="store_true", help="keep (and print) the scratch folder")
    args = ap.parse_args(argv)
    work = tempfile.mkdtemp(prefix=f"ort_api_{args.against}_")
    try:
        results = []
        for name in prepare(args.folder, work, args.against):
            if args.only in name:
                results.extend(run_file(work, name, args.timeout))
    finally:
        if args.keep:
            print(f"scratch folder: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for test_id, outcome, message in results:
        print(f"{outcome.upper():8} {test_id}" + (f"  -- {message}" if message else ""))
    counts = {k: sum(1 for r in results if r[1] == k) for k in ("passed", "failed", "skipped")}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"against": args.against, "counts": counts,
                       "results": [dict(zip(("test", "outcome", "message"), r)) for r in results]},
                      f, indent=1)
    print(f"{args.against}: {counts['passed']} passed, {counts['failed']} failed, "
          f"{counts['skipped']} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
