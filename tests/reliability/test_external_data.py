"""External data: confined to the model's folder, sizes checked, for every place a tensor can
live (initializers, subgraph initializers, sparse initializers, Constant attributes)."""

from __future__ import annotations

import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import onnxrun
from onnxrun.errors import Fail

from ._util import F, I64, cap_options, make_model, needs, ort_error, ort_session, vi

DATA = np.arange(4, dtype=np.float32) + 1


def _ext(name, loc, offset=None, length=None, dims=(4,), elem=F):
    t = TensorProto()
    t.name = name
    t.data_type = elem
    t.dims.extend(dims)
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", loc), ("offset", offset), ("length", length)):
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = k, str(v)
    return t


def _init_model(t):
    return make_model([helper.make_node("Add", ["X", "W"], ["Y"], name="a")],
                      [vi("X", shape=[4])], [vi("Y", shape=[4])], [t])


def _subgraph_model(t):
    then = helper.make_graph([helper.make_node("Add", ["X", "W"], ["T"], name="t_add")], "then",
                             [], [vi("T", shape=[4])], [t])
    other = helper.make_graph([helper.make_node("Identity", ["X"], ["E"])], "else", [],
                              [vi("E", shape=[4])])
    node = helper.make_node("If", ["C"], ["Y"], name="if", then_branch=then, else_branch=other)
    return make_model([node], [vi("X", shape=[4]), vi("C", TensorProto.BOOL, [])],
                      [vi("Y", shape=[4])])


def _constant_model(t):
    return make_model([helper.make_node("Constant", [], ["W"], name="c", value=t),
                       helper.make_node("Add", ["X", "W"], ["Y"], name="a")],
                      [vi("X", shape=[4])], [vi("Y", shape=[4])])


def _sparse_model(t):
    t.name = "W"
    n = int(t.dims[0])
    idx = helper.make_tensor("W_idx", I64, [n], list(range(n)))
    sp = helper.make_sparse_tensor(t, idx, [n])
    return make_model([helper.make_node("Add", ["X", "W"], ["Y"], name="a")],
                      [vi("X", shape=[4])], [vi("Y", shape=[4])], sparse=[sp])


BUILDERS = {"initializer": _init_model, "subgraph": _subgraph_model,
            "constant": _constant_model, "sparse": _sparse_model}


@pytest.fixture
def folder(tmp_path):
    """tmp/model/ holds the model and w.bin; tmp/secret.bin and tmp/outside/ lie outside."""
    d = tmp_path / "model"
    d.mkdir()
    (d / "w.bin").write_bytes(DATA.tobytes())
    (d / "padded.bin").write_bytes(b"\0" * 8 + DATA.tobytes() + b"\0" * 8)
    (tmp_path / "secret.bin").write_bytes(DATA.tobytes())
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "x.bin").write_bytes(DATA.tobytes())
    if hasattr(os, "symlink"):
        os.symlink(tmp_path / "secret.bin", d / "link.bin")
        os.symlink(tmp_path / "outside", d / "sub")
        (d / "inner").mkdir()
        (d / "inner" / "w.bin").write_bytes(DATA.tobytes())
        os.symlink(d / "inner" / "w.bin", d / "inside_link.bin")
    if hasattr(os, "link"):
        (tmp_path / "secret2.bin").write_bytes(DATA.tobytes())
        os.link(tmp_path / "secret2.bin", d / "hard.bin")
    if hasattr(os, "mkfifo"):
        os.mkfifo(d / "fifo.bin")
    return d


def _save(folder, model, name="m.onnx"):
    path = folder / name
    onnx.save(model, str(path))
    return str(path)


def _run(path, builder):
    sess = onnxrun.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {"X": np.ones(4, np.float32)}
    if builder == "subgraph":
        feeds["C"] = np.array(True)
    return sess.run(None, feeds)[0]


@pytest.mark.parametrize("where", sorted(BUILDERS))
@pytest.mark.parametrize("loc,offset", [("w.bin", None), ("padded.bin", 8), ("inner/w.bin", 0),
                                        ("./w.bin", None), ("inside_link.bin", None)])
def test_valid_external_data_loads(folder, where, loc, offset):
    needs("Add", "If", "Identity")
    if loc == "inside_link.bin" and not (folder / loc).exists():
        pytest.skip("no symlinks here")
    t = _ext("W", loc, offset=offset, length=16 if offset is not None else None)
    path = _save(folder, BUILDERS[where](t))
    np.testing.assert_array_equal(_run(path, where), DATA + 1)


BAD = {
    "dotdot": (dict(loc="../secret.bin"), "'..' is not allowed"),
    "dotdot_inner": (dict(loc="inner/../../secret.bin"), "'..' is not allowed"),
    "backslash_dotdot": (dict(loc="inner\\..\\..\\secret.bin"), "'..' is not allowed"),
    "absolute": (dict(loc="{abs}"), "absolute paths are not allowed"),
    "url": (dict(loc="http://example.com/w.bin"), "URLs are not allowed"),
    "file_url": (dict(loc="file:///etc/passwd"), "URLs are not allowed"),
    "symlink": (dict(loc="link.bin"), "outside the model's folder"),
    "parent_symlink": (dict(loc="sub/x.bin"), "outside the model's folder"),
    "hardlink": (dict(loc="hard.bin"), "hard links"),
    "negative_offset": (dict(loc="w.bin", offset=-4), "negative"),
    "negative_length": (dict(loc="w.bin", length=-16), "negative"),
    "offset_past_end": (dict(loc="w.bin", offset=100), "past the end"),
    "length_past_end": (dict(loc="w.bin", offset=8, length=16), "past the end"),
    "length_not_dims": (dict(loc="w.bin", length=12), "does not match"),
    "file_not_dims": (dict(loc="w.bin", dims=(5,)), "does not match"),
    "offset_not_int": (dict(loc="w.bin", offset="1e3"), "not an integer"),
    "missing_file": (dict(loc="nope.bin"), "does not exist"),
    "directory": (dict(loc="inner"), "not a regular file"),
    "fifo": (dict(loc="fifo.bin"), "not a regular file"),
    "empty_location": (dict(loc=""), "no location"),
    "nul_in_location": (dict(loc="w.bin\0.txt"), "NUL"),
}


