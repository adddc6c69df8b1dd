"""Integer convs on the NumbaExecutionProvider (kernels/numba/conv_integer.py): which nodes it
claims, and results bit-identical to the CPU provider's and to exact integer arithmetic, for
ConvInteger, ConvIntegerFloat, QLinearConv and com.microsoft QLinearConv (channels last), on
1 and 3 threads."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxrun

pytest.importorskip("numba")
RNG = np.random.default_rng(3)
CPU = ["CPUExecutionProvider"]


def _session(model, providers=None, threads=1):
    so = onnxrun.SessionOptions()
    so.intra_op_num_threads = threads
    return onnxrun.InferenceSession(model, so, providers=providers)


def _claimed(sess):
    return {n.op_type: n.provider for n in sess._core.graph.nodes}


def _model(nodes, inputs, outputs, inits, opsets=(("", 13),)):
    g = helper.make_graph(nodes, "g", inputs, outputs, inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets],
                             ir_version=8).SerializeToString()


def _same_everywhere(model, feeds):
    want = _session(model, CPU).run(None, feeds)
    for threads in (1, 3):
        for got, exp in zip(_session(model, threads=threads).run(None, feeds), want):
            assert got.dtype == exp.dtype and got.tobytes() == exp.tobytes()
    return want


@pytest.mark.parametrize("k,stride,cast", [(3, 1, False), (5, 2, True), (3, 2, False)])
def test_depthwise_convinteger(k, stride, cast):
    C = 24
    w = RNG.integers(-128, 128, (C, 1, k, k)).astype(np.int8)
    nodes = [helper.make_node("ConvInteger", ["x", "w", "xz"], ["acc"], group=C,
                              pads=[k // 2] * 4, strides=[stride, stride])]
    out = "acc"
    if cast:
        nodes.append(helper.make_node("Cast", ["acc"], ["y"], to=TensorProto.FLOAT))
        out = "y"
    f = helper.make_tensor_value_info
    m = _model(nodes, [f("x", TensorProto.UINT8, [2, C, 19, 17])],
               [f(out, TensorProto.FLOAT if cast else TensorProto.INT32, None)],
               [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.uint8(77), "xz")])
    x = RNG.integers(0, 256, (2, C, 19, 17)).astype(np.uint8)
    _same_everywhere(m, {"x": x})
    op = "ConvIntegerFloat" if cast else "ConvInteger"
    assert _claimed(_session(m))[op] == "NumbaExecutionProvider"


@pytest.mark.parametrize("channels_last", [0, 1])
def test_qlinearconv_depthwise_and_dense_claimed(channels_last):
    C = 16
    dw = RNG.integers(-128, 128, (C, 1, 3, 3)).astype(np.int8)
    pw = RNG.integers(-128, 128, (32, C, 1, 1)).astype(np.int8)
    c = numpy_helper.from_array
    inits = [c(np.float32(0.03), "s"), c(np.uint8(100), "z"), c(dw, "dw"), c(pw, "pw"),
             c(RNG.uniform(1e-3, 4e-3, C).astype(np.float32), "dws"),
             c(RNG.uniform(1e-3, 4e-3, 32).astype(np.float32), "pws"),
             c(np.zeros(C, np.int8), "dwz"), c(np.zeros(32, np.int8), "pwz"),
             c(RNG.integers(-3000, 3000, C).astype(np.int32), "db")]
    ms = "com.microsoft"
    nodes = [helper.make_node("QLinearConv", ["x", "s", "z", "dw", "dws", "dwz", "s", "z", "db"],
                              ["h"], group=C, pads=[1, 1, 1, 1], domain=ms,
                              channels_last=channels_last),
             helper.make_node("QLinearConv", ["h", "s", "z", "pw", "pws", "pwz", "s", "z"],
                              ["y"], domain=ms, channels_last=channels_last)]
    shape = [1, 13, 11, C] if channels_last else [1, C, 13, 11]
    f = helper.make_tensor_value_info
    m = _model(nodes, [f("x", TensorProto.UINT8, shape)], [f("y", TensorProto.UINT8, None)],
               inits, opsets=(("", 13), (ms, 1)))
    _same_everywhere(m, {"x": RNG.integers(0, 256, shape).astype(np.uint8)})
    providers = [n.provider for n in _session(m)._core.graph.nodes]
    assert providers == ["NumbaExecutionProvider"] * 2


def test_weights_fed_at_run_time_stay_on_cpu():
    f = helper.make_tensor_value_info
    m = _model([helper.make_node("ConvInteger", ["x", "w"], ["y"], group=4)],
               [f("x", TensorProto.UINT8, [1, 4, 5, 5]), f("w", TensorProto.INT8, [4, 1, 3, 3])],
               [f("y", TensorProto.INT32, None)], [])
    assert _claimed(_session(m))["ConvInteger"] == "CPUExecutionProvider"


def test_zero_output_scale_saturates_and_nan_is_the_minimum():
    """y_scale 0: the multiplier is infinite, a zero accumulator gives NaN -> the type's
    minimum (onnxruntime's MLAS behaviour), others saturate."""
    C = 8
    w = RNG.integers(-3, 4, (C, 1, 3, 3)).astype(np.int8)
    c = numpy_helper.from_array
    inits = [c(np.float32(0.03), "s"), c(np.uint8(100), "z"), c(w, "w"),
             c(np.full(C, 0.01, np.float32), "ws"), c(np.zeros(C, np.int8), "wz"),
             c(np.float32(0.0), "ys"), c(np.int8(5), "yz")]
    node = helper.make_node("QLinearConv", ["x", "s", "z", "w", "ws", "wz", "ys", "yz"], ["y"],
                            group=C, pads=[1, 1, 1, 1])
    f = helper.make_tensor_value_info
    m = _model([node], [f("x", TensorProto.UINT8, [1, C, 6, 6])],
               [f("y", TensorProto.INT8, None)], inits)
    x = RNG.integers(99, 102, (1, C, 6, 6)).astype(np.uint8)  # many zero accumulators
    y = _same_everywhere(m, {"x": x})[0]
    assert _claimed(_session(m))["QLinearConv"] == "NumbaExecutionProvider"
    assert set(np.unique(y)) == {-128, 127}
