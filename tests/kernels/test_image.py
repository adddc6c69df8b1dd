"""Unit tests of the image/detection kernels (Resize, Upsample, GridSample, AffineGrid, RoiAlign,
NonMaxSuppression, CenterCropPad, ImageDecoder): comparisons with onnxruntime on random inputs,
edge cases and error cases the backend suite does not cover."""

from __future__ import annotations

import io

import numpy as np
import pytest
from onnx import TensorProto, ValueInfoProto, helper, numpy_helper

import onnxrun
from onnxrun.errors import InvalidArgument

ort = pytest.importorskip("onnxruntime")

RNG = np.random.default_rng(0)


def make_model(op, feeds, consts=(), attrs=None, opset=19, n_out=1):
    """One-node model; ``feeds``/``consts``: lists of (name, array), '' marks a missing input."""
    order = list(feeds) + list(consts)
    names = [n for n, _ in order]
    while names and names[-1] == "":
        names.pop()
    node = helper.make_node(op, names, [f"y{i}" for i in range(n_out)], **(attrs or {}))
    g_in = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype),
                                          list(a.shape)) for n, a in feeds if n]
    inits = [numpy_helper.from_array(np.asarray(a), n) for n, a in consts if n]
    g = helper.make_graph([node], "g", g_in, [ValueInfoProto(name=f"y{i}") for i in range(n_out)],
                          inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=9)


def ours(model, feeds, max_bytes=None):
    so = onnxrun.SessionOptions()
    if max_bytes is not None:
        so.add_session_config_entry("session.max_tensor_bytes", str(max_bytes))
    sess = onnxrun.InferenceSession(model.SerializeToString(), so)
    return sess.run(None, {n: a for n, a in feeds if n})


def theirs(model, feeds):
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), so,
                                providers=["CPUExecutionProvider"])
    return sess.run(None, {n: a for n, a in feeds if n})


def compare(op, feeds, consts=(), attrs=None, opset=19, atol=1e-5, exact=False):
    m = make_model(op, feeds, consts, attrs, opset)
    a, b = ours(m, feeds), theirs(m, feeds)
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and x.shape == y.shape, (x.dtype, x.shape, y.dtype, y.shape)
        if exact:
            np.testing.assert_array_equal(x, y)
        else:
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=atol)
    return a


# -- Resize / Upsample ---------------------------------------------------------------------

def _f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
@pytest.mark.parametrize("ctm", ["half_pixel", "pytorch_half_pixel", "asymmetric",
                                 "half_pixel_symmetric"])
@pytest.mark.parametrize("scales", [[1, 1, 0.5, 0.8], [1, 1, 2.3, 1.7], [1, 1, 3.0, 2.0]])
def test_resize_scales_matches_ort(mode, ctm, scales):
    X = _f32(1, 2, 7, 9)
    attrs = {"mode": mode, "coordinate_transformation_mode": ctm}
    if mode == "nearest" and ctm == "half_pixel_symmetric" and scales[2] == 2.3:
        attrs["nearest_mode"] = "round_prefer_ceil"  # ORT rounds a 4.0 as 3.9999 with floor
    compare("Resize", [("X", X)], [("roi", np.zeros(0, np.float32)),
                                   ("scales", np.array(scales, np.float32))], attrs)


@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_resize_antialias_matches_ort(mode):
    X = _f32(1, 2, 20, 17)
    compare("Resize", [("X", X)], [("", None), ("scales", np.array([1, 1, 0.3, 0.6],
                                                                    np.float32))],
            {"mode": mode, "antialias": 1})
    if mode == "cubic":
        compare("Resize", [("X", X)], [("", None), ("scales", np.array([1, 1, 0.3, 0.6],
                                                                        np.float32))],
                {"mode": mode, "antialias": 1, "exclude_outside": 1, "cubic_coeff_a": -0.5})


@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
def test_resize_tf_crop_and_resize_matches_ort(mode):
    X = _f32(1, 2, 7, 9)
    roi = np.array([0, 0, 0.1, -0.2, 1, 1, 0.9, 1.1], np.float32)
    compare("Resize", [("X", X)], [("roi", roi), ("", None),
                                   ("sizes", np.array([1, 2, 5, 11], np.int64))],
            {"mode": mode, "coordinate_transformation_mode": "tf_crop_and_resize",
             "extrapolation_value": -3.0})


