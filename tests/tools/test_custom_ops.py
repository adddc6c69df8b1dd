"""@onnxrun.custom_op: functions and classes for ops of a custom domain."""

import numpy as np
import pytest

import onnxrun
from onnxrun.kernels import OpKernel
from onnxrun.tools.custom_ops import remove_custom_op
from onnxrun.tools.profile_report import profile_model

from .models import custom

DOMAIN = "com.example.tests"


@pytest.fixture
def scale_op():
    @onnxrun.custom_op(DOMAIN, "Scale")
    def scale(x, *, k=1.0):
        return x * np.float32(k)
    yield scale
    remove_custom_op(DOMAIN, "Scale")


def test_function_custom_op_runs_and_traces(scale_op):
    m = custom(DOMAIN, "Scale")
    sess = onnxrun.InferenceSession(m.SerializeToString())
    x = np.array([[-1, 2, -3], [4, -5, 6]], np.float32)
    with onnxrun.Tracer(sess) as t:
        (y,) = sess.run(None, {"x": x})
    np.testing.assert_array_equal(y, np.abs(x) * 3)
    rec = next(r for r in t.records if r.op_type == "Scale")
    assert rec.domain == DOMAIN and rec.output_shapes == [(2, 3)]
    report = profile_model(m, runs=1, warmup=0)
    assert "Scale" in [o.op_type for o in report.by_op]


def test_class_custom_op_and_profiling_file(tmp_path):
    @onnxrun.custom_op(DOMAIN, "Shift", fresh=True)
    class Shift(OpKernel):
        def __init__(self, info):
            super().__init__(info)
            self.k = np.float32(info.attr("k", 0.0))

        def __call__(self, x):
            return x - self.k

    try:
        opts = onnxrun.SessionOptions()
        opts.enable_profiling = True
        opts.profile_file_prefix = str(tmp_path / "prof")
        sess = onnxrun.InferenceSession(custom(DOMAIN, "Shift").SerializeToString(), opts)
        (y,) = sess.run(None, {"x": np.full((2, 3), 5, np.float32)})
        np.testing.assert_array_equal(y, np.full((2, 3), 2, np.float32))
        import json
        events = json.load(open(sess.end_profiling()))
        assert any(e.get("args", {}).get("op_name") == "Shift" for e in events)
        with pytest.raises(onnxrun.errors.KernelRegistrationError):
            onnxrun.custom_op(DOMAIN, "Shift")(lambda x: x)
    finally:
        remove_custom_op(DOMAIN, "Shift")


def test_unregistered_custom_op_fails_clearly():
    with pytest.raises(onnxrun.OnnxRuntimeError):
        onnxrun.InferenceSession(custom(DOMAIN, "Missing").SerializeToString())
