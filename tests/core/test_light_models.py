"""The onnx package's light models: onnxrun matches onnxruntime at every optimization level and
in both execution modes (rtol 1e-3, atol 1e-4), and the expected outputs shipped with them."""

import glob
import os

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import onnxrun
from tests.backend.harness import DATA, light_cases

CASES = {c.name: c for c in light_cases()}
_REF = {}


def _reference(name):
    if name not in _REF:
        case = CASES[name]
        sess = ort.InferenceSession(case.model, providers=["CPUExecutionProvider"])
        names = [i.name for i in sess.get_inputs()]
        _REF[name] = sess.run(None, dict(zip(names, case.data_sets[0][0])))
    return _REF[name]


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("level,mode", [
    (onnxrun.GraphOptimizationLevel.ORT_DISABLE_ALL, onnxrun.ExecutionMode.ORT_SEQUENTIAL),
    (onnxrun.GraphOptimizationLevel.ORT_ENABLE_BASIC, onnxrun.ExecutionMode.ORT_PARALLEL),
    (onnxrun.GraphOptimizationLevel.ORT_ENABLE_EXTENDED, onnxrun.ExecutionMode.ORT_SEQUENTIAL),
    (onnxrun.GraphOptimizationLevel.ORT_ENABLE_ALL, onnxrun.ExecutionMode.ORT_PARALLEL),
    (onnxrun.GraphOptimizationLevel.ORT_ENABLE_ALL, onnxrun.ExecutionMode.ORT_SEQUENTIAL),
])
def test_light_model_matches_onnxruntime(name, level, mode):
    case = CASES[name]
    so = onnxrun.SessionOptions()
    so.graph_optimization_level = level
    so.execution_mode = mode
    sess = onnxrun.InferenceSession(case.model, so)
    names = [i.name for i in sess.get_inputs()]
    ours = sess.run(None, dict(zip(names, case.data_sets[0][0])))
    ref = _reference(name)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
    for a, b in zip(ours, case.data_sets[0][1]):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
