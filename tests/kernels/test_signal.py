"""Unit tests of the signal kernels (DFT, STFT, windows, MelWeightMatrix): comparisons with
numpy.fft and onnxruntime, dtype preservation and error cases."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import ValueInfoProto, helper, numpy_helper

import onnxrun
from onnxrun.errors import InvalidArgument

ort = pytest.importorskip("onnxruntime")

RNG = np.random.default_rng(0)


def make_model(op, feeds, consts=(), attrs=None, opset=20):
    order = list(feeds) + list(consts)
    names = [n for n, _ in order]
    while names and names[-1] == "":
        names.pop()
    node = helper.make_node(op, names, ["y"], **(attrs or {}))
    g_in = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype),
                                          list(a.shape)) for n, a in feeds if n]
    inits = [numpy_helper.from_array(np.asarray(a), n) for n, a in consts if n]
    g = helper.make_graph([node], "g", g_in, [ValueInfoProto(name="y")], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=9)


def ours(model, feeds):
    sess = onnxrun.InferenceSession(model.SerializeToString())
    return sess.run(None, {n: a for n, a in feeds if n})[0]


def theirs(model, feeds):
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), so,
                                providers=["CPUExecutionProvider"])
    return sess.run(None, {n: a for n, a in feeds if n})[0]


def _c(z):
    return np.stack([z.real, z.imag], -1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dft20_forms_vs_numpy(dtype):
    x = RNG.standard_normal((3, 10, 2)).astype(dtype)
    z = x[..., 0] + 1j * x[..., 1]
    xr = x[..., :1].copy()
    ax = ("axis", np.array(1, np.int64))
    cases = [
        ([("x", x)], [("", None), ax], {}, _c(np.fft.fft(z, axis=1))),
        ([("x", x)], [("", None), ax], {"inverse": 1}, _c(np.fft.ifft(z, axis=1))),
        ([("x", xr)], [("", None), ax], {"onesided": 1}, _c(np.fft.rfft(xr[..., 0], axis=1))),
        ([("x", x)], [("", None), ax], {"onesided": 1, "inverse": 1},
         np.fft.irfft(z, axis=1)[..., None]),
        ([("x", xr)], [("n", np.array(14, np.int64)), ax], {},
         _c(np.fft.fft(xr[..., 0], n=14, axis=1))),
        ([("x", x)], [("n", np.array(6, np.int64)), ax], {}, _c(np.fft.fft(z[:, :6], axis=1))),
    ]
    for feeds, consts, attrs, exp in cases:
        y = ours(make_model("DFT", feeds, consts, attrs), feeds)
        assert y.dtype == dtype and y.shape == exp.shape
        np.testing.assert_allclose(y, exp, rtol=1e-4, atol=1e-4)


def test_dft17_axis_attribute_and_ort():
    x = RNG.standard_normal((2, 5, 8, 1)).astype(np.float32)
    for axis in (1, 2, -2, -3):
        for attrs in ({}, {"inverse": 1}, {"onesided": 1}):
            m = make_model("DFT", [("x", x)], attrs={"axis": axis, **attrs}, opset=17)
            np.testing.assert_allclose(ours(m, [("x", x)]), theirs(m, [("x", x)]),
                                       rtol=1e-3, atol=1e-4)


def test_dft_float16_and_errors():
    x = RNG.standard_normal((1, 8, 1)).astype(np.float16)
    y = ours(make_model("DFT", [("x", x)]), [("x", x)])
    assert y.dtype == np.float16 and y.shape == (1, 8, 2)
    m = make_model("DFT", [("x", x)], [("", None), ("a", np.array(2, np.int64))])
    with pytest.raises(InvalidArgument, match="axis"):
        ours(m, [("x", x)])
    xc = RNG.standard_normal((1, 8, 2)).astype(np.float32)
    m = make_model("DFT", [("x", xc)], attrs={"onesided": 1})
    with pytest.raises(InvalidArgument, match="real input"):
        ours(m, [("x", xc)])
    bad = np.zeros((1, 8, 3), np.float32)
    with pytest.raises(InvalidArgument, match="last dimension"):
        ours(make_model("DFT", [("x", bad)]), [("x", bad)])


@pytest.mark.parametrize("last", [1, 2])
@pytest.mark.parametrize("onesided", [0, 1])
def test_stft_matches_ort(last, onesided):
    x = RNG.standard_normal((2, 40, last)).astype(np.float32)
    win = np.hanning(12).astype(np.float32)
    for consts in ([("step", np.array(5, np.int64)), ("w", win)],
                   [("step", np.array(5, np.int64)), ("", None), ("fl", np.array(12, np.int64))],
                   [("step", np.array(3, np.int64)), ("w", win), ("fl", np.array(12, np.int64))]):
        m = make_model("STFT", [("x", x)], consts, {"onesided": onesided}, opset=17)
        np.testing.assert_allclose(ours(m, [("x", x)]), theirs(m, [("x", x)]),
                                   rtol=1e-3, atol=1e-4)


def test_stft_errors():
    x = RNG.standard_normal((1, 16, 1)).astype(np.float32)
    m = make_model("STFT", [("x", x)], [("step", np.array(4, np.int64)),
                                        ("w", np.ones(8, np.float32)),
                                        ("fl", np.array(6, np.int64))], opset=17)
    with pytest.raises(InvalidArgument, match="window"):
        ours(m, [("x", x)])
    m = make_model("STFT", [("x", x)], [("step", np.array(0, np.int64))], opset=17)
    with pytest.raises(InvalidArgument, match="frame_step"):
        ours(m, [("x", x)])


@pytest.mark.parametrize("op", ["HannWindow", "HammingWindow", "BlackmanWindow"])
@pytest.mark.parametrize("periodic", [0, 1])
@pytest.mark.parametrize("dt", [1, 11, 6])
def test_windows_match_ort(op, periodic, dt):
    for n in (2, 10, 33):
        s = np.array(n, np.int64)
        m = make_model(op, [("s", s)], attrs={"periodic": periodic, "output_datatype": dt},
                       opset=17)
        a, b = ours(m, [("s", s)]), theirs(m, [("s", s)])
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("args", [(8, 16, 8192, 0.0, 4096.0), (20, 512, 16000, 20.0, 7600.0),
                                  (40, 1024, 22050, 0.0, 11025.0)])
def test_mel_weight_matrix_matches_ort(args):
    nm, n, sr, lo, hi = args
    feeds = [("a", np.array(nm, np.int64)), ("b", np.array(n, np.int64)),
             ("c", np.array(sr, np.int64)), ("d", np.array(lo, np.float32)),
             ("e", np.array(hi, np.float32))]
    m = make_model("MelWeightMatrix", feeds, opset=17)
    a, b = ours(m, feeds), theirs(m, feeds)
    assert a.shape == (n // 2 + 1, nm) and a.dtype == np.float32
    np.testing.assert_allclose(a, b, atol=1e-6)
