"""info, compare and profile on a tiny 2-layer transformer encoder exported by torch.onnx
(data/tiny_transformer.onnx, made by data/make_tiny_transformer.py; torch is not needed here)."""

import os

import pytest

from onnxrun.cli.main import main

MODEL = os.path.join(os.path.dirname(__file__), "data", "tiny_transformer.onnx")


def test_info(capsys):
    assert main(["info", MODEL]) == 0
    out = capsys.readouterr().out
    assert "tokens  tensor(int64)  [batch, seq]" in out
    assert "LayerNormalization" in out and "every op has a kernel" in out
    assert "parameters: 17,496" in out


def test_compare_per_node(capsys):
    pytest.importorskip("onnxruntime")
    assert main(["compare", MODEL, "--per-node", "--dim", "batch=2", "--dim", "seq=5"]) == 0
    out = capsys.readouterr().out
    assert "node outputs match onnxruntime" in out and "[2,5,8]" in out


def test_profile(capsys):
    assert main(["profile", MODEL, "--runs", "2", "--dim", "batch=1", "--dim", "seq=4",
                 "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "3 slowest nodes" in out and "Softmax" in out
