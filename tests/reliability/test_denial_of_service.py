"""Work a hostile model can demand: what onnxrun bounds, and how a caller bounds the rest
(RunOptions.terminate from a watchdog)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from onnx import TensorProto, helper

import onnxrun
from onnxrun.errors import Fail

from ._util import make_model, needs, session, vi

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.mark.xfail(strict=True, reason="kernel: kernels/string/regex.py runs RegexFullMatch on "
                   "Python's backtracking `re`; a pattern such as '(a+)+b' takes exponential "
                   "time in the input length and cannot be interrupted by RunOptions.terminate "
                   "(onnxruntime uses RE2, linear time). Suggest a linear-time engine (google-re2 "
                   "when installed) or refusing patterns with nested unbounded quantifiers")
def test_regex_full_match_runs_in_linear_time(tmp_path):
    needs("RegexFullMatch")
    model = make_model([helper.make_node("RegexFullMatch", ["X"], ["Y"], name="re",
                                         pattern="(a+)+b")],
                       [vi("X", TensorProto.STRING, [1])], [vi("Y", TensorProto.BOOL, [1])],
                       opset=20)
    path = tmp_path / "redos.onnx"
    path.write_bytes(model.SerializeToString())
    code = textwrap.dedent(f"""
        import numpy as np, onnxrun
        s = onnxrun.InferenceSession({str(path)!r}, providers=["CPUExecutionProvider"])
        print(s.run(None, {{"X": np.array(["a" * 5000], dtype=object)}})[0])
    """)
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=6, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("RegexFullMatch took more than 6 s on a 5000-character input")
    assert proc.returncode == 0, proc.stderr
    assert "False" in proc.stdout


def _counting_loop_model():
    body = helper.make_graph(
        [helper.make_node("Add", ["s_in", "one"], ["s_out"], name="inc"),
         helper.make_node("Identity", ["c_in"], ["c_out"], name="keep")],
        "body", [vi("i", TensorProto.INT64, []), vi("c_in", TensorProto.BOOL, []),
                 vi("s_in", TensorProto.FLOAT, [1])],
        [vi("c_out", TensorProto.BOOL, []), vi("s_out", TensorProto.FLOAT, [1])],
        [helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])])
    node = helper.make_node("Loop", ["M", "", "S"], ["Y"], name="loop", body=body)
    return make_model([node], [vi("M", TensorProto.INT64, []), vi("S", TensorProto.FLOAT, [1])],
                      [vi("Y", TensorProto.FLOAT, [1])])


def test_watchdog_pattern_bounds_a_run():
    """The documented way to bound a run of an untrusted model: a timer sets terminate."""
    needs("Loop", "Add", "Identity")
    sess = session(_counting_loop_model())
    feeds = {"M": np.array(2 ** 62, np.int64), "S": np.zeros(1, np.float32)}
    ro = onnxrun.RunOptions()
    watchdog = threading.Timer(0.25, lambda: setattr(ro, "terminate", True))
    watchdog.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(Fail, match="terminate"):
            sess.run(None, feeds, ro)
    finally:
        watchdog.cancel()
    assert time.perf_counter() - t0 < 1.5
    # the same session answers a bounded request right after
    feeds["M"] = np.array(10, np.int64)
    np.testing.assert_array_equal(sess.run(None, feeds)[0], [10.0])


def test_many_concurrent_terminations_leave_no_state_behind():
    needs("Loop", "Add", "Identity")
    sess = session(_counting_loop_model())
    feeds = {"M": np.array(2 ** 62, np.int64), "S": np.zeros(1, np.float32)}
    errors = []

    def one(k):
        ro = onnxrun.RunOptions()
        timer = threading.Timer(0.05 + 0.02 * k, lambda: setattr(ro, "terminate", True))
        timer.start()
        try:
            sess.run(None, feeds, ro)
            errors.append("run ended without terminate")
        except Fail:
            pass
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            timer.cancel()

    threads = [threading.Thread(target=one, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors
    small = {"M": np.array(3, np.int64), "S": np.ones(1, np.float32)}
    np.testing.assert_array_equal(sess.run(None, small)[0], [4.0])