@pytest.mark.parametrize("policy", ["stretch", "not_larger", "not_smaller"])
def test_resize_sizes_axes_policy(policy):
    X = _f32(1, 2, 7, 9)
    compare("Resize", [("X", X)], [("", None), ("", None), ("sizes", np.array([10, 5],
                                                                              np.int64))],
            {"mode": "linear", "axes": [2, 3], "keep_aspect_ratio_policy": policy})


def test_resize_negative_axes():
    X = _f32(1, 2, 7, 9)
    m = make_model("Resize", [("X", X)], [("", None), ("", None),
                                          ("sizes", np.array([5, 10], np.int64))],
                   {"mode": "nearest", "axes": [-1, -2], "keep_aspect_ratio_policy": "not_larger"})
    (y,) = ours(m, [("X", X)])
    assert y.shape == (1, 2, 4, 5)  # scale min(5/9, 10/7) applied to both axes


def test_resize_uint8_nearest_exact_and_3d():
    X = RNG.integers(0, 255, (1, 3, 5, 6), dtype=np.uint8)
    compare("Resize", [("X", X)], [("", None), ("scales", np.array([1, 1, 2, 3], np.float32))],
            {"mode": "nearest"}, exact=True)
    X5 = _f32(1, 2, 3, 4, 5)
    compare("Resize", [("X", X5)], [("", None), ("scales", np.array([1, 1, 2, 1.5, 0.7],
                                                                     np.float32))],
            {"mode": "linear"})


def test_resize_integer_linear_truncates_like_ort():
    for X in (np.array([[[[0, 255, 3, 100]]]], np.uint8),
              np.array([[[[-5, 7, 3, -100]]]], np.int32)):
        compare("Resize", [("X", X)], [("", None), ("scales", np.array([1, 1, 1, 2.5],
                                                                        np.float32))],
                {"mode": "linear"}, exact=True)
    X = np.array([[[[0, 255], [255, 0]]]], np.uint8)
    m = make_model("Resize", [("X", X)], [("", None), ("scales", np.array([1, 1, 2, 2],
                                                                         np.float32))],
                   {"mode": "cubic"})
    (y,) = ours(m, [("X", X)])  # cubic overshoot saturates instead of wrapping
    assert y.dtype == np.uint8 and y.shape == (1, 1, 4, 4)
    assert y.max() == 255 and y.min() == 0


def test_resize_float16_keeps_dtype():
    X = _f32(1, 1, 4, 4).astype(np.float16)
    m = make_model("Resize", [("X", X)], [("", None), ("scales", np.array([1, 1, 2, 2],
                                                                         np.float32))],
                   {"mode": "linear"})
    (y,) = ours(m, [("X", X)])
    ref = ours(make_model("Resize", [("X", X.astype(np.float32))],
                          [("", None), ("scales", np.array([1, 1, 2, 2], np.float32))],
                          {"mode": "linear"}), [("X", X.astype(np.float32))])[0]
    assert y.dtype == np.float16
    np.testing.assert_allclose(y.astype(np.float32), ref, atol=1e-2)


@pytest.mark.parametrize("opset,mode", [(10, "nearest"), (10, "linear")])
def test_resize10_matches_ort(opset, mode):
    X = _f32(1, 2, 4, 5)
    compare("Resize", [("X", X)], [("scales", np.array([1, 1, 2, 1.5], np.float32))],
            {"mode": mode}, opset=opset)
    compare("Resize", [("X", X)], [("scales", np.array([1, 1, 0.5, 0.6], np.float32))],
            {"mode": mode}, opset=opset)


def test_upsample_7_and_9_match_ort():
    X = _f32(1, 2, 3, 4)
    compare("Upsample", [("X", X)], attrs={"mode": "nearest", "scales": [1.0, 1.0, 2.0, 3.0]},
            opset=7)
    compare("Upsample", [("X", X)], attrs={"mode": "linear", "scales": [1.0, 1.0, 2.0, 1.5]},
            opset=7)
    compare("Upsample", [("X", X)], [("scales", np.array([1, 1, 2, 2], np.float32))],
            {"mode": "linear"}, opset=9)


def test_resize_errors():
    X = _f32(1, 1, 4, 4)
    m = make_model("Resize", [("X", X)], [("", None), ("scales", np.array([1, 2], np.float32))])
    with pytest.raises(InvalidArgument, match="scales"):
        ours(m, [("X", X)])
    m = make_model("Resize", [("X", X)], [("", None), ("scales", np.array([1, 1, 2, 2],
                                                                         np.float32)),
                                          ("sizes", np.array([1, 1, 8, 8], np.int64))])
    with pytest.raises(InvalidArgument, match="only one"):
        ours(m, [("X", X)])
    m = make_model("Resize", [("X", X)], [("", None), ("scales", np.array([1, 1, -2, 2],
                                                                         np.float32))])
    with pytest.raises(InvalidArgument, match="positive"):
        ours(m, [("X", X)])


