"""NumbaExecutionProvider: availability (lazy import, numba missing), the default provider
list, partitioning next to the CPU provider (no copies), and the on-disk kernel cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxrun
from onnxrun.providers import numba_ep

NUMBA = "NumbaExecutionProvider"
CPU = "CPUExecutionProvider"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _mixed_model():
    """depthwise Conv (Numba) -> Softmax (CPU) -> dense Conv (CPU) -> Add (CPU)."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), n)
             for n, s in (("wd", (4, 1, 3, 3)), ("wc", (4, 4, 3, 3)), ("bd", (4,)))]
    nodes = [helper.make_node("Conv", ["x", "wd", "bd"], ["d"], group=4, pads=[1, 1, 1, 1],
                              name="depthwise"),
             helper.make_node("Softmax", ["d"], ["s"], axis=1, name="softmax"),
             helper.make_node("Conv", ["s", "wc"], ["c"], pads=[1, 1, 1, 1], name="dense"),
             helper.make_node("Add", ["c", "d"], ["y"], name="add")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                     [1, 4, 6, 7])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("d", TensorProto.FLOAT, None)], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


FEEDS = {"x": np.random.default_rng(1).standard_normal((1, 4, 6, 7)).astype(np.float32)}


def _python(body: str, env=None) -> dict:
    """Run ``body`` in a fresh interpreter, after a definition of ``model()`` (the mixed
    model); its last stdout line is JSON, returned."""
    import inspect
    model_src = inspect.getsource(_mixed_model).replace("def _mixed_model", "def model")
    code = ("import numpy as np\nfrom onnx import TensorProto, helper, numpy_helper\n"
            + model_src + textwrap.dedent(body))
    full_env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"), **(env or {}))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=full_env, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_onnxrun_does_not_import_numba_and_works_without_it():
    # numba made unimportable: the provider is not available, sessions run on CPU alone
    got = _python("""
        import json, sys, warnings
        import onnxrun
        imported = "numba" in sys.modules
        sys.modules["numba"] = None      # 'import numba' now raises ImportError
        sess = onnxrun.InferenceSession(model())
        y = sess.run(None, {"x": np.ones((1, 4, 6, 7), np.float32)})[0]
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            named = onnxrun.InferenceSession(model(), providers=["NumbaExecutionProvider"])
        print(json.dumps({"imported_by_onnxrun": imported,
                          "available": onnxrun.get_available_providers(),
                          "default": sess.get_providers(), "named": named.get_providers(),
                          "warned": [str(x.message) for x in w], "shape": list(y.shape)}))
    """)
    assert got["imported_by_onnxrun"] is False
    assert got["available"] == [CPU]
    assert got["default"] == [CPU] and got["named"] == [CPU]
    assert any("NumbaExecutionProvider" in m and "not available" in m for m in got["warned"])
    assert got["shape"] == [1, 4, 6, 7]


def test_no_numba_in_process(monkeypatch):
    monkeypatch.setitem(numba_ep._state, "available", None)
    monkeypatch.setitem(sys.modules, "numba", None)
    assert numba_ep.numba_importable() is False
    assert NUMBA not in onnxrun.get_available_providers()
    sess = onnxrun.InferenceSession(_mixed_model())
    assert sess.get_providers() == [CPU]
    assert {n.provider for n in sess._core.graph.nodes} == {CPU}


needs_numba = pytest.mark.skipif(not numba_ep.numba_importable(), reason="needs numba")


@needs_numba
def test_default_providers_and_partitioning():
    # (other test modules may register providers of their own, listed in between)
    available = onnxrun.get_available_providers()
    assert available[0] == NUMBA and available[-1] == CPU
    assert onnxrun.get_all_providers()[-1] == CPU and NUMBA in onnxrun.get_all_providers()
    sess = onnxrun.InferenceSession(_mixed_model())
    assert sess.get_providers() == [NUMBA, CPU]
    placed = {n.name: n.provider for n in sess._core.graph.nodes}
    assert placed == {"depthwise": NUMBA, "softmax": CPU, "dense": CPU, "add": CPU}
    # same device: no copy nodes between the two providers
    assert not any(n.op_type.startswith("Memcpy") for n in sess._core.graph.nodes)
    y, d = sess.run(None, FEEDS)
    cpu = onnxrun.InferenceSession(_mixed_model(), providers=[CPU])
    assert cpu.get_providers() == [CPU]
    assert {n.provider for n in cpu._core.graph.nodes} == {CPU}
    y_cpu, d_cpu = cpu.run(None, FEEDS)
    np.testing.assert_allclose(y, y_cpu, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(d, d_cpu, rtol=1e-5, atol=1e-5)
    # explicit order and options, as for any provider
    sess = onnxrun.InferenceSession(_mixed_model(), providers=[(NUMBA, {"x": 1}), CPU])
    assert sess.get_provider_options()[NUMBA] == {"x": "1"}


@needs_numba
def test_concurrent_runs_and_parallel_mode():
    import threading
    so = onnxrun.SessionOptions()
    so.execution_mode = onnxrun.ExecutionMode.ORT_PARALLEL
    so.intra_op_num_threads = 2
    sess = onnxrun.InferenceSession(_mixed_model(), so)
    want = onnxrun.InferenceSession(_mixed_model(), providers=[CPU]).run(None, FEEDS)[0]
    errors, outs = [], []

    def work():
        try:
            for _ in range(20):
                outs.append(sess.run(None, FEEDS)[0])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(outs) == 80
    for out in outs:
        np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)


@needs_numba
def test_disk_cache_second_process_compiles_nothing(tmp_path):
    code = """
        import json
        import onnxrun
        from onnxrun.kernels.numba import _jit
        sess = onnxrun.InferenceSession(model())
        print(json.dumps(dict(_jit.stats, cache=_jit.cache_dir())))
    """
    env = {"ONNXRUN_NUMBA_CACHE": str(tmp_path / "cache")}
    first = _python(code, env)
    second = _python(code, env)
    assert first["cache"] == str(tmp_path / "cache")
    assert first["compiled"] >= 1 and first["loaded"] == 0
    assert second["compiled"] == 0 and second["loaded"] == first["compiled"]
    files = [f for _, _, fs in os.walk(tmp_path / "cache") for f in fs]
    assert any(f.endswith(".nbi") for f in files) and any(f.endswith(".nbc") for f in files)


@needs_numba
def test_unwritable_cache_folder_still_runs(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    got = _python("""
        import json
        import onnxrun
        from onnxrun.kernels.numba import _jit
        sess = onnxrun.InferenceSession(model())
        y = sess.run(None, {"x": np.ones((1, 4, 6, 7), np.float32)})[0]
        print(json.dumps(dict(_jit.stats, finite=bool(np.isfinite(y).all()),
                              providers=sess.get_providers())))
    """, {"ONNXRUN_NUMBA_CACHE": str(blocker / "cache")})
    assert got["compiled"] >= 1 and got["finite"] and got["providers"] == [NUMBA, CPU]
