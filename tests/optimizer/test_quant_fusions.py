"""Quantization rewrites (QDQ pairs, repeated QDQ pairs, lookup tables, integer product + Cast,
Gather before DequantizeLinear, QLinearConv + lookup): which nodes they take, and outputs
bit-identical to the unfused graph on values that probe rounding ties, saturation, NaN,
infinities and signed zeros, on 1 and 2 threads. Saved optimized models carry plain-ONNX
bodies for the fused ops, which onnxruntime runs to the same numbers (within one code where
its own QLinearConv rounds a code the other way)."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxrun

ort = pytest.importorskip("onnxruntime")
RNG = np.random.default_rng(7)
FUSIONS = ["QuantLookupFusion", "QDQFusion", "RepeatedQDQElimination", "IntegerCastFusion",
           "GatherBeforeDequantize", "ConvLookupFusion"]


def _model(nodes, inputs, outputs, inits=(), opset=21):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)
    return m.SerializeToString()


def _c(name, value, dtype):
    return numpy_helper.from_array(np.array(value, dtype), name)


def _sessions(model, threads=1):
    so = onnxrun.SessionOptions()
    so.intra_op_num_threads = threads
    return (onnxrun.InferenceSession(model, so),
            onnxrun.InferenceSession(model, so, disabled_optimizers=FUSIONS))


def _ops(sess):
    return sorted(n.op_type for n in sess._core.graph.nodes)


def _same(model, feeds, threads=1):
    fused, plain = _sessions(model, threads)
    for a, b in zip(fused.run(None, feeds), plain.run(None, feeds)):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()  # bits: signed zeros and NaN payloads included
    return fused


def _probe(shape, scale):
    """Random values plus every rounding tie near the grid, saturating values, NaN, +-inf,
    +-0 and tiny negatives (which round to -0)."""
    x = (RNG.standard_normal(shape) * 100 * scale).astype(np.float32).reshape(-1)
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, -1e-30, 3e38, -3e38], np.float32)
    ties = ((np.arange(-300, 300) + 0.5) * scale).astype(np.float32)
    n = min(x.size, special.size + ties.size)
    x[:n] = np.concatenate([special, ties])[:n]
    return RNG.permutation(x).reshape(shape)


@pytest.mark.parametrize("zp", [np.uint8(128), np.int8(-3), np.uint8(0), np.int16(-300),
                                np.uint16(7), None])
@pytest.mark.parametrize("threads", [1, 2])
def test_qdq_pair_fused_bit_identical(zp, threads):
    shape = (3, 700, 260) if threads == 2 else (5, 37)  # the large one splits over threads
    qz = [] if zp is None else [_c("qz", zp, np.asarray(zp).dtype)]
    dz = [] if zp is None else [_c("dz", zp, np.asarray(zp).dtype)]
    elem = TensorProto.UINT8 if zp is None else helper.np_dtype_to_tensor_dtype(
        np.asarray(zp).dtype)
    nodes = [helper.make_node("QuantizeLinear", ["x", "qs"] + (["qz"] if qz else []), ["q"]),
             helper.make_node("DequantizeLinear", ["q", "ds"] + (["dz"] if dz else []), ["y"])]
    m = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
               [_c("qs", 0.05, np.float32), _c("ds", 0.05, np.float32)] + qz + dz)
    assert elem  # (the element type the pair quantizes to)
    fused = _same(m, {"x": _probe(shape, 0.05)}, threads)
    assert _ops(fused) == ["QuantizeDequantize"]


def test_qdq_pair_with_other_dequantize_parameters_and_negative_scale():
    nodes = [helper.make_node("QuantizeLinear", ["x", "qs", "qz"], ["q"]),
             helper.make_node("DequantizeLinear", ["q", "ds", "dz"], ["y"])]
    m = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 64])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 64])],
               [_c("qs", -0.1, np.float32), _c("qz", 10, np.int8),
                _c("ds", 0.37, np.float32), _c("dz", -5, np.int8)])
    fused = _same(m, {"x": _probe((4, 64), 0.1)})
    assert _ops(fused) == ["QuantizeDequantize"]


def test_qdq_pair_shared_quantize_and_what_is_not_fused():
    q = helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"])
    d1 = helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y1"])
    d2 = helper.make_node("DequantizeLinear", ["q", "s2", "z"], ["y2"])
    f = helper.make_tensor_value_info
    inits = [_c("s", 0.02, np.float32), _c("s2", 0.5, np.float32), _c("z", 3, np.uint8)]
    m = _model([q, d1, d2], [f("x", TensorProto.FLOAT, [8])],
               [f("y1", TensorProto.FLOAT, [8]), f("y2", TensorProto.FLOAT, [8])], inits)
    assert _ops(_same(m, {"x": _probe((8,), 0.02)})) == ["QuantizeDequantize"] * 2
    # the codes are also an output: kept; per-axis scales: kept
    m = _model([q, d1], [f("x", TensorProto.FLOAT, [8])],
               [f("y1", TensorProto.FLOAT, [8]), f("q", TensorProto.UINT8, [8])], inits)
    assert _ops(_same(m, {"x": _probe((8,), 0.02)})) == ["DequantizeLinear", "QuantizeLinear"]
    axis = [numpy_helper.from_array(np.full(4, 0.1, np.float32), "s"),
            numpy_helper.from_array(np.zeros(4, np.uint8), "z")]
    m = _model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=1), d1],
               [f("x", TensorProto.FLOAT, [2, 4])], [f("y1", TensorProto.FLOAT, [2, 4])],
               axis)
    assert _ops(_same(m, {"x": _probe((2, 4), 0.1)})) == ["DequantizeLinear", "QuantizeLinear"]


def test_qdq_pair_on_a_constant_is_folded():
    nodes = [helper.make_node("QuantizeLinear", ["w", "s", "z"], ["q"]),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["wq"]),
             helper.make_node("Add", ["x", "wq"], ["y"])]
    w = numpy_helper.from_array(_probe((6,), 0.1), "w")
    m = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [6])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [6])],
               [w, _c("s", 0.1, np.float32), _c("z", 0, np.int8)])
    assert _ops(_same(m, {"x": RNG.standard_normal(6).astype(np.float32)})) == ["Add"]


def _qdq(x, y, s, z, tag):
    return [helper.make_node("QuantizeLinear", [x, s, z], [f"q{tag}"]),
            helper.make_node("DequantizeLinear", [f"q{tag}", s, z], [y])]


@pytest.mark.parametrize("second_scale,removed", [(0.03, True), (0.031, False)])
def test_repeated_qdq_across_reshape_and_transpose(second_scale, removed):
    nodes = (_qdq("x", "a", "s", "z", 1)
             + [helper.make_node("Reshape", ["a", "shape"], ["r"]),
                helper.make_node("Transpose", ["r"], ["t"], perm=[1, 0])]
             + _qdq("t", "u", "s2", "z", 2)
             + [helper.make_node("Neg", ["u"], ["y"])])  # (a graph output would stay)
    inits = [_c("s", 0.03, np.float32), _c("s2", second_scale, np.float32),
             _c("z", 100, np.uint8), numpy_helper.from_array(np.array([6, 4]), "shape")]
    m = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 6])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 6])], inits)
    fused = _same(m, {"x": _probe((4, 6), 0.03)})
    want = ["Neg", "QuantizeDequantize", "Reshape", "Transpose"]
    assert _ops(fused) == (want if removed else sorted(want + ["QuantizeDequantize"]))


def test_requantizing_every_grid_value_changes_nothing():
    """What the repeated-QDQ elimination relies on, over every code of every type and a
    spread of scales: quantize-dequantize maps its own grid onto itself, bit for bit."""
    from onnxrun.kernels.quant import _blocked
    for dt in (np.int8, np.uint8, np.int16, np.uint16):
        info = np.iinfo(dt)
        codes = np.arange(info.min, info.max + 1)
        for s in (2.0 ** -100, 1e-7, 0.0123, 0.5, 1.0, 3.3, 1e10, 2.0 ** 100, -0.07):
            for z in (info.min, 0 if info.min < 0 else 1, info.max):
                p = _blocked.per_tensor(np.array(s, np.float32), np.array(z, dt), dt)
                grid = ((codes - z).astype(np.float32) * np.float32(s)).astype(np.float32)
                again = np.empty_like(grid)
                _blocked.quantize_dequantize(grid, p, p, again, None)
                assert again.tobytes() == grid.tobytes(), (dt, s, z)


@pytest.mark.parametrize("codes", [np.uint8, np.int8])
def test_lookup_of_activation_between_quantization_steps(codes):
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(codes))
    z = 128 if codes == np.uint8 else 0
    nodes = [helper.make_node("DequantizeLinear", ["x", "s", "z"], ["d"]),
             helper.make_node("HardSwish", ["d"], ["h"]),
             helper.make_node("Mul", ["h", "k"], ["m"]),
             helper.make_node("Clip", ["m", "lo", ""], ["c"]),
             helper.make_node("QuantizeLinear", ["c", "s2", "z"], ["q"]),
             helper.make_node("DequantizeLinear", ["q", "s2", "z"], ["y"])]
    inits = [_c("s", 0.05, np.float32), _c("s2", 0.03, np.float32), _c("z", z, codes),
             _c("k", 1.5, np.float32), _c("lo", -1.0, np.float32)]
    m = _model(nodes, [helper.make_tensor_value_info("x", elem, [2, 256])],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 256])], inits)
    x = np.arange(512).astype(np.uint8).view(codes).reshape(2, 256)  # every code
    assert _ops(_same(m, {"x": x})) == ["ByteLookup"]


def test_lookup_takes_the_quantize_before_it_and_keeps_8_bit_outputs():
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q0"]),
             helper.make_node("DequantizeLinear", ["q0", "s", "z"], ["d"]),
             helper.make_node("LeakyRelu", ["d"], ["r"], alpha=0.1),
             helper.make_node("QuantizeLinear", ["r", "s", "z"], ["y"])]
    inits = [_c("s", 0.02, np.float32), _c("z", -20, np.int8)]
    for threads, shape in ((1, (3, 50)), (2, (4, 800, 200))):
        m = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                   [helper.make_tensor_value_info("y", TensorProto.INT8, shape)], inits)
        assert _ops(_same(m, {"x": _probe(shape, 0.02)}, threads)) == ["ByteLookup"]


def test_lookup_chain_through_several_qdq_pairs_on_a_branch():
    """A QDQ GELU: x is read by the Div branch and by the final Mul. The branch
    Div -> Erf -> Q -> DQ -> Add -> Q -> DQ becomes one table of x's codes."""
    nodes = (_qdq("x", "xd", "s", "z", 1)
             + [helper.make_node("Div", ["xd", "sqrt2"], ["a"]),
                helper.make_node("Erf", ["a"], ["e"])]
             + _qdq("e", "ed", "s2", "z", 2)
             + [helper.make_node("Add", ["ed", "one"], ["p"])]
             + _qdq("p", "pd", "s3", "z", 3)
             + [helper.make_node("Mul", ["xd", "pd"], ["y"])])
    inits = [_c("s", 0.04, np.float32), _c("s2", 1 / 127, np.float32),
             _c("s3", 2 / 255, np.float32), _c("z", 0, np.int8),
             _c("sqrt2", 1.4142135, np.float32), _c("one", 1.0, np.float32)]
    f = helper.make_tensor_value_info
    m = _model(nodes, [f("x", TensorProto.FLOAT, [3, 400])], [f("y", TensorProto.FLOAT, None)],
               inits)
    fused = _same(m, {"x": _probe((3, 400), 0.04)})
    assert _ops(fused) == ["ByteLookup", "DequantizeLinear", "Mul", "QuantizeLinear"]


