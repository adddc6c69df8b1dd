"""`onnxrun run`: the bundled default and a model with inputs from files and symbolic dims."""

import numpy as np
import onnx

from onnxrun.cli.main import main

from .models import mlp


def test_run_default_prints_predictions_and_accuracy(capsys):
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert "predicted" in out and "true" in out
    accuracy = float(out.split("accuracy:")[1].split()[0])
    assert accuracy >= 0.9


def test_run_model_with_random_inputs_and_dims(tmp_path, capsys):
    path = tmp_path / "m.onnx"
    onnx.save(mlp(), str(path))
    assert main(["run", str(path), "--dim", "N=7"]) == 0
    out = capsys.readouterr().out
    assert "y: float32 [7, 3]" in out


def test_run_model_with_input_file_and_save(tmp_path, capsys):
    path = tmp_path / "m.onnx"
    onnx.save(mlp(), str(path))
    x = np.ones((2, 4), np.float32)
    np.save(tmp_path / "x.npy", x)
    assert main(["run", str(path), "--input", f"x={tmp_path / 'x.npy'}",
                 "--save", str(tmp_path / "out")]) == 0
    assert np.load(tmp_path / "out" / "y.npy").shape == (2, 3)


def test_run_reports_errors_cleanly(tmp_path, capsys):
    assert main(["run", str(tmp_path / "absent.onnx")]) == 1
    assert "NO_SUCHFILE" in capsys.readouterr().err
