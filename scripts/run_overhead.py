"""Per-run overhead of ``InferenceSession.run`` against another version of it, in one process.

    git show main:src/onnxrun/session/inference_session.py > /tmp/base_session.py
    python scripts/run_overhead.py /tmp/base_session.py [THIS_SESSION.py]

(THIS defaults to the installed ``inference_session.py``; give the base file twice for a
control run, whose ratio should be about 1.)

Both versions' ``run`` are compiled from source into this onnxrun's ``inference_session``
module (the other must not need names the module lacks) and run a one-Mul model in interleaved batches;
prints the best batch and the median ratio (timings on a shared machine are noisy: compare
ratios, repeat).
"""

from __future__ import annotations

import ast
import statistics
import sys
import textwrap
import time
import types

import numpy as np
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

import onnxrun
from onnxrun.session import inference_session as module


def baseline_run(path: str):
    src = open(path, encoding="utf-8").read()
    cls = next(n for n in ast.parse(src).body
               if isinstance(n, ast.ClassDef) and n.name == "InferenceSession")
    fn = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "run")
    namespace: dict = {}
    exec(compile(textwrap.dedent(ast.get_source_segment(src, fn)), path, "exec"),  # noqa: S102
         module.__dict__, namespace)
    return namespace["run"]


def main(path: str, pairs: int = 60, batch: int = 500) -> None:
    other = baseline_run(path)
    this = baseline_run(sys.argv[2] if len(sys.argv) > 2 else module.__file__)  # compiled the same way, so only the code differs
    w = numpy_helper.from_array(np.array([[1, 2], [3, 4], [5, 6]], np.float32), "W")
    g = h.make_graph([h.make_node("Mul", ["X", "W"], ["Y"])], "g",
                     [h.make_tensor_value_info("X", T.FLOAT, [3, 2])],
                     [h.make_tensor_value_info("Y", T.FLOAT, [3, 2])], [w])
    sess = onnxrun.InferenceSession(h.make_model(g, opset_imports=[h.make_opsetid("", 17)],
                                                 ir_version=8).SerializeToString())
    feed = {"X": np.ones((3, 2), np.float32)}
    for _ in range(3000):
        sess.run(None, feed)
        other(sess, None, feed)
    mine, base = [], []

    def timed(fn) -> float:
        t = time.perf_counter()
        for _ in range(batch):
            fn(None, feed)
        return (time.perf_counter() - t) / batch * 1e6

    other_run = types.MethodType(other, sess)  # called like sess.run
    this_run = types.MethodType(this, sess)
    for i in range(pairs):  # alternate which goes first
        if i % 2:
            base.append(timed(other_run))
            mine.append(timed(this_run))
        else:
            mine.append(timed(this_run))
            base.append(timed(other_run))
    ratio = statistics.median(a / b for a, b in zip(mine, base))
    print(f"best batch: this run {min(mine):.2f} us, other run {min(base):.2f} us; "
          f"median ratio this/other {ratio:.3f} ({pairs} interleaved pairs of {batch} runs)")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1])