def test_no_lookup_through_transcendental_or_shape_changing_ops():
    nodes = [helper.make_node("DequantizeLinear", ["x", "s", "z"], ["d"]),
             helper.make_node("Sigmoid", ["d"], ["h"]),
             helper.make_node("QuantizeLinear", ["h", "s", "z"], ["y"])]
    inits = [_c("s", 0.05, np.float32), _c("z", 3, np.uint8)]
    f = helper.make_tensor_value_info
    m = _model(nodes, [f("x", TensorProto.UINT8, [4])], [f("y", TensorProto.UINT8, [4])], inits)
    assert "ByteLookup" not in _ops(_same(m, {"x": np.arange(4, dtype=np.uint8)}))
    nodes[1] = helper.make_node("Add", ["d", "b"], ["h"])  # a per-element operand
    m = _model(nodes, [f("x", TensorProto.UINT8, [4])], [f("y", TensorProto.UINT8, [4])],
               inits + [numpy_helper.from_array(np.arange(4, dtype=np.float32), "b")])
    assert "ByteLookup" not in _ops(_same(m, {"x": np.arange(4, dtype=np.uint8)}))


def test_integer_products_and_cast_fused():
    w = RNG.integers(-128, 128, (300, 20)).astype(np.int8)
    cw = RNG.integers(-128, 128, (6, 3, 3, 3)).astype(np.int8)
    nodes = [helper.make_node("MatMulInteger", ["a", "w", "az", "wz"], ["acc"]),
             helper.make_node("Cast", ["acc"], ["y"], to=TensorProto.FLOAT),
             helper.make_node("ConvInteger", ["x", "cw", "az"], ["cacc"], pads=[1, 1, 1, 1]),
             helper.make_node("Cast", ["cacc"], ["cy"], to=TensorProto.FLOAT)]
    inits = [numpy_helper.from_array(w, "w"), _c("wz", 0, np.int8),
             numpy_helper.from_array(cw, "cw")]
    f = helper.make_tensor_value_info
    m = _model(nodes, [f("a", TensorProto.UINT8, [2, 7, 300]), f("az", TensorProto.UINT8, []),
                       f("x", TensorProto.UINT8, [1, 3, 9, 9])],
               [f("y", TensorProto.FLOAT, None), f("cy", TensorProto.FLOAT, None)], inits)
    a = RNG.integers(0, 256, (2, 7, 300)).astype(np.uint8)
    a[0, 0] = 0  # products far past 2**24 in the float32 sum: rounded once, like the Cast
    feeds = {"a": a, "az": np.array(255, np.uint8),
             "x": RNG.integers(0, 256, (1, 3, 9, 9)).astype(np.uint8)}
    fused = _same(m, feeds)
    assert _ops(fused) == ["ConvIntegerFloat", "MatMulIntegerFloat"]
    want = ort.InferenceSession(m, providers=["CPUExecutionProvider"]).run(None, feeds)
    for got, exp in zip(fused.run(None, feeds), want):
        np.testing.assert_array_equal(got, exp)