@pytest.mark.parametrize("where", sorted(BUILDERS))
@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_external_data_is_refused(folder, tmp_path, case, where):
    kw, text = BAD[case]
    kw = dict(kw)
    loc = kw.pop("loc").replace("{abs}", str(tmp_path / "secret.bin"))
    first = loc.replace("\\", "/").split("/")[0]
    if first in ("link.bin", "sub", "inside_link.bin", "hard.bin", "fifo.bin") and not (
            folder / first).exists() and not os.path.islink(folder / first):
        pytest.skip("links/FIFOs not available here")
    t = _ext("W", loc, **kw)
    path = _save(folder, BUILDERS[where](t))
    with pytest.raises(Fail) as info:
        onnxrun.InferenceSession(path, providers=["CPUExecutionProvider"])
    assert text in str(info.value)
    assert "'W'" in str(info.value)


@pytest.mark.parametrize("case", ["dotdot", "absolute", "symlink", "parent_symlink",
                                  "negative_offset", "length_past_end", "length_not_dims",
                                  "missing_file", "empty_location"])
def test_same_class_as_onnxruntime(folder, tmp_path, case):
    kw, _ = BAD[case]
    kw = dict(kw)
    loc = kw.pop("loc").replace("{abs}", str(tmp_path / "secret.bin"))
    if case in ("symlink", "parent_symlink") and not os.path.islink(folder / loc.split("/")[0]):
        pytest.skip("no symlinks here")
    path = _save(folder, _init_model(_ext("W", loc, **kw)))
    expected = ort_error(lambda: ort_session(path))
    assert expected is not None and expected[0] == "Fail"
    with pytest.raises(Fail):
        onnxrun.InferenceSession(path, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("where", sorted(BUILDERS))
def test_model_from_bytes_with_external_data_is_refused(folder, where, monkeypatch):
    monkeypatch.chdir(folder)  # even where the file would resolve against the working folder
    model = BUILDERS[where](_ext("W", "w.bin"))
    with pytest.raises(Fail, match="not loaded from a file path"):
        onnxrun.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    with pytest.raises(Fail, match="not loaded from a file path"):
        onnxrun.InferenceSession(model, providers=["CPUExecutionProvider"])


def test_external_data_over_the_byte_cap_is_refused(folder):
    path = _save(folder, _init_model(_ext("W", "w.bin")))
    with pytest.raises(Fail, match="session.max_tensor_bytes"):
        from onnxrun.load.tensors import TensorDecoder
        TensorDecoder(str(folder), max_bytes=8)(_ext("W", "w.bin"))
    # the session's default cap (4 GiB) lets it through
    needs("Add")
    assert onnxrun.InferenceSession(path, providers=["CPUExecutionProvider"]) is not None


def test_string_tensor_external_data_is_refused(folder):
    t = _ext("W", "w.bin", dims=(1,), elem=TensorProto.STRING)
    model = make_model([helper.make_node("Identity", ["W"], ["Y"])], [], [vi("Y")], [t])
    with pytest.raises(Fail):
        onnxrun.InferenceSession(_save(folder, model), providers=["CPUExecutionProvider"])


def test_non_utf8_location_is_refused():
    model = _init_model(_ext("W", "XXXX"))
    data = model.SerializeToString().replace(b"XXXX", b"\xff\xfe..")
    with pytest.raises(onnxrun.InvalidProtobuf, match="not valid UTF-8"):
        onnxrun.InferenceSession(data, providers=["CPUExecutionProvider"])


def test_big_initializers_are_not_copied_by_the_checks():
    """The loader's walk over the model skips tensor payloads (a 400 MB model checks in ms)."""
    import time
    from onnxrun.load.model_loader import check_nesting
    inits = [onnx.numpy_helper.from_array(np.zeros((2_000_000,), np.float32), f"W{i}")
             for i in range(8)]
    model = make_model([helper.make_node("Identity", ["W0"], ["Y"])], [], [vi("Y")], inits)
    t0 = time.perf_counter()
    for _ in range(20):
        check_nesting(model)
    assert time.perf_counter() - t0 < 0.5  # copying 64 MB 20 times would take longer


@pytest.mark.parametrize("elem,np_dtype", [(F, np.float32), (TensorProto.INT64, np.int64),
                                           (TensorProto.FLOAT16, np.float16),
                                           (TensorProto.INT4, None)])
def test_external_data_decodes_every_dtype(folder, elem, np_dtype):
    from onnxrun.load.tensors import TensorDecoder
    if np_dtype is None:  # packed int4: 4 elements in 2 bytes
        raw, expected = bytes([0x21, 0xF3]), np.array([1, 2, 3, -1])
    else:
        expected = np.arange(4).astype(np_dtype)
        raw = expected.tobytes()
    (folder / "typed.bin").write_bytes(raw)
    out = TensorDecoder(str(folder))(_ext("W", "typed.bin", elem=elem))
    assert out.shape == (4,)
    np.testing.assert_array_equal(out.astype(np.int64) if np_dtype is None else out, expected)
