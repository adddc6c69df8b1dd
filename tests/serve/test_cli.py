"""``onnxrun serve`` as a process: starts, logs how it batches, answers, stops on SIGINT."""

import signal
import socket
import subprocess
import sys
import time

import httpx
import numpy as np

from onnxrun.cli.main import main

from .helpers import json_input
from .models import scorer


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_command(tmp_path):
    path = tmp_path / "scorer.onnx"
    path.write_bytes(scorer())
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "onnxrun.cli.main", "serve", str(path), "--port", str(port),
         "--max-batch", "4", "--max-delay-ms", "1", "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read()
            try:
                if httpx.get(url + "/v2/health/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        x = np.ones((1, 4), np.float32)
        r = httpx.post(url + "/v2/models/scorer/infer", json={
            "inputs": [json_input("x", x), json_input("idx", np.array([2]))]})
        assert r.status_code == 200, r.text
        assert r.json()["outputs"][1]["data"] == [2]
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "dynamic batching up to 4 rows, 1.0 ms delay, 2 worker(s)" in out


def test_serve_missing_model(capsys):
    assert main(["serve", "/nonexistent/model.onnx"]) == 1
    assert "no such model file" in capsys.readouterr().err


def test_import_onnxrun_does_not_import_the_serve_stack():
    code = ("import sys, onnxrun, onnxrun.cli.main as m; m.build_parser(); "
            "print([k for k in ('starlette', 'uvicorn', 'httpx', 'ray') if k in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