def test_resize_size_cap_checked_before_allocating():
    X = _f32(1, 1, 4, 4)
    m = make_model("Resize", [("X", X)], [("", None), ("", None),
                                          ("sizes", np.array([1, 1, 1 << 20, 1 << 20],
                                                             np.int64))])
    with pytest.raises(InvalidArgument, match="max_tensor_bytes"):
        ours(m, [("X", X)], max_bytes=1 << 20)


# -- GridSample / AffineGrid ---------------------------------------------------------------

@pytest.mark.parametrize("mode", ["linear", "nearest", "cubic"])
@pytest.mark.parametrize("pad", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align", [0, 1])
def test_gridsample_matches_ort(mode, pad, align):
    X = _f32(2, 3, 6, 7)
    G = RNG.uniform(-1.6, 1.6, (2, 5, 4, 2)).astype(np.float32)
    compare("GridSample", [("X", X), ("G", G)],
            attrs={"mode": mode, "padding_mode": pad, "align_corners": align}, opset=20)


def test_gridsample_16_names_and_5d():
    X = _f32(1, 2, 5, 6)
    G = RNG.uniform(-1.2, 1.2, (1, 3, 4, 2)).astype(np.float32)
    compare("GridSample", [("X", X), ("G", G)], attrs={"mode": "bicubic"}, opset=16)
    X5 = _f32(2, 3, 4, 6, 7)
    G5 = RNG.uniform(-1.6, 1.6, (2, 3, 5, 4, 3)).astype(np.float32)
    compare("GridSample", [("X", X5), ("G", G5)],
            attrs={"mode": "linear", "padding_mode": "reflection"}, opset=20)


def test_gridsample_bad_grid_shape():
    X = _f32(1, 2, 5, 6)
    G = np.zeros((1, 3, 4, 3), np.float32)
    m = make_model("GridSample", [("X", X), ("G", G)], opset=20)
    with pytest.raises(InvalidArgument, match="grid"):
        ours(m, [("X", X), ("G", G)])


@pytest.mark.parametrize("align", [0, 1])
def test_affine_grid_matches_ort(align):
    th = _f32(2, 2, 3)
    compare("AffineGrid", [("T", th)], [("size", np.array([2, 3, 5, 7], np.int64))],
            {"align_corners": align}, opset=20)
    th3 = _f32(2, 3, 4)
    compare("AffineGrid", [("T", th3)], [("size", np.array([2, 3, 4, 5, 6], np.int64))],
            {"align_corners": align}, opset=20)


# -- RoiAlign / NonMaxSuppression ----------------------------------------------------------

def _rois(n, hi):
    xy = RNG.uniform(-3, hi, (n, 2))
    wh = np.abs(RNG.uniform(0, hi, (n, 2)))
    return np.concatenate([xy, xy + wh], 1).astype(np.float32)


@pytest.mark.parametrize("opset,ctm", [(10, None), (16, "half_pixel"),
                                       (16, "output_half_pixel")])
@pytest.mark.parametrize("mode", ["avg", "max"])
@pytest.mark.parametrize("ratio", [0, 2])
def test_roialign_matches_ort(opset, ctm, mode, ratio):
    X = _f32(2, 3, 12, 15)
    attrs = {"mode": mode, "sampling_ratio": ratio, "output_height": 3, "output_width": 4,
             "spatial_scale": 0.7}
    if ctm:
        attrs["coordinate_transformation_mode"] = ctm
    rois = _rois(20, 14)
    bi = RNG.integers(0, 2, 20).astype(np.int64)
    compare("RoiAlign", [("X", X), ("rois", rois), ("bi", bi)], attrs=attrs, opset=opset)


def test_roialign_bad_batch_index():
    X = _f32(1, 1, 4, 4)
    rois = np.array([[0, 0, 2, 2]], np.float32)
    bi = np.array([3], np.int64)
    m = make_model("RoiAlign", [("X", X), ("rois", rois), ("bi", bi)], opset=16)
    with pytest.raises(InvalidArgument, match="batch_indices"):
        ours(m, [("X", X), ("rois", rois), ("bi", bi)])


@pytest.mark.parametrize("cpb", [0, 1])
def test_nms_matches_ort(cpb):
    n = 60
    ctr = RNG.uniform(0, 10, (2, n, 2))
    wh = RNG.uniform(0.5, 4, (2, n, 2))
    if cpb:
        boxes = np.concatenate([ctr, wh], -1).astype(np.float32)
    else:
        boxes = np.concatenate([ctr[..., ::-1] + wh, ctr[..., ::-1]], -1).astype(np.float32)
    scores = RNG.uniform(0, 1, (2, 3, n)).astype(np.float32)
    consts = [("m", np.array([7], np.int64)), ("iou", np.array([0.3], np.float32)),
              ("st", np.array([0.2], np.float32))]
    compare("NonMaxSuppression", [("B", boxes), ("S", scores)], consts,
            {"center_point_box": cpb}, opset=11, exact=True)
    compare("NonMaxSuppression", [("B", boxes), ("S", scores)], consts[:2],
            {"center_point_box": cpb}, opset=10, exact=True)


def test_nms_defaults_and_errors():
    boxes = np.array([[[0, 0, 1, 1], [0, 0, 1, 1]]], np.float32)
    scores = np.array([[[0.9, 0.8]]], np.float32)
    m = make_model("NonMaxSuppression", [("B", boxes), ("S", scores)], opset=11)
    (y,) = ours(m, [("B", boxes), ("S", scores)])
    assert y.shape == (0, 3) and y.dtype == np.int64  # max_output_boxes_per_class defaults to 0
    bad = np.zeros((1, 3, 5), np.float32)  # 5 scores for 2 boxes
    m = make_model("NonMaxSuppression", [("B", boxes), ("S", bad)], opset=11)
    with pytest.raises(InvalidArgument, match="scores"):
        ours(m, [("B", boxes), ("S", bad)])


# -- CenterCropPad / ImageDecoder ----------------------------------------------------------

def test_center_crop_pad_formula():
    x = np.arange(5 * 6, dtype=np.int32).reshape(5, 6)
    m = make_model("CenterCropPad", [("x", x)], [("s", np.array([2, 9], np.int64))], opset=18)
    (y,) = ours(m, [("x", x)])
    exp = np.zeros((2, 9), np.int32)
    exp[:, 1:7] = x[1:3]  # crop start (5-2)//2 = 1; pad left (9-6)//2 = 1, extra on the right
    np.testing.assert_array_equal(y, exp)
    s = np.array(["a", "b", "c"], dtype=object)
    m = make_model("CenterCropPad", [("x", s)], [("s", np.array([4], np.int64))], opset=18)
    (y,) = ours(m, [("x", s)])
    assert y.tolist() == ["a", "b", "c", ""]  # odd padding goes to the right


def test_center_crop_pad_cap():
    x = np.zeros((2, 2), np.float32)
    m = make_model("CenterCropPad", [("x", x)], [("s", np.array([1 << 30, 1 << 30], np.int64))],
                   opset=18)
    with pytest.raises(InvalidArgument, match="max_tensor_bytes"):
        ours(m, [("x", x)])


def test_image_decoder_png_formats():
    Image = pytest.importorskip("PIL.Image")
    img = RNG.integers(0, 255, (5, 7, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    data = np.frombuffer(buf.getvalue(), np.uint8)
    for fmt, exp in [("RGB", img), ("BGR", img[:, :, ::-1])]:
        m = make_model("ImageDecoder", [("d", data)], attrs={"pixel_format": fmt}, opset=20)
        (y,) = ours(m, [("d", data)])
        np.testing.assert_array_equal(y, exp)
    m = make_model("ImageDecoder", [("d", data)], attrs={"pixel_format": "Grayscale"}, opset=20)
    (y,) = ours(m, [("d", data)])
    assert y.shape == (5, 7, 1) and y.dtype == np.uint8
    junk = np.frombuffer(b"not an image at all", np.uint8)
    m = make_model("ImageDecoder", [("d", junk)], opset=20)
    (y,) = ours(m, [("d", junk)])
    assert y.size == 0 and y.dtype == np.uint8


def test_image_decoder_without_pillow_says_so(monkeypatch):
    """Pillow is optional: without it the op fails with onnxrun's NotImplemented naming it."""
    import sys
    from onnxrun.errors import NotImplemented as OrtNotImplemented
    monkeypatch.setitem(sys.modules, "PIL", None)  # makes `from PIL import Image` raise
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    data = np.frombuffer(b"\x89PNG\r\n\x1a\n", np.uint8)
    m = make_model("ImageDecoder", [("d", data)], opset=20)
    with pytest.raises(OrtNotImplemented, match="ImageDecoder needs the optional dependency "
                                                "Pillow"):
        ours(m, [("d", data)])
