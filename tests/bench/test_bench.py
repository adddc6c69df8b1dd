"""Smoke test of ``onnxrun bench``: a tiny model, two runs, both runtimes, memory processes."""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from onnxrun.bench.models import sequence
from onnxrun.bench.runner import compare, max_abs_diff
from onnxrun.bench.report import Entry, geomean, summary
from onnxrun.bench.suite import SuiteModel
from onnxrun.cli.main import main


def _tiny(path):
    w = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(4, 3) / 10, "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Relu", ["y"], ["z"])],
        "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", 3])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return str(path)


def test_bench_cli_tiny_model(tmp_path, capsys):
    path = _tiny(tmp_path / "tiny.onnx")
    assert main(["bench", path, "--runs", "2", "--dim", "batch=3"]) == 0
    out = capsys.readouterr().out
    assert "ratio onnxrun/onnxruntime" in out
    assert "max abs diff 0" in out


def test_compare_measures_everything(tmp_path):
    path = str(tmp_path / "chain.onnx")
    onnx.save(sequence.elementwise_chain(nodes=30), path)
    r = compare(path, runs=2, memory_runs=1)
    assert r.error is None and len(r.ours) == len(r.theirs) == 2
    assert r.nodes == 30 and r.max_abs_diff == 0.0
    assert r.init_ours > 0 and r.init_theirs > 0
    assert r.peak_ours is not None and r.peak_theirs is not None
    model = SuiteModel(r.name, lambda log=None: path, 2, "generated", group="classic",
                       per_node=True)
    lines = summary([Entry(model, {0: r})], [0])
    assert any(ln.startswith("per-node overhead (chain.onnx, default threads, 30 nodes")
               for ln in lines)


def test_helpers():
    assert abs(geomean([2.0, 8.0]) - 4.0) < 1e-12
    assert max_abs_diff([np.ones(3)], [np.ones(2)]) == float("inf")
    assert max_abs_diff([np.array([1.0, np.nan])], [np.array([1.5, np.nan])]) == 0.5
