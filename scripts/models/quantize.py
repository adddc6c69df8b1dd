"""Quantized suite models, made with onnxruntime.quantization from the torch-exported float ones.

    python scripts/models/quantize.py [NAME ...] [--out DIR]

- ``minilm_qdq``: minilm_b4 through ``quantize_static`` in QDQ format (uint8 activations,
  int8 weights, QuantizeLinear / DequantizeLinear pairs around MatMul and Gather);
  calibrated on 4 random token batches.
- ``minilm_dyn``: minilm_b4 through ``quantize_dynamic`` (int8 weights; DynamicQuantizeLinear
  + MatMulInteger + Cast/Mul for the activations).
- ``cnn_qdq``: ocr_cls (PP-LCNet x1.0 at 224x224) through ``quantize_static``, QDQ format,
  per-channel weights; calibrated on 4 random images.
- ``cnn_dyn``: ocr_cls through ``quantize_dynamic`` with Conv included (ConvInteger).
- ``cnn_qop``: ocr_cls through ``quantize_static`` in QOperator format: QLinearConv plus
  com.microsoft QLinearGlobalAveragePool / QLinearMul; expected to fail on onnxrun until its
  com.microsoft quantized kernels land.

The float models are built first if they are not cached (their scripts need torch).
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from _export import run

from onnxrun.bench.models.scripted import path_of

HERE = os.path.dirname(os.path.abspath(__file__))


def _float_model(name: str, out: str) -> str:
    path = path_of(name, os.path.dirname(out))
    if not os.path.exists(path):
        script = "transformers.py" if name.startswith("minilm") else "ocr.py"
        subprocess.run([sys.executable, os.path.join(HERE, script), name, "--out",
                        os.path.dirname(path)], check=True)
    return path


class _Reader:
    """CalibrationDataReader over a fixed list of feeds."""

    def __init__(self, feeds):
        self._it = iter(feeds)

    def get_next(self):
        return next(self._it, None)

    def rewind(self):  # not needed for a single pass
        pass


def _text_feeds(n: int):
    rng = np.random.default_rng(61)
    out = []
    for _ in range(n):
        ids = rng.integers(1000, 30000, (4, 128), dtype=np.int64)
        mask = np.ones((4, 128), np.int64)
        mask[1, 100:] = mask[3, 64:] = 0
        out.append({"input_ids": ids, "attention_mask": mask,
                    "token_type_ids": np.zeros((4, 128), np.int64)})
    return out


def _image_feeds(n: int):
    rng = np.random.default_rng(62)
    return [{"x": rng.random((1, 3, 224, 224), dtype=np.float32)} for _ in range(n)]


def _static(src: str, feeds, fmt: str, per_channel: bool, op_types=None):
    def build(path: str) -> None:
        from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
        quantize_static(_float_model(src, path), path, _Reader(feeds(4)),
                        quant_format=getattr(QuantFormat, fmt), per_channel=per_channel,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        op_types_to_quantize=op_types)
    return build


def _dynamic(src: str, op_types):
    def build(path: str) -> None:
        from onnxruntime.quantization import QuantType, quantize_dynamic
        quantize_dynamic(_float_model(src, path), path, weight_type=QuantType.QInt8,
                         op_types_to_quantize=op_types)
    return build


BUILDERS = {
    "minilm_qdq": _static("minilm_b4", _text_feeds, "QDQ", False),
    "minilm_dyn": _dynamic("minilm_b4", ["MatMul", "Gather"]),
    "cnn_qdq": _static("ocr_cls", _image_feeds, "QDQ", True),
    "cnn_dyn": _dynamic("ocr_cls", ["Conv", "MatMul", "Gemm"]),
    "cnn_qop": _static("ocr_cls", _image_feeds, "QOperator", True),
}

if __name__ == "__main__":
    run(BUILDERS, __doc__)
