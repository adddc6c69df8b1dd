"""com.microsoft.nchwc kernels: small CNNs saved by onnxruntime at ORT_ENABLE_ALL (which rewrites
them into NCHWc nodes for this machine) run in onnxrun and match onnxruntime running the
original; the layout helpers against index-by-index definitions; the block size the graph proves;
errors for bad inputs."""

from __future__ import annotations

import collections
import glob
import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxrun
from onnxrun.ir.convert import model_to_ir
from onnxrun.kernels.microsoft import _nchwc_layout as layout
from onnxrun.kernels.microsoft.nchwc_conv import filter_to_oihw

ort = pytest.importorskip("onnxruntime")

NCHWC = "com.microsoft.nchwc"


# ---- model building ------------------------------------------------------------------------
class Net:
    """A graph under construction (float32 NCHW input 'x' of symbolic batch)."""

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []

    def const(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.asarray(arr, np.float32), name))
        return name

    def op(self, op, inputs, **attrs):
        out = f"{op.lower()}{len(self.nodes)}"
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def conv(self, x, cin, cout, k=3, stride=1, group=1, dilation=1, act=None, bias=True):
        w = self.rng.standard_normal((cout, cin // group, k, k)) / np.sqrt(cin // group * k * k)
        ins = [x, self.const(f"w{len(self.inits)}", w)]
        if bias:
            ins.append(self.const(f"b{len(self.inits)}", self.rng.standard_normal(cout) * 0.1))
        pad = dilation * (k // 2)
        y = self.op("Conv", ins, kernel_shape=[k, k], strides=[stride] * 2, pads=[pad] * 4,
                    group=group, dilations=[dilation] * 2)
        return self.op(act, [y]) if act else y

    def model(self, out, shape=("N", 3, "H", "W"), opset=17):
        g = helper.make_graph(
            self.nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
            [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)], self.inits)
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def save_all(model, path) -> onnx.ModelProto:
    """The model as onnxruntime saves it at ORT_ENABLE_ALL on CPU."""
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.optimized_model_filepath = str(path)
    so.log_severity_level = 3
    src = model if isinstance(model, str) else model.SerializeToString()
    ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])
    return onnx.load(str(path))


def check_saved_runs(model, tmp_path, x_shape, expect_ops=(), feeds_extra=None, atol=1e-4):
    saved = save_all(model, tmp_path / "saved.onnx")
    ops = collections.Counter((n.domain, n.op_type) for n in saved.graph.node)
    if not any(d == NCHWC for d, _ in ops):
        pytest.skip("onnxruntime made no NCHWc nodes on this machine (MLAS without NCHWc)")
    for op in expect_ops:
        assert (NCHWC, op) in ops, f"expected an NCHWc {op} in the saved model, got {dict(ops)}"
    rng = np.random.default_rng(1)
    src = model if isinstance(model, str) else model.SerializeToString()
    reference = ort.InferenceSession(src, providers=["CPUExecutionProvider"])
    feeds = {reference.get_inputs()[0].name: rng.standard_normal(x_shape).astype(np.float32)}
    want = reference.run(None, feeds)
    got = onnxrun.InferenceSession(str(tmp_path / "saved.onnx")).run(
        None, {**feeds, **(feeds_extra or {})})
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=atol)
    return ops


