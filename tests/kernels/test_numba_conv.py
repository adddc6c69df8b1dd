"""Depthwise and grouped Conv / FusedConv on the NumbaExecutionProvider against onnxruntime and
the NumPy CPU provider: every geometry (strides, dilations, pads, auto_pad, edge maps),
activations, dtypes, non-contiguous inputs, which convs are claimed, and thread counts
(bit-exact between 1, 2 and 3 threads)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxrun

from .test_conv_depthwise import DW_CASES

pytest.importorskip("numba")
ort = pytest.importorskip("onnxruntime")

NUMBA = "NumbaExecutionProvider"
CPU = "CPUExecutionProvider"
ELEM = {np.float32: TensorProto.FLOAT, np.float64: TensorProto.DOUBLE,
        np.float16: TensorProto.FLOAT16}


def conv_model(xs, ws, attrs, act=None, bias=True, dtype=np.float32, seed=5):
    """A Conv (+ activation) model with constant weights, and random feeds."""
    rng = np.random.default_rng(seed)
    elem = ELEM[dtype]
    inits = [numpy_helper.from_array(rng.standard_normal(ws).astype(dtype), "w")]
    names = ["x", "w"]
    if bias:
        inits.append(numpy_helper.from_array(rng.standard_normal(ws[0]).astype(dtype), "b"))
        names.append("b")
    nodes = [helper.make_node("Conv", names, ["c" if act else "y"], **attrs)]
    if act is not None:
        op, act_attrs, extra = act
        for i, v in enumerate(extra):
            inits.append(numpy_helper.from_array(np.array(v, dtype), f"p{i}"))
        nodes.append(helper.make_node(op, ["c"] + [f"p{i}" for i in range(len(extra))], ["y"],
                                      **act_attrs))
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", elem, xs)],
                          [helper.make_tensor_value_info("y", elem, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    return m.SerializeToString(), {"x": (rng.standard_normal(xs) * 2).astype(dtype)}


def run_on(model, feeds, providers, threads=0):
    so = onnxrun.SessionOptions()
    so.intra_op_num_threads = threads
    sess = onnxrun.InferenceSession(model, so, providers=providers)
    return sess, sess.run(None, feeds)[0]


def check(model, feeds, rtol=1e-4, atol=1e-4, with_ort=True):
    """Numba result == NumPy CPU result == onnxruntime result (within tolerance); the conv
    ran on the Numba provider. (onnxruntime has no float64 Conv: ``with_ort=False``.)"""
    sess, got = run_on(model, feeds, [NUMBA, CPU])
    placed = {n.op_type: n.provider for n in sess._core.graph.nodes}
    assert NUMBA in placed.values(), placed
    _, cpu = run_on(model, feeds, [CPU])
    assert got.shape == cpu.shape and got.dtype == cpu.dtype and got.flags.c_contiguous
    np.testing.assert_allclose(got, cpu, rtol=rtol, atol=atol)
    if with_ort:
        ref = ort.InferenceSession(model, providers=[CPU]).run(None, feeds)[0]
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol)
    return got


@pytest.mark.parametrize("xs,k,attrs", DW_CASES)
def test_depthwise_geometries(xs, k, attrs):
    C = xs[1]
    check(*conv_model(xs, (C, 1) + k, dict(attrs, group=C)))


@pytest.mark.parametrize("xs,ws,attrs", [
    ((1, 24, 12, 20), (24, 1, 5, 5), dict(pads=[2, 2, 2, 2])),               # OCR 5x5
    ((1, 16, 15, 17), (16, 1, 5, 5), dict(pads=[2, 2, 2, 2], strides=[2, 2])),
    ((1, 8, 16, 16), (8, 1, 7, 7), dict(pads=[3, 3, 3, 3])),                 # 7x7
    ((1, 8, 17, 19), (8, 1, 7, 7), dict(pads=[3, 3, 3, 3], strides=[2, 2])),
    ((1, 5, 20, 23), (5, 1, 3, 3), dict(pads=[2, 1, 3, 4], strides=[3, 3], dilations=[2, 2])),
    ((1, 4, 3, 3), (4, 1, 7, 7), dict(pads=[3, 3, 3, 3])),                   # kernel > map
    ((1, 4, 2, 2), (4, 1, 7, 7), dict(auto_pad="SAME_UPPER", strides=[2, 2])),
    ((1, 4, 1, 1), (4, 1, 5, 5), dict(pads=[2, 2, 2, 2])),                   # 1-pixel map
    ((1, 6, 9, 10), (6, 1, 4, 4), dict(auto_pad="SAME_UPPER")),              # even kernel
    ((1, 6, 9, 10), (6, 1, 4, 4), dict(auto_pad="SAME_LOWER")),
    ((1, 6, 11, 10), (6, 1, 3, 3), dict(auto_pad="SAME_LOWER", strides=[2, 2])),
    ((2, 3, 10, 9), (6, 1, 3, 3), dict(pads=[1, 1, 1, 1])),                  # multiplier 2
    ((3, 4, 9, 9), (12, 1, 3, 3), dict(pads=[0, 1, 1, 0], strides=[2, 1])),  # batch 3, x3
])
def test_depthwise_brief_geometries(xs, ws, attrs):
    check(*conv_model(xs, ws, dict(attrs, group=xs[1])))


def test_depthwise_without_bias():
    check(*conv_model((2, 6, 9, 9), (6, 1, 3, 3), dict(group=6, pads=[1, 1, 1, 1]),
                      bias=False))


@pytest.mark.parametrize("act", [
    ("Relu", {}, []), ("Clip", {}, [-0.5, 1.5]), ("HardSigmoid", dict(alpha=0.3, beta=0.4), []),
    ("HardSwish", {}, []), ("LeakyRelu", dict(alpha=0.2), []), ("Sigmoid", {}, []),
    ("Tanh", {}, []),
])
def test_fused_activations(act):
    model, feeds = conv_model((1, 8, 10, 12), (8, 1, 3, 3), dict(group=8, pads=[1, 1, 1, 1]),
                              act=act)
    sess, _ = run_on(model, feeds, [NUMBA, CPU])
    (node,) = sess._core.graph.nodes
    assert (node.op_type, node.provider) == ("FusedConv", NUMBA)
    assert node.attrs["activation"] == act[0]
    check(model, feeds)


@pytest.mark.parametrize("act", [("HardSwish", {}, []), ("HardSigmoid", dict(alpha=0.25), [])])
@pytest.mark.parametrize("xs,ws,attrs", [
    ((1, 16, 12, 10), (24, 16, 1, 1), {}),                                    # pointwise
    ((2, 3, 11, 13), (8, 3, 3, 3), dict(pads=[1, 1, 1, 1], strides=[2, 2])),  # stem
    ((1, 64, 8, 8), (16, 32, 3, 3), dict(group=2, pads=[1, 1, 1, 1])),        # 32 per group
])
def test_dense_fused_conv_epilogue(act, xs, ws, attrs):
    model, feeds = conv_model(xs, ws, attrs, act=act)
    sess, _ = run_on(model, feeds, [NUMBA, CPU], threads=2)
    (node,) = sess._core.graph.nodes
    assert (node.op_type, node.provider) == ("FusedConv", NUMBA)
    assert type(sess._core.plan.steps[0].base_fn.impl).__name__ == "EpilogueConv"
    check(model, feeds)


def test_dense_convs_left_to_cpu():
    # no activation, or one NumPy runs in one pass (Relu, Clip) or faster (Sigmoid, Tanh): the
    # CPU provider's
    for act in (None, ("Sigmoid", {}, []), ("Tanh", {}, []), ("Relu", {}, []),
                ("Clip", {}, [0.0, 6.0])):
        sess, _ = run_on(*conv_model((1, 8, 6, 6), (8, 8, 3, 3), dict(pads=[1, 1, 1, 1]),
                                     act=act), [NUMBA, CPU])
        assert [n.provider for n in sess._core.graph.nodes] == [CPU]
    # a 1-D FusedConv with HardSwish takes the epilogue path too
    model, feeds = conv_model((2, 4, 30), (6, 4, 5), dict(pads=[2, 2]), act=("HardSwish", {}, []))
    sess, _ = run_on(model, feeds, [NUMBA, CPU])
    assert [n.provider for n in sess._core.graph.nodes] == [NUMBA]
    check(model, feeds)


def test_models_without_claimed_nodes_never_import_numba(tmp_path):
    import subprocess
    import sys
    model, feeds = conv_model((1, 8, 6, 6), (8, 8, 3, 3), dict(pads=[1, 1, 1, 1]),
                              act=("Relu", {}, []))
    path = tmp_path / "m.onnx"
    path.write_bytes(model if isinstance(model, bytes) else model.SerializeToString())
    code = ("import sys, numpy as np, onnxrun\n"
            f"s = onnxrun.InferenceSession({str(path)!r})\n"
            "s.run(None, {'x': np.ones((1, 8, 6, 6), np.float32)})\n"
            "print(s.get_providers()[0], 'numba' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == [NUMBA, "False"]


def test_fused_activation_keeps_nan():
    model, feeds = conv_model((1, 4, 6, 6), (4, 1, 3, 3), dict(group=4, pads=[1, 1, 1, 1]),
                              act=("Relu", {}, []))
    feeds["x"][0, 1, 2, 3] = np.nan
    _, got = run_on(model, feeds, [NUMBA, CPU])
    _, cpu = run_on(model, feeds, [CPU])
    np.testing.assert_array_equal(np.isnan(got), np.isnan(cpu))
    assert np.isnan(got).sum() == 9
    np.testing.assert_allclose(got, cpu, rtol=1e-5, atol=1e-5)


def test_float64_is_claimed_and_float16_is_not():
    got = check(*conv_model((1, 6, 10, 10), (6, 1, 3, 3), dict(group=6, pads=[1, 1, 1, 1],
                                                               strides=[2, 2]),
                            dtype=np.float64), rtol=1e-12, atol=1e-12, with_ort=False)
    assert got.dtype == np.float64
    model, feeds = conv_model((1, 6, 10, 10), (6, 1, 3, 3), dict(group=6, pads=[1, 1, 1, 1]),
                              dtype=np.float16)
    sess, got = run_on(model, feeds, [NUMBA, CPU])
    assert [n.provider for n in sess._core.graph.nodes] == [CPU]
    assert got.dtype == np.float16


@pytest.mark.parametrize("xs,ws,attrs", [
    ((1, 8, 9, 11), (8, 4, 3, 3), dict(group=2, pads=[1, 1, 1, 1])),
    ((2, 12, 10, 9), (6, 4, 3, 3), dict(group=3, pads=[1, 2, 0, 1], strides=[2, 2])),
    ((1, 6, 13, 12), (12, 2, 5, 5), dict(group=3, pads=[2, 2, 2, 2], dilations=[2, 1])),
    ((1, 32, 7, 8), (16, 16, 3, 3), dict(group=2, auto_pad="SAME_UPPER", strides=[3, 2])),
    ((1, 9, 6, 6), (3, 3, 3, 3), dict(group=3, pads=[0, 0, 0, 0])),       # Mg = 1
    ((1, 4, 2, 3), (8, 2, 5, 5), dict(group=2, pads=[2, 2, 2, 2])),       # kernel > map
])
def test_grouped_geometries(xs, ws, attrs):
    check(*conv_model(xs, ws, attrs, act=("LeakyRelu", dict(alpha=0.1), [])))


def test_which_convs_are_claimed():
    for ws, attrs, claimed in [
            ((8, 8, 3, 3), dict(pads=[1, 1, 1, 1]), False),                 # dense
            ((8, 1, 3, 3), dict(group=8, pads=[1, 1, 1, 1]), True),         # depthwise
            ((16, 32, 3, 3), dict(group=2, pads=[1, 1, 1, 1]), False),      # 32 per group
            ((8, 16, 3, 3), dict(group=2, pads=[1, 1, 1, 1]), True),        # 16 per group
            ((8, 4, 1, 1), dict(group=8), False),                           # grouped 1x1
            ((32, 1, 1, 1), dict(group=32), True)]:                         # depthwise 1x1
        c = ws[1] * attrs.get("group", 1)
        sess, _ = run_on(*conv_model((1, c, 6, 6), ws, attrs), [NUMBA, CPU])
        assert [n.provider for n in sess._core.graph.nodes] == [NUMBA if claimed else CPU]
    # weights fed at run time: not claimed either
    node = helper.make_node("Conv", ["x", "w"], ["y"], group=4, pads=[1, 1, 1, 1])
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", 1, [1, 4, 5, 5]),
                                        helper.make_tensor_value_info("w", 1, [4, 1, 3, 3])],
                          [helper.make_tensor_value_info("y", 1, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    sess = onnxrun.InferenceSession(m.SerializeToString(), providers=[NUMBA, CPU])
    assert [n.provider for n in sess._core.graph.nodes] == [CPU]


def test_non_contiguous_input():
    from onnxrun.kernels.base import OpKernelInfo
    from onnxrun.kernels.numba.conv import NumbaConv

    model, _ = conv_model((1, 6, 7, 9), (6, 1, 3, 3), dict(group=6, pads=[1, 1, 1, 1]))
    sess, _ = run_on(model, {"x": np.zeros((1, 6, 7, 9), np.float32)}, [NUMBA, CPU])
    (node,) = sess._core.graph.nodes
    fn = NumbaConv(OpKernelInfo(node, sess._core.graph))
    base = np.random.default_rng(2).standard_normal((2, 9, 7, 12)).astype(np.float32)
    x = base.transpose(0, 3, 2, 1)[:1, ::-2]  # (1, 6, 7, 9), no unit stride anywhere
    assert not x.flags.c_contiguous
    np.testing.assert_array_equal(fn(x), fn(np.ascontiguousarray(x)))
    _, want = run_on(model, {"x": np.ascontiguousarray(x)}, [CPU])
    np.testing.assert_allclose(fn(x), want, rtol=1e-5, atol=1e-5)


def test_bad_input_is_a_clear_error():
    model, feeds = conv_model((1, 6, 7, 9), (6, 1, 3, 3), dict(group=6, pads=[1, 1, 1, 1]))
    so = onnxrun.SessionOptions()
    sess = onnxrun.InferenceSession(model, so, providers=[NUMBA, CPU])
    from onnxrun.kernels.base import OpKernelInfo
    from onnxrun.kernels.numba.conv import NumbaConv
    (node,) = sess._core.graph.nodes
    fn = NumbaConv(OpKernelInfo(node, sess._core.graph))
    with pytest.raises(onnxrun.errors.InvalidArgument,
                       match="X has 5 channels but W expects 1 x group 6 = 6"):
        fn(np.zeros((1, 5, 7, 9), np.float32))
    with pytest.raises(onnxrun.errors.InvalidArgument, match="rank 4"):
        fn(np.zeros((6, 7, 9), np.float32))
    with pytest.raises(onnxrun.errors.InvalidArgument, match="dtype float64"):
        fn(np.zeros((1, 6, 7, 9), np.float64))
    bad, _ = conv_model((1, 6, 7, 9), (6, 1, 3, 3), dict(group=6, pads=[1, 1]))
    with pytest.raises(onnxrun.errors.InvalidArgument, match="pads"):
        onnxrun.InferenceSession(bad, providers=[NUMBA, CPU])


@pytest.mark.parametrize("attrs", [dict(pads=[1, 1, 1, 1]), dict(pads=[2, 2, 2, 2],
                                                                  strides=[2, 2])])
def test_one_and_two_threads_bit_exact(attrs, monkeypatch):
    from onnxrun.kernels.numba import conv as numba_conv
    from onnxrun.framework.intra_op import IntraOpPool

    blocks = []
    original = IntraOpPool.parallel_for

    def spy(self, n, fn, parts=None):
        blocks.append((self.num_threads, parts))
        return original(self, n, fn, parts)

    monkeypatch.setattr(IntraOpPool, "parallel_for", spy)
    monkeypatch.setattr(numba_conv, "GRAIN", 1000)  # split even this small conv
    k = 3 if "strides" not in attrs else 5
    model, feeds = conv_model((2, 13, 17, 19), (13, 1, k, k), dict(attrs, group=13),
                              act=("HardSwish", {}, []))
    _, one = run_on(model, feeds, [NUMBA, CPU], threads=1)
    _, two = run_on(model, feeds, [NUMBA, CPU], threads=2)
    _, three = run_on(model, feeds, [NUMBA, CPU], threads=3)
    assert blocks == [(1, 4), (2, 8), (3, 12)]
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one, three)