def test_saved_optimized_model_runs_in_onnxruntime(tmp_path):
    nodes = ([helper.make_node("MatMulInteger", ["a", "w"], ["acc"]),
              helper.make_node("Cast", ["acc"], ["f"], to=TensorProto.FLOAT)]
             + _qdq("f", "d", "s", "z", 1)
             + [helper.make_node("Relu", ["d"], ["r"])]
             + _qdq("r", "y", "s", "z", 2)
             + _qdq("f", "d3", "s", "z", 3) + [helper.make_node("Abs", ["d3"], ["y2"])]
             + [helper.make_node("DequantizeLinear", ["c", "s", "z"], ["cd"]),
                helper.make_node("HardSigmoid", ["cd"], ["ch"]),
                helper.make_node("QuantizeLinear", ["ch", "s", "z"], ["y3"])])
    inits = [numpy_helper.from_array(RNG.integers(-128, 128, (16, 8)).astype(np.int8), "w"),
             _c("s", 7.0, np.float32), _c("z", -100, np.int8)]
    f = helper.make_tensor_value_info
    m = _model(nodes, [f("a", TensorProto.UINT8, [5, 16]), f("c", TensorProto.INT8, [256])],
               [f("y", TensorProto.FLOAT, None), f("y2", TensorProto.FLOAT, None),
                f("y3", TensorProto.INT8, None)], inits)
    so = onnxrun.SessionOptions()
    so.optimized_model_filepath = str(tmp_path / "opt.onnx")
    sess = onnxrun.InferenceSession(m, so)
    assert _ops(sess) == ["Abs", "ByteLookup", "ByteLookup", "MatMulIntegerFloat",
                          "QuantizeDequantize"]
    saved = onnx.load(so.optimized_model_filepath).SerializeToString()
    feeds = {"a": RNG.integers(0, 256, (5, 16)).astype(np.uint8),
             "c": np.arange(256).astype(np.uint8).view(np.int8)}
    want = sess.run(None, feeds)
    got = ort.InferenceSession(saved, providers=["CPUExecutionProvider"]).run(None, feeds)
    again = onnxrun.InferenceSession(saved).run(None, feeds)
    for w, g, a in zip(want, got, again):
        np.testing.assert_array_equal(g, w)
        assert a.tobytes() == w.tobytes()