# ---- small CNNs --------------------------------------------------------------------------
def residual_net():
    """NCHW-input conv, conv chain, residual Add+Relu (fused into the conv as Sum), max pool."""
    n = Net()
    a = n.conv("x", 3, 32, act="Relu")
    b = n.conv(n.conv(a, 32, 32, act="Relu"), 32, 32)
    r = n.op("Relu", [n.op("Add", [a, b])])
    p = n.op("MaxPool", [r], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    return n.model(n.op("GlobalAveragePool", [n.conv(p, 32, 16)]))


def depthwise_net():
    """Depthwise 3x3 (group = channels), pointwise 1x1, a padded output (40 channels)."""
    n = Net(2)
    a = n.conv("x", 3, 32, stride=2, act="Relu")
    d = n.conv(a, 32, 32, group=32, act="Relu")
    e = n.conv(d, 32, 48, k=1)
    return n.model(n.op("Sigmoid", [n.conv(e, 48, 40)]))


def pool_net(ceil_mode, count_include_pad):
    n = Net(3)
    a = n.conv("x", 3, 32, act="Relu")
    m = n.op("MaxPool", [a], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=ceil_mode)
    v = n.op("AveragePool", [m], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
             ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    g = n.op("GlobalMaxPool", [n.conv(v, 32, 32, act="Relu")])
    return n.model(n.op("Add", [g, n.op("GlobalAveragePool", [v])]))


def resize_net(mode, ctm):
    n = Net(4)
    a = n.conv("x", 3, 32, act="Relu")
    attrs = {"mode": mode, "coordinate_transformation_mode": ctm}
    if mode == "nearest":
        attrs["nearest_mode"] = "floor"
    up = n.op("Resize", [a, "", n.const("scales", [1, 1, 2, 3])], **attrs)
    return n.model(n.conv(up, 32, 16))


def concat_bn_se_net():
    """Concat of NCHWc branches, BatchNormalization (becomes a depthwise NCHWc Conv), a
    squeeze-excite Mul (reshaped to the true blocked shape), activations that fuse (Clip,
    LeakyRelu, HardSigmoid, Tanh), a dilated conv, and a Transpose to NHWC (ReorderOutput with
    channels_last)."""
    n = Net(5)
    a = n.op("Clip", [n.conv("x", 3, 32), n.const("lo", 0.0), n.const("hi", 6.0)])
    b1 = n.conv(a, 32, 16, k=1, act="Tanh")
    b2 = n.conv(a, 32, 16, dilation=2, act="Relu")
    cat = n.op("Concat", [b1, b2], axis=1)
    stats = [n.const(f"bn{i}", n.rng.uniform(0.5, 1.5, 32)) for i in range(4)]
    bn = n.op("BatchNormalization", [cat] + stats)
    se = n.op("Mul", [bn, n.op("Sigmoid", [n.op("GlobalMaxPool", [bn])])])
    c = n.op("HardSigmoid", [n.conv(se, 32, 32)], alpha=0.3, beta=0.4)
    d = n.conv(c, 32, 32, act="LeakyRelu")
    return n.model(n.op("Transpose", [d], perm=[0, 2, 3, 1]))


def nhwc_symbolic_net():
    """NHWC input of symbolic H, W (ReorderInput after a Transpose) and an Add of branches whose
    shapes cannot be proven equal (onnxruntime reshapes both to (N, C/B, H, W, B))."""
    n = Net(6)
    xt = n.op("Transpose", ["x"], perm=[0, 3, 1, 2])
    a = n.conv(xt, 32, 32, act="Relu")
    b = n.op("Relu", [n.conv(n.conv(xt, 32, 32, k=1), 32, 32, k=1)])
    s = n.op("Add", [a, b])
    return n.model(n.conv(n.op("Mul", [s, b]), 32, 16), shape=("N", "H", "W", 32))


@pytest.mark.parametrize("build,x_shape,expect", [
    (residual_net, (2, 3, 20, 18), ("Conv", "MaxPool")),
    (depthwise_net, (1, 3, 33, 31), ("Conv", "ReorderOutput")),
    (concat_bn_se_net, (2, 3, 16, 16), ("Conv", "GlobalMaxPool", "ReorderOutput")),
    (nhwc_symbolic_net, (2, 12, 10, 32), ("Conv", "ReorderInput")),
], ids=["residual", "depthwise", "concat_bn_se", "nhwc_symbolic"])
def test_saved_cnn_matches(tmp_path, build, x_shape, expect):
    ops = check_saved_runs(build(), tmp_path, x_shape, expect)
    if build is residual_net:
        saved = onnx.load(str(tmp_path / "saved.onnx"))
        sums = [n for n in saved.graph.node if n.domain == NCHWC and len(n.input) == 4]
        assert sums, "the residual Add was expected to fuse into an NCHWc Conv (Sum input)"
    if build is nhwc_symbolic_net:
        assert ("", "Reshape") in ops


@pytest.mark.parametrize("ceil_mode,count_include_pad", [(1, 0), (0, 1)])
def test_saved_pools_match(tmp_path, ceil_mode, count_include_pad):
    check_saved_runs(pool_net(ceil_mode, count_include_pad), tmp_path, (2, 3, 19, 23),
                     ("MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool"))


@pytest.mark.parametrize("mode,ctm", [("nearest", "asymmetric"), ("linear", "asymmetric"),
                                      ("linear", "half_pixel"), ("linear", "align_corners")])
def test_saved_upsample_matches(tmp_path, mode, ctm):
    check_saved_runs(resize_net(mode, ctm), tmp_path, (2, 3, 9, 7), ("Upsample",))


def _light(name):
    found = glob.glob(os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data",
                                   "light", f"light_{name}.onnx"))
    if not found:
        pytest.skip(f"onnx ships no light_{name}.onnx")
    return onnx.load(found[0])


def randomized(model: onnx.ModelProto, seed=0) -> onnx.ModelProto:
    """A light model with random weights: its ConstantOfShape weights (one constant value,
    under which any layout mistake would go unseen) become random initializers."""
    rng = np.random.default_rng(seed)
    g = model.graph
    shapes = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    keep, new_inits = [], []
    for node in g.node:
        if node.op_type == "ConstantOfShape" and node.input[0] in shapes:
            shape = [int(d) for d in shapes[node.input[0]]]
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 0
            w = (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in) if fan_in
                 else rng.uniform(0.5, 1.5, shape))  # 1-D: biases, batch norm statistics
            new_inits.append(numpy_helper.from_array(w.astype(np.float32), node.output[0]))
        else:
            keep.append(node)
    used = {i for n in keep for i in n.input}
    inits = [t for t in g.initializer if t.name in used] + new_inits
    names = {t.name for t in inits}
    inputs = [i for i in g.input if i.name not in names and i.name in used]
    graph = helper.make_graph(keep, g.name, inputs, list(g.output), inits)
    out = helper.make_model(graph, opset_imports=list(model.opset_import),
                            ir_version=model.ir_version)
    return out


