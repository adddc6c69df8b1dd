"""Bad model bytes and bad arguments: onnxruntime's error class, code and message."""

from __future__ import annotations

import os

import pytest

import onnxrun
from onnxrun.errors import InvalidArgument, InvalidProtobuf, NoSuchFile

from ._util import make_model, ort_error, vi
from onnx import helper


def _model_bytes() -> bytes:
    m = make_model([helper.make_node("Relu", ["X"], ["Y"], name="r")], [vi("X", shape=[2, 3])],
                   [vi("Y", shape=[2, 3])])
    return m.SerializeToString()


def _load(src):
    return onnxrun.InferenceSession(src, providers=["CPUExecutionProvider"])


def _ort_load(src):
    ort = pytest.importorskip("onnxruntime")
    so = ort.SessionOptions()
    so.log_severity_level = 4
    return ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])


def _same_as_ort(src, cls):
    with pytest.raises(cls) as info:
        _load(src)
    expected = ort_error(lambda: _ort_load(src))
    assert expected is not None
    assert type(info.value).__name__ == expected[0]
    assert str(info.value) == expected[1]
    return info.value


@pytest.mark.parametrize("cut", [1, 7, 0.5, -1])
def test_truncated(cut):
    data = _model_bytes()
    n = int(len(data) * cut) if isinstance(cut, float) else (cut if cut > 0 else len(data) + cut)
    err = _same_as_ort(data[:n], InvalidProtobuf)
    assert err.code == 7 and "protobuf parsing failed" in str(err)


def test_garbage():
    _same_as_ort(b"\xff\xfe not a model \x00\x01" * 16, InvalidProtobuf)


def test_empty():
    _same_as_ort(b"", InvalidArgument)


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.onnx")
    err = _same_as_ort(path, NoSuchFile)
    assert err.code == 3


def test_missing_file_pathlike(tmp_path):
    with pytest.raises(NoSuchFile):
        _load(tmp_path / "nope.onnx")


def test_directory_is_not_a_model(tmp_path):
    with pytest.raises(onnxrun.OnnxRuntimeError):
        _load(str(tmp_path))


def test_truncated_file(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(_model_bytes()[:-3])
    with pytest.raises(InvalidProtobuf):
        _load(str(path))


@pytest.mark.parametrize("arg", [12, None, 3.5, ["m.onnx"], {"a": 1}])
def test_wrong_type(arg):
    with pytest.raises(TypeError) as info:
        _load(arg)
    expected = ort_error(lambda: _ort_load(arg))
    assert expected == ("TypeError", str(info.value))
    assert str(info.value).startswith("Unable to load from type ")


def test_bytearray_and_memoryview_load():
    data = _model_bytes()
    for src in (bytearray(data), memoryview(data)):
        try:
            _load(src)
        except onnxrun.NotImplemented:
            pytest.xfail("kernel pending: Relu")


def test_ir_version_too_new():
    m = make_model([helper.make_node("Relu", ["X"], ["Y"])], [vi("X", shape=[1])],
                   [vi("Y", shape=[1])])
    m.ir_version = 1000
    with pytest.raises(onnxrun.Fail, match="Unsupported model IR version"):
        _load(m.SerializeToString())


def test_no_graph():
    m = make_model([], [], [])
    m.ClearField("graph")
    with pytest.raises(InvalidArgument, match="No graph"):
        _load(m.SerializeToString())


def test_fifo_is_not_read(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "pipe.onnx"
    os.mkfifo(fifo)
    with pytest.raises(NoSuchFile):  # a FIFO is not a regular file: never opened, never hangs
        _load(str(fifo))


def test_file_of_two_gib_is_refused_without_reading(tmp_path):
    path = tmp_path / "huge.onnx"
    with open(path, "wb") as f:
        f.truncate(2 ** 31)  # a sparse file: no disk space, and never read into memory
    with pytest.raises(InvalidProtobuf, match="2 GiB"):
        _load(str(path))


def test_bytes_over_the_protobuf_limit_are_refused(monkeypatch):
    from onnxrun.load import model_loader
    monkeypatch.setattr(model_loader, "PROTOBUF_LIMIT", 64)
    with pytest.raises(InvalidProtobuf, match="2 GiB"):
        _load(b"\0" * 100)
    with pytest.raises(InvalidProtobuf, match="2 GiB"):
        _load(memoryview(b"\0" * 100))


def test_non_utf8_names_are_refused():
    data = _model_bytes().replace(b"Relu", b"Re\xffu")
    with pytest.raises(InvalidProtobuf, match="not valid UTF-8"):
        _load(data)
