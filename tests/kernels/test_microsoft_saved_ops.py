"""com.microsoft ops onnxruntime writes into quantized models it saves at ORT_ENABLE_ALL, outside
the transformer and quantization kernel families: NhwcMaxPool (its NHWC transformer, for
int8/uint8 MaxPool) and QLinearWhere. Single-node models against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxrun

ort = pytest.importorskip("onnxruntime")
MS = "com.microsoft"


def _run_both(node, inputs, feeds, inits=(), out_type=TensorProto.UINT8):
    g = helper.make_graph([node], "g", inputs, [helper.make_tensor_value_info("y", out_type, None)],
                          list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                            helper.make_opsetid(MS, 1)], ir_version=8)
    data = m.SerializeToString()
    want = ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    got = onnxrun.InferenceSession(data).run(None, feeds)[0]
    return got, want


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
@pytest.mark.parametrize("attrs", [
    {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]},
    {"kernel_shape": [2, 3], "ceil_mode": 1, "strides": [2, 2]},
    {"kernel_shape": [3, 3], "dilations": [2, 1]},
    {"kernel_shape": [3, 2], "auto_pad": "SAME_UPPER", "strides": [2, 1]},
], ids=["pads", "ceil", "dilations", "same_upper"])
def test_nhwc_max_pool(dtype, attrs):
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    x = np.random.default_rng(0).integers(np.iinfo(dtype).min, np.iinfo(dtype).max + 1,
                                          (2, 9, 8, 5)).astype(dtype)
    node = helper.make_node("NhwcMaxPool", ["x"], ["y"], domain=MS, **attrs)
    got, want = _run_both(node, [helper.make_tensor_value_info("x", elem, None)], {"x": x},
                          out_type=elem)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_nhwc_max_pool_rejects_float():
    node = helper.make_node("NhwcMaxPool", ["x"], ["y"], domain=MS, kernel_shape=[2, 2])
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", 1, None)],
                          [helper.make_tensor_value_info("y", 1, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                            helper.make_opsetid(MS, 1)], ir_version=8)
    sess = onnxrun.InferenceSession(m.SerializeToString())
    with pytest.raises(onnxrun.InvalidArgument, match="int8 or uint8"):
        sess.run(None, {"x": np.zeros((1, 4, 4, 2), np.float32)})


def _qwhere_model_inputs(dtype, const):
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    lo = np.iinfo(dtype).min
    params = {"xs": np.float32(0.05), "xz": dtype(lo + 100), "ys": np.float32(0.013),
              "yz": dtype(lo + 7), "zs": np.float32(0.031), "zz": dtype(lo + 128)}
    names = ["c", "xv", "xs", "xz", "yv", "ys", "yz", "zs", "zz"]
    node = helper.make_node("QLinearWhere", names, ["y"], domain=MS)
    rng = np.random.default_rng(1)
    feeds = {"c": rng.random((3, 1, 5)) > 0.5,
             "xv": rng.integers(lo, lo + 256, (4, 5)).astype(dtype),
             "yv": rng.integers(lo, lo + 256, (3, 4, 1)).astype(dtype)}
    inputs = [helper.make_tensor_value_info("c", TensorProto.BOOL, None),
              helper.make_tensor_value_info("xv", elem, None),
              helper.make_tensor_value_info("yv", elem, None)]
    inits = []
    for k, v in params.items():
        if const:
            inits.append(numpy_helper.from_array(np.array(v), k))
        else:
            inputs.append(helper.make_tensor_value_info(
                k, TensorProto.FLOAT if k.endswith("s") else elem, []))
            feeds[k] = np.array(v)
    return node, inputs, feeds, inits, elem


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
@pytest.mark.parametrize("const", [True, False], ids=["const_params", "fed_params"])
def test_qlinear_where(dtype, const):
    node, inputs, feeds, inits, elem = _qwhere_model_inputs(dtype, const)
    got, want = _run_both(node, inputs, feeds, inits, out_type=elem)
    assert got.shape == want.shape == (3, 4, 5) and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_qlinear_where_needs_nine_inputs():
    node = helper.make_node("QLinearWhere", ["c", "x", "s", "z"], ["y"], domain=MS)
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info(n, 1, None)
                                        for n in ("c", "x", "s", "z")],
                          [helper.make_tensor_value_info("y", 1, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                            helper.make_opsetid(MS, 1)], ir_version=8)
    with pytest.raises(onnxrun.InvalidArgument, match="There must be 9 inputs"):
        onnxrun.InferenceSession(m.SerializeToString())
