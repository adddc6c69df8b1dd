"""Nothing in a model is ever executed as code: no pickle, eval, dynamic imports or native
libraries chosen by model content (docs/security.md)."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from onnx import helper

import onnxrun

from ._util import make_model, session, vi

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src", "onnxrun")
RUNTIME_PACKAGES = ["load", "ir", "framework", "session", "kernels", "optimizer", "providers"]
FORBIDDEN = re.compile(r"import pickle|\bpickle\.|\bmarshal\b|(?<![\w.])eval\(|(?<![\w.])exec\("
                       r"|allow_pickle\s*=\s*True|\bctypes\b|\burllib\b|import socket"
                       r"|\bsubprocess\b|os\.system|os\.popen|__import__\(")
#: (file, what) pairs reviewed as safe: they never take a name or path from a model.
ALLOWED = {("framework/threads.py", "ctypes"),  # loads numpy's own OpenBLAS to set threads
           # reads the header of a DLPack capsule the calling program hands in
           ("session/dlpack.py", "ctypes"),
           # IO binding's raw-pointer form: host memory the calling program passes by address
           # (as onnxruntime's bind_input/bind_output), and NumPy's arr.ctypes.data
           ("session/ortvalue.py", "ctypes")}


def _runtime_files():
    for pkg in RUNTIME_PACKAGES:
        for root, _, files in os.walk(os.path.join(SRC, pkg)):
            for f in files:
                if f.endswith(".py"):
                    yield os.path.join(root, f)
    for f in ("errors.py", "options.py", "__init__.py"):
        yield os.path.join(SRC, f)


def test_runtime_has_no_code_execution_primitives():
    found = []
    for path in _runtime_files():
        rel = os.path.relpath(path, SRC).replace(os.sep, "/")
        with open(path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                code = line.split("#", 1)[0]
                for m in FORBIDDEN.finditer(code):
                    what = m.group(0).strip("(. ").replace("import ", "")
                    if (rel, what) not in ALLOWED:
                        found.append(f"{rel}:{lineno}: {line.strip()}")
    assert not found, "\n".join(found)


def test_custom_op_libraries_are_never_loaded(tmp_path):
    lib = tmp_path / "evil.so"
    lib.write_bytes(b"\x7fELF")
    so = onnxrun.SessionOptions()
    with pytest.raises(onnxrun.NotImplemented):
        so.register_custom_ops_library(str(lib))


@pytest.mark.parametrize("domain,op", [("os", "system"), ("builtins", "eval"),
                                       ("onnxrun.kernels", "REGISTRY"), ("", "__import__"),
                                       ("subprocess", "run")])
def test_op_names_are_not_looked_up_as_python(domain, op):
    node = helper.make_node(op, ["X"], ["Y"], name="n", domain=domain)
    extra = [(domain, 1)] if domain else []
    model = make_model([node], [vi("X", shape=[1])], [vi("Y", shape=[1])], extra_opsets=extra)
    with pytest.raises(onnxrun.OnnxRuntimeError):
        session(model).run(None, {"X": np.ones(1, np.float32)})
