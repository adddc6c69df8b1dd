"""QuantizeLinear of NaN gives the integer type's minimum, as onnxruntime does (a QDQ model's
scale of 0 for an all-zero tensor makes 0 / 0 = NaN: onnxruntime's statically quantized GPT-2
attention masks depend on it)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

import onnxrun

ort = pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("dtype,zp,scale", [(np.int8, 0, 1.0), (np.int8, 5, 0.0),
                                            (np.uint8, 128, 1.0), (np.int16, 0, 0.5),
                                            (np.uint16, 7, 0.0)])
def test_nan_and_infinities_quantize_like_onnxruntime(dtype, zp, scale):
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    g = helper.make_graph(
        [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"])], "g",
        [helper.make_tensor_value_info("x", 1, None)],
        [helper.make_tensor_value_info("y", elem, None)],
        [numpy_helper.from_array(np.array(scale, np.float32), "s"),
         numpy_helper.from_array(np.array(zp, dtype), "z")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)],
                          ir_version=10).SerializeToString()
    x = np.array([np.nan, 0.0, -np.inf, np.inf, 1.0, -3e38], np.float32)
    want = ort.InferenceSession(m, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    got = onnxrun.InferenceSession(m).run(None, {"x": x})[0]
    np.testing.assert_array_equal(got, want)
    scalar = {"x": np.array(np.nan, np.float32)}  # 0-d: so are the kernel's intermediates
    np.testing.assert_array_equal(onnxrun.InferenceSession(m).run(None, scalar)[0],
                                  ort.InferenceSession(m, providers=["CPUExecutionProvider"])
                                  .run(None, scalar)[0])
