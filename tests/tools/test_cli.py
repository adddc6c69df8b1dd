"""The info, profile, compare and optimize commands through onnxrun.cli.main.main."""

import os
import xml.etree.ElementTree as ET

import numpy as np
import onnx
import pytest

from onnxrun.cli.main import main

from .models import chain, conv_relu

LIGHT = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
SQUEEZENET = os.path.join(LIGHT, "light_squeezenet.onnx")


@pytest.fixture
def chain_path(tmp_path):
    p = tmp_path / "chain.onnx"
    onnx.save(chain(), str(p))
    return str(p)


def test_info_light_model(capsys):
    assert main(["info", SQUEEZENET]) == 0
    out = capsys.readouterr().out
    assert "data_0" in out and "[1, 3, 224, 224]" in out and "softmaxout_1" in out
    assert "ai.onnx 9" in out and "every op has a kernel" in out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("Conv "))
    assert line.split()[1] == "26"
    assert "parameters:" in out


def test_info_json_and_missing_kernel(tmp_path, capsys):
    import json
    m = chain()
    m.graph.node[1].domain = "com.nowhere"
    m.opset_import.append(onnx.helper.make_opsetid("com.nowhere", 1))
    m.metadata_props.add(key="author", value="tests")
    p = tmp_path / "m.onnx"
    onnx.save(m, str(p))
    assert main(["info", str(p), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["missing_kernels"] == ["com.nowhere::Tanh"]
    assert info["parameters"] == 4 and info["parameter_bytes"] == 16
    assert info["metadata"] == {"author": "tests"}
    assert info["inputs"] == [{"name": "x", "type": "tensor(float)", "shape": ["N", 4]}]
    assert main(["info", str(p)]) == 0
    out = capsys.readouterr().out
    assert "NO KERNEL" in out and "author" in out


def test_profile_light_model_html(tmp_path, capsys):
    html = tmp_path / "p.html"
    assert main(["profile", SQUEEZENET, "--runs", "1", "--warmup", "0",
                 "--html", str(html)]) == 0
    out = capsys.readouterr().out
    assert "time by op type" in out and "slowest nodes" in out and "%" in out
    assert "MaxPool" in out
    text = html.read_text()
    assert "<svg" in text and "<script" not in text
    root = ET.fromstring(text.split("<!DOCTYPE html>", 1)[1])  # well-formed (XHTML-style)
    assert root.find(".//{http://www.w3.org/2000/svg}rect") is not None


def test_profile_png_without_matplotlib(tmp_path, chain_path, capsys):
    try:
        import matplotlib  # noqa: F401
        has_mpl = True
    except ImportError:
        has_mpl = False
    png = tmp_path / "p.png"
    rc = main(["profile", chain_path, "--runs", "2", "--dim", "N=2", "--png", str(png)])
    err = capsys.readouterr().err
    if has_mpl:
        assert rc == 0 and png.exists()
    else:
        assert rc == 1 and "matplotlib" in err


def test_compare_cli(tmp_path, chain_path, capsys):
    x = tmp_path / "x.npy"
    np.save(x, np.ones((2, 4), np.float32))
    assert main(["compare", chain_path, "--against", "onnxruntime", "--per-node",
                 "--input", f"x={x}", "--rtol", "1e-3", "--atol", "1e-4"]) == 0
    out = capsys.readouterr().out
    assert "all 5 node outputs match" in out and "MATCH" in out
    assert main(["compare", chain_path, "--dim", "N=3"]) == 0


def test_compare_cli_reports_divergence(chain_path, capsys, monkeypatch):
    from onnxrun.kernels import REGISTRY, load_all
    load_all()
    kdef = REGISTRY.lookup("", "Sigmoid", 13)
    monkeypatch.setattr(kdef, "factory", lambda info: (lambda x: x))
    assert main(["compare", chain_path, "--per-node"]) == 1
    out = capsys.readouterr().out
    assert "'sigmoid' (Sigmoid)" in out and "DIFFERENT" in out


def test_optimize(tmp_path, capsys):
    p = tmp_path / "cr.onnx"
    onnx.save(conv_relu(), str(p))
    out_path = tmp_path / "opt.onnx"
    assert main(["optimize", str(p), "-o", str(out_path), "--level", "all"]) == 0
    assert "3 nodes ->" in capsys.readouterr().out
    opt = onnx.load(str(out_path))
    assert len(opt.graph.node) < 3
    assert main(["optimize", str(p), "-o", str(tmp_path / "none.onnx"), "--level",
                 "disable"]) == 0
    assert len(onnx.load(str(tmp_path / "none.onnx")).graph.node) == 3


def test_missing_model_is_an_error(capsys):
    assert main(["info", "/nonexistent/model.onnx"]) == 1
    assert "no such model" in capsys.readouterr().err