@pytest.mark.parametrize("axis_scale", [False, True])
def test_gather_before_dequantize_keeps_the_table_8_bit(axis_scale):
    table = RNG.integers(0, 256, (50, 6)).astype(np.uint8)
    scale = (numpy_helper.from_array(RNG.uniform(0.01, 0.1, 6).astype(np.float32), "s")
             if axis_scale else _c("s", 0.05, np.float32))
    zero = (numpy_helper.from_array(np.full(6, 3, np.uint8), "z") if axis_scale
            else _c("z", 3, np.uint8))
    nodes = [helper.make_node("DequantizeLinear", ["t", "s", "z"], ["w"], axis=1),
             helper.make_node("Gather", ["w", "i"], ["e"]),
             helper.make_node("Gather", ["w", "j"], ["y2"], axis=0),
             helper.make_node("Neg", ["e"], ["y"])]
    f = helper.make_tensor_value_info
    m = _model(nodes, [f("i", TensorProto.INT64, [2, 3]), f("j", TensorProto.INT32, [4])],
               [f("y", TensorProto.FLOAT, None), f("y2", TensorProto.FLOAT, None)],
               [numpy_helper.from_array(table, "t"), scale, zero])
    feeds = {"i": np.array([[0, 49, -1], [7, 7, 3]]), "j": np.array([1, -50, 2, 2], np.int32)}
    fused = _same(m, feeds)
    consts = [v.const for v in fused._core.graph.values.values() if v.const is not None]
    if axis_scale:  # a scale per column: not moved, the table is folded to float32
        assert _ops(fused) == ["Gather", "Gather", "Neg"]
    else:
        assert _ops(fused) == ["DequantizeLinear", "DequantizeLinear", "Gather", "Gather",
                               "Neg"]
        assert [c.dtype for c in consts if c.size == table.size] == [np.uint8]
    with pytest.raises(Exception, match="out of|range|bound"):
        fused.run(None, {"i": np.array([[0, 50, 0], [0, 0, 0]]), "j": feeds["j"]})