def test_saved_squeezenet_matches(tmp_path):
    """A real CNN (random weights): NCHWc Conv, MaxPool, ReorderOutput, Concat on blocked
    tensors. About 2 s."""
    path = tmp_path / "squeezenet.onnx"
    onnx.save(randomized(_light("squeezenet")), str(path))
    check_saved_runs(str(path), tmp_path, (1, 3, 224, 224), ("Conv", "MaxPool"), atol=1e-5)


# ---- layout -----------------------------------------------------------------------------
def blocked_reference(x, b):
    """(N, C, H, W) -> blocked memory, element by element."""
    N, C, H, W = x.shape
    cp = -(-C // b) * b
    out = np.zeros((N, cp // b, H, W, b), np.float32)
    for c in range(C):
        out[:, c // b, :, :, c % b] = x[:, c]
    return out.reshape(N, cp, H, W)


@pytest.mark.parametrize("b", [8, 16])
@pytest.mark.parametrize("C", [3, 16, 20, 48])
def test_layout_roundtrip(b, C):
    x = np.random.default_rng(C).standard_normal((2, C, 5, 3)).astype(np.float32)
    blocked = layout.to_blocked(x, b)
    np.testing.assert_array_equal(blocked, blocked_reference(x, b))
    np.testing.assert_array_equal(layout.from_blocked(blocked, b, C), x)
    nhwc = x.transpose(0, 2, 3, 1).copy()
    np.testing.assert_array_equal(layout.to_blocked(nhwc, b, channels_last=True), blocked)
    np.testing.assert_array_equal(layout.from_blocked(blocked, b, C, channels_last=True), nhwc)


def reorder_filter_reference(w, b, inner_blocked):
    """OIHW -> MLAS's OIHWBiBo / OIHWBo memory, as described in MLAS's comments."""
    O, I, kh, kw = w.shape
    op = -(-O // b) * b
    if not inner_blocked:
        out = np.zeros((op // b, I, kh, kw, b), np.float32)
        for o in range(O):
            out[o // b, :, :, :, o % b] = w[o]
        return out.reshape(op, I, kh, kw)
    out = np.zeros((op // b, I // b, kh, kw, b, b), np.float32)
    for o in range(O):
        for i in range(I):
            out[o // b, i // b, :, :, i % b, o % b] = w[o, i]
    return out.reshape(op, I, kh, kw)


@pytest.mark.parametrize("b", [8, 16])
@pytest.mark.parametrize("inner_blocked", [True, False])
def test_filter_to_oihw(b, inner_blocked):
    w = np.random.default_rng(b).standard_normal((2 * b, 2 * b if inner_blocked else 3, 3, 2))
    w = w.astype(np.float32)
    back = filter_to_oihw(reorder_filter_reference(w, b, inner_blocked), b, inner_blocked)
    np.testing.assert_array_equal(back, w)


# ---- block size -------------------------------------------------------------------------
def _nchwc_graph(w_out, w_in, channels=None, reshape_b=None, src_reorder=False):
    """x -> [ReorderInput] -> NCHWc Conv (W of (w_out, w_in, 1, 1)) -> ReorderOutput."""
    nodes = []
    x = "x"
    if src_reorder:
        nodes.append(helper.make_node("ReorderInput", ["x"], ["xr"], domain=NCHWC))
        x = "xr"
    nodes.append(helper.make_node("Conv", [x, "w"], ["y"], domain=NCHWC))
    inits = [numpy_helper.from_array(np.zeros((w_out, w_in, 1, 1), np.float32), "w")]
    if reshape_b:
        inits.append(numpy_helper.from_array(
            np.array([0, w_out // reshape_b, 0, 0, reshape_b], np.int64), "shape"))
        nodes.append(helper.make_node("Reshape", ["y", "shape"], ["y5"]))
    nodes.append(helper.make_node("ReorderOutput", ["y"], ["z"], domain=NCHWC,
                                  channels=channels or w_out))
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", 1, None)],
                          [helper.make_tensor_value_info("z", 1, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                            helper.make_opsetid(NCHWC, 1)])
    return model_to_ir(m)


@pytest.mark.parametrize("kw,expected", [
    ({"w_out": 32, "w_in": 3}, {8, 16}),                     # nothing tells them apart
    ({"w_out": 24, "w_in": 3}, {8}),                          # 24 is no multiple of 16
    ({"w_out": 32, "w_in": 3, "channels": 20}, {16}),         # 12 padding channels: B > 12
    ({"w_out": 32, "w_in": 8}, {16}),                         # NCHW input of 8 channels: B > 8
    ({"w_out": 32, "w_in": 8, "src_reorder": True}, {8}),     # blocked input of 8: B <= 8
    ({"w_out": 32, "w_in": 3, "reshape_b": 8}, {8}),          # the split Reshape names B
])
def test_graph_candidates(kw, expected):
    assert layout.graph_candidates(_nchwc_graph(**kw)) == expected


def test_block_size_from_config_and_machine(tmp_path):
    class Info:
        graph = _nchwc_graph(32, 3)
        session = type("S", (), {"config": {}})()

    assert layout.block_size(Info) == (layout.machine_block_size() or 16)
    Info.session.config = {layout.BLOCK_SIZE_KEY: "8"}
    assert layout.block_size(Info) == 8
    Info.session.config = {layout.BLOCK_SIZE_KEY: "12"}
    with pytest.raises(onnxrun.InvalidArgument, match="power of two"):
        layout.block_size(Info)


# ---- errors -----------------------------------------------------------------------------
def _single(node, inits=(), in_shape=None):
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", 1, in_shape)],
                          [helper.make_tensor_value_info("y", 1, None)], list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                            helper.make_opsetid(NCHWC, 1)], ir_version=8)
    return m.SerializeToString()


def test_reorder_output_channel_mismatch_is_invalid_argument():
    so = onnxrun.SessionOptions()
    so.add_session_config_entry(layout.BLOCK_SIZE_KEY, "16")
    sess = onnxrun.InferenceSession(
        _single(helper.make_node("ReorderOutput", ["x"], ["y"], domain=NCHWC, channels=8)), so)
    with pytest.raises(onnxrun.InvalidArgument, match="block-aligned channel count"):
        sess.run(None, {"x": np.zeros((1, 32, 2, 2), np.float32)})
    with pytest.raises(onnxrun.InvalidArgument, match="4-D float32"):
        sess.run(None, {"x": np.zeros((1, 16, 2), np.float32)})
    out = sess.run(None, {"x": np.arange(16 * 4, dtype=np.float32).reshape(1, 16, 2, 2)})[0]
    np.testing.assert_array_equal(out.ravel(), np.arange(64).reshape(4, 16)[:, :8].T.ravel())


def test_conv_needs_constant_weights():
    node = helper.make_node("Conv", ["x", "w"], ["y"], domain=NCHWC)
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", 1, None),
                                        helper.make_tensor_value_info("w", 1, None)],
                          [helper.make_tensor_value_info("y", 1, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                            helper.make_opsetid(NCHWC, 1)], ir_version=8)
    with pytest.raises(onnxrun.InvalidArgument, match="W must be a constant"):
        onnxrun.InferenceSession(m.SerializeToString())


def test_upsample_bad_scales():
    node = helper.make_node("Upsample", ["x"], ["y"], domain=NCHWC, scales=[1, 2, 2, 2])
    with pytest.raises(onnxrun.InvalidArgument, match="scales must be"):
        onnxrun.InferenceSession(_single(node))


def test_graph_candidates_ignore_values_from_an_enclosing_graph():
    """A conv reading a value its graph neither takes as input nor produces (an outer value)
    says nothing about the block size."""
    graph = _nchwc_graph(32, 8)
    graph.inputs = []
    assert layout.graph_candidates(graph) == {8, 16}
