"""MatMulNBits (com.microsoft) against onnxruntime: packed 2/4/8-bit weights, block sizes
16-256, symmetric and asymmetric (packed uint8 or HQQ float zero points), g_idx, bias,
float16 activations, accuracy levels (4 quantizes A per block to int8), weights prepared once
at init or fed at run time, models made by MatMulNBitsQuantizer, and bad inputs.

float32 results differ from onnxruntime's only by summation order: each output is allowed
1e-5 of the largest output magnitude (a dot product of K terms cancels to small values)."""

import copy
import logging

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxrun
from onnxrun.errors import OnnxRuntimeError

from ._msq import F32, node_model, op_types, ort_session, run_both

RNG = np.random.default_rng(30)


def nbits_model(K, N, bits, block, level=0, zp=None, dt=np.float32, g_idx=False, bias=False,
                const=True, **attrs):
    """A MatMulNBits node with random packed weights; zp: None, 'u8' (packed) or 'float'."""
    kb = -(-K // block)
    ins = [("A", np.zeros((1, K), dt), False),
           ("B", RNG.integers(0, 256, (N, kb, block * bits // 8), dtype=np.uint8), const),
           ("scales", (RNG.random((N, kb)) * 0.1 + 0.01).astype(dt), const)]
    if zp == "u8":
        ins.append(("zp", RNG.integers(0, 256, (N, -(-kb * bits // 8)), dtype=np.uint8), const))
    elif zp == "float":
        ins.append(("zp", (RNG.random((N, kb)) * (2 ** bits - 1)).astype(dt), const))
    else:
        ins.append(("zp", None, True))
    ins.append(("g_idx", RNG.integers(0, kb, K).astype(np.int32) if g_idx else None, const))
    ins.append(("bias", RNG.standard_normal(N).astype(dt) if bias else None, const))
    m, feeds = node_model("MatMulNBits", ins, dict(K=K, N=N, bits=bits, block_size=block,
                                                   accuracy_level=level, **attrs), opset=21,
                           dynamic=("A", "B", "scales", "zp", "g_idx", "bias"))
    return m, feeds


def _run(m, feeds, A):
    return run_both(m, dict(feeds, A=A))


def assert_close(exp, got, rel=1e-5):
    """Each output within ``rel`` times its largest magnitude (dtype and shape equal)."""
    for e, g in zip(exp, got):
        assert g.dtype == e.dtype and g.shape == e.shape
        e, g = e.astype(np.float64), g.astype(np.float64)
        np.testing.assert_allclose(g, e, rtol=0, atol=rel * max(np.abs(e).max(), 1e-6))


@pytest.mark.parametrize("bits", [2, 4, 8])
@pytest.mark.parametrize("block", [16, 32, 64, 128, 256])
@pytest.mark.parametrize("zp", [None, "u8"])
def test_bits_blocks_zero_points(bits, block, zp):
    K = 2 * block + 16  # a partial last block
    m, f = nbits_model(K, 24, bits, block, zp=zp)
    exp, got = _run(m, f, RNG.standard_normal((3, K)).astype(F32))
    assert_close(exp, got)


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_accuracy_level_4_quantizes_a(bits):
    """Level 4 matches onnxruntime's int8 path closely, and visibly differs from level 0 (so
    the int8 quantization of A is really reproduced, not skipped)."""
    m4, f = nbits_model(160, 24, bits, 32, level=4, zp="u8")
    A = RNG.standard_normal((5, 160)).astype(F32)
    exp4, got4 = _run(m4, f, A)
    assert_close(exp4, got4)
    exp0 = ort_session(_with_level(m4, 0)).run(None, dict(f, A=A))[0]
    assert np.abs(exp0 - exp4[0]).max() > 100 * np.abs(got4[0] - exp4[0]).max()


def _with_level(model_bytes, level):
    m = onnx.load_from_string(model_bytes)
    for a in m.graph.node[0].attribute:
        if a.name == "accuracy_level":
            a.i = level
    return m.SerializeToString()


@pytest.mark.parametrize("level", [0, 1, 4])
def test_hqq_float_zero_points(level):
    """HQQ zero points (A's type): onnxruntime computes them with float math and never
    quantizes A for them, whatever the accuracy level."""
    m, f = nbits_model(128, 24, 4, 32, level=level, zp="float")
    assert_close(*_run(m, f, RNG.standard_normal((3, 128)).astype(F32)))


def test_g_idx_and_bias():
    m, f = nbits_model(128, 24, 4, 32, g_idx=True, bias=True)
    assert_close(*_run(m, f, RNG.standard_normal((2, 3, 128)).astype(F32)))


def test_g_idx_with_packed_zero_points_follows_the_spec():
    """With g_idx, onnxruntime 1.32's CPU kernel ignores packed uint8 zero points (it uses
    2**(bits-1)); onnxrun applies them as the spec says. Checked against the formula."""
    K, N, blk = 64, 8, 16
    m, f = nbits_model(K, N, 4, blk, zp="u8", g_idx=True, const=False)
    A = RNG.standard_normal((2, K)).astype(F32)
    got = onnxrun.InferenceSession(m).run(None, dict(f, A=A))[0]
    q = np.stack([f["B"] & 15, f["B"] >> 4], -1).reshape(N, -1)[:, :K].astype(F32)
    z = np.stack([f["zp"] & 15, f["zp"] >> 4], -1).reshape(N, -1)[:, :K // blk].astype(F32)
    g = f["g_idx"]
    w = (q - z[:, g]) * f["scales"][:, g]
    np.testing.assert_allclose(got, A @ w.T, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("level", [0, 4])
def test_float16(level):
    m, f = nbits_model(128, 24, 4, 32, level=level, zp="u8", dt=np.float16, bias=True)
    exp, got = _run(m, f, RNG.standard_normal((3, 128)).astype(np.float16))
    assert got[0].dtype == np.float16
    np.testing.assert_allclose(got[0].astype(F32), exp[0].astype(F32), rtol=2e-3, atol=2e-3)


def test_runtime_weights():
    """B, scales and zero points fed at run time: dequantized per run; onnxruntime then uses
    float activations even at level 4 (its int8 path needs constant, prepacked weights)."""
    m, f = nbits_model(96, 16, 4, 32, level=4, zp="u8", const=False)
    assert_close(*_run(m, f, RNG.standard_normal((3, 96)).astype(F32)))


def test_weight_dequantized_once_at_init(monkeypatch):
    """The constant weight is dequantized while the session is built, not on each run."""
    from onnxrun.kernels.microsoft import matmul_nbits
    calls = []
    real = matmul_nbits.MatMulNBits._dequantize
    monkeypatch.setattr(matmul_nbits.MatMulNBits, "_dequantize",
                        lambda self, *a: calls.append(1) or real(self, *a))
    m, f = nbits_model(64, 8, 4, 16)
    sess = onnxrun.InferenceSession(m)
    assert len(calls) == 1
    for _ in range(3):
        sess.run(None, dict(f, A=RNG.standard_normal((2, 64)).astype(F32)))
    assert len(calls) == 1


def test_empty_weight_gives_bias():
    """A B with a zero dimension means an omitted projection: Y is the bias."""
    N, K = 6, 32
    ins = [("A", RNG.standard_normal((2, K)).astype(F32), False),
           ("B", np.zeros((0, 2, 8), np.uint8), True), ("scales", np.zeros((0,), F32), True),
           ("zp", None, True), ("g_idx", None, True),
           ("bias", RNG.standard_normal(N).astype(F32), True)]
    m, f = node_model("MatMulNBits", ins, dict(K=K, N=N, bits=4, block_size=16), opset=21)
    exp, got = run_both(m, f)
    assert_close(exp, got)
    np.testing.assert_array_equal(got[0], np.broadcast_to(ins[-1][1], (2, N)))


@pytest.mark.parametrize("bits", [4, 8])
@pytest.mark.parametrize("sym", [True, False])
@pytest.mark.parametrize("level", [None, 4])
def test_matmul_nbits_quantizer_models(bits, sym, level):
    """Models made by onnxruntime's MatMulNBitsQuantizer (MatMul -> MatMulNBits, Gather ->
    GatherBlockQuantized for 4 bits)."""
    pytest.importorskip("onnx_ir")  # the quantizer imports it
    from onnxruntime.quantization import matmul_nbits_quantizer as mq
    logging.getLogger("onnxruntime.quantization").setLevel(logging.ERROR)
    K, N, V = 64, 32, 50
    inits = [numpy_helper.from_array(RNG.standard_normal((K, N)).astype(F32), "W"),
             numpy_helper.from_array(RNG.standard_normal((V, K)).astype(F32), "E")]
    nodes = [helper.make_node("Gather", ["E", "ids"], ["x"]),
             helper.make_node("MatMul", ["x", "W"], ["y"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("ids", TensorProto.INT64,
                                                                     [2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3, N])],
                          inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
    cfg = mq.DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=sym, bits=bits,
                                          accuracy_level=level,
                                          op_types_to_quantize=("MatMul", "Gather"),
                                          quant_axes=(("MatMul", 0), ("Gather", 1)))
    q = mq.MatMulNBitsQuantizer(copy.deepcopy(model), algo_config=cfg)
    q.process()
    qm = q.model.model
    ops = op_types(qm)
    assert "com.microsoft:MatMulNBits" in ops
    if bits == 4:
        assert "com.microsoft:GatherBlockQuantized" in ops
    ids = RNG.integers(0, V, (2, 3)).astype(np.int64)
    assert_close(*run_both(qm, {"ids": ids}))


def _bad(match, **kw):
    m, f = nbits_model(**kw)
    with pytest.raises(OnnxRuntimeError, match=match):
        onnxrun.InferenceSession(m).run(None, dict(f, A=np.zeros((1, kw["K"]), F32)))


def test_errors():
    _bad("bits must be 2, 4 or 8", K=32, N=4, bits=3, block=16)
    _bad("block_size must be a power of 2", K=32, N=4, bits=4, block=24)
    _bad("accuracy_level must be 0..4", K=32, N=4, bits=4, block=16, level=7)
    m, f = nbits_model(64, 8, 4, 16, const=False)
    for key, bad, match in (("B", f["B"][:, :3], "B must have shape"),
                            ("scales", f["scales"][:, :2], "scales must have shape"),
                            ("zp", np.zeros((8, 1), np.uint8), "zero_points must have shape")):
        feeds = dict(f, A=np.zeros((1, 64), F32))
        if key == "zp":
            m2, f2 = nbits_model(64, 8, 4, 16, zp="u8", const=False)
            m, feeds = m2, dict(f2, A=np.zeros((1, 64), F32))
        feeds[key] = bad
        with pytest.raises(OnnxRuntimeError, match=match):
            onnxrun.InferenceSession(m).run(None, feeds)
    m, f = nbits_model(64, 8, 4, 16)
    with pytest.raises(OnnxRuntimeError, match="last dimension must be K=64"):
        onnxrun.InferenceSession(m).run(None, dict(f, A=np.zeros((1, 60), F32)))
    m, f = nbits_model(64, 8, 4, 16, dt=np.float64)
    with pytest.raises(OnnxRuntimeError, match="scales must be float, float16 or bfloat16"):
        onnxrun.InferenceSession(m)
    m, f = nbits_model(64, 8, 4, 16)
    proto = onnx.load_from_string(m)
    proto.graph.input[0].type.tensor_type.elem_type = TensorProto.DOUBLE
    with pytest.raises(OnnxRuntimeError, match="A must be float, float16 or bfloat16"):
        onnxrun.InferenceSession(proto.SerializeToString()).run(
            None, dict(f, A=np.zeros((1, 64), np.float64)))
    m, f = nbits_model(64, 8, 4, 16, g_idx=True, const=False)
    f["g_idx"] = f["g_idx"] + 10
    with pytest.raises(OnnxRuntimeError, match="g_idx values must be in"):
        onnxrun.InferenceSession(m).run(None, dict(f, A=np.zeros((1, 64), F32)))