@pytest.mark.parametrize("channels_last,group", [(0, 1), (1, 8), (0, 8)])
def test_qlinearconv_takes_the_lookup_of_its_codes(tmp_path, channels_last, group):
    """QLinearConv -> DQ -> HardSwish -> Q (a QOperator model's activation): the table is
    applied as the conv requantizes; the same bits on the CPU and Numba providers."""
    ms = "com.microsoft"
    w = RNG.integers(-128, 128, (8, 8 // group, 3, 3)).astype(np.int8)
    c = numpy_helper.from_array
    inits = [_c("s", 0.05, np.float32), _c("z", 128, np.uint8), c(w, "w"),
             c(RNG.uniform(1e-3, 4e-3, 8).astype(np.float32), "ws"),
             c(np.zeros(8, np.int8), "wz"), c(RNG.integers(-900, 900, 8).astype(np.int32), "b")]
    nodes = [helper.make_node("QLinearConv", ["x", "s", "z", "w", "ws", "wz", "s", "z", "b"],
                              ["c"], pads=[1, 1, 1, 1], group=group,
                              **({"domain": ms, "channels_last": 1} if channels_last else {})),
             helper.make_node("DequantizeLinear", ["c", "s", "z"], ["d"]),
             helper.make_node("HardSwish", ["d"], ["h"]),
             helper.make_node("QuantizeLinear", ["h", "s", "z"], ["y"])]
    shape = [2, 9, 7, 8] if channels_last else [2, 8, 9, 7]
    f = helper.make_tensor_value_info
    g = helper.make_graph(nodes, "g", [f("x", TensorProto.UINT8, shape)],
                          [f("y", TensorProto.UINT8, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21),
                                            helper.make_opsetid(ms, 1)], ir_version=10)
    m = m.SerializeToString()
    feeds = {"x": RNG.integers(0, 256, shape).astype(np.uint8)}
    fused = _same(m, feeds)
    assert _ops(fused) == ["QLinearConvLookup"]
    cpu = onnxrun.InferenceSession(m, providers=["CPUExecutionProvider"])
    assert cpu.run(None, feeds)[0].tobytes() == fused.run(None, feeds)[0].tobytes()
    so = onnxrun.SessionOptions()
    so.optimized_model_filepath = str(tmp_path / "opt.onnx")
    onnxrun.InferenceSession(m, so)
    saved = onnx.load(so.optimized_model_filepath).SerializeToString()
    got = ort.InferenceSession(saved, providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    # (onnxruntime's own QLinearConv may round a code the other way: within one code)
    np.testing.assert_allclose(got.astype(int), fused.run(None, feeds)[0].astype(int), atol=1)
