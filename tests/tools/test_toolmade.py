"""A few tool-made models, built without torch (onnx.helper graph -> onnxruntime's tools), run
in onnxrun and match onnxruntime. The full set is scripts/toolmade_models.py +
scripts/conformance.py --toolmade. Marked ``toolmade``; about 3 s."""

from __future__ import annotations

import onnx
import pytest

from tests.tools import toolmade as tm

pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.toolmade

#: com.microsoft kernels written on other branches: a model needing one of these is skipped
#: (naming them) until they are merged, then it must run and match
PENDING = {"com.microsoft::" + op for op in (
    "SkipLayerNormalization", "SkipSimplifiedLayerNormalization", "SimplifiedLayerNormalization",
    "EmbedLayerNormalization", "Attention", "MultiHeadAttention", "GroupQueryAttention",
    "RotaryEmbedding", "BiasGelu", "FastGelu", "Gelu", "QuickGelu", "BiasSoftmax", "FusedMatMul",
    "FusedGemm", "FusedConv", "MatMulNBits", "GatherBlockQuantized", "QLinearAdd", "QLinearMul",
    "QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax", "QLinearConcat",
    "QLinearAveragePool", "QLinearGlobalAveragePool", "QGemm", "QAttention",
    "QEmbedLayerNormalization", "DynamicQuantizeMatMul", "MatMulIntegerToFloat",
    "DynamicQuantizeLSTM", "QLinearConv", "SparseToDenseMatMul")}

CASES = {
    # NCHWc nodes (com.microsoft.nchwc) for this machine
    "cnn.ort_all": (tm.cnn_model, tm.Family("cnn", ""), {}),
    # QuantizeLinear / DequantizeLinear around every Conv and Gemm
    "cnn.qstatic_qdq": (tm.cnn_model, tm.Family("cnn", ""), {}),
    # DynamicQuantizeLinear + MatMulInteger
    "encoder.qdyn": (tm.encoder_model, tm.Family("encoder", "bert", 4, 64), {"sequence": 8}),
    # onnxruntime's transformer fusions (SkipLayerNormalization, BiasGelu, FusedMatMul, ...)
    "encoder.ort_all": (tm.encoder_model, tm.Family("encoder", "bert", 4, 64), {"sequence": 8}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_toolmade_model_runs_and_matches(tmp_path, name):
    build, fam, dims = CASES[name]
    variant = name.split(".", 1)[1]
    src = str(tmp_path / "float.onnx")
    onnx.save(build(), src)
    dst = str(tmp_path / f"{name}.onnx")
    tm.make_variant(variant, src, dst, fam,
                    lambda: [tm.random_feeds(src, dims, seed=s) for s in range(4)])
    result = tm.compare(name, dst, tm.random_feeds(src, dims), variant in tm.QUANTIZED)
    pending = sorted(set(result.missing) & PENDING)
    if pending and set(result.missing) <= PENDING:
        pytest.skip(f"needs kernels from other branches: {', '.join(pending)}")
    assert result.ok, f"{name}: {result.detail} (max diff {result.max_diff})"
