"""SparseTensor (COO, CSR(C)) and sparse values through sessions, against onnxruntime."""

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

import onnxrun

from ._models import model, vi

SHAPE = [9, 9]
VALUES = np.array([1.0, 2.0, 3.0], np.float32)
INDICES = np.array([3, 5, 15], np.int64)


@pytest.mark.parametrize("rt", [onnxrun, ort], ids=["onnxrun", "onnxruntime"])
def test_coo_and_csr_views(rt):
    cpu = rt.OrtDevice.make("cpu", 0)
    coo = rt.SparseTensor.sparse_coo_from_numpy(SHAPE, VALUES, INDICES, cpu)
    assert coo.format() == rt.OrtSparseFormat.ORT_SPARSE_COO
    assert (coo.dense_shape(), coo.data_type(), coo.device_name()) == \
        (SHAPE, "sparse_tensor(float)", "cpu")
    for view in (coo.values(), coo.as_coo_view().indices()):
        assert not view.flags.writeable
    np.testing.assert_array_equal(coo.as_coo_view().indices(), INDICES)
    sv = rt.SparseTensor.sparse_coo_from_numpy(SHAPE, np.array(["x", "yy", "z"]), INDICES, cpu)
    assert sv.data_type() == "sparse_tensor(string)"
    assert list(sv.values()) == ["x", "yy", "z"]
    outer = np.array([0, 1, 2, 3, 3, 3, 3, 3, 3, 3], np.int64)
    csr = rt.SparseTensor.sparse_csr_from_numpy(SHAPE, VALUES, np.array([1, 1, 1], np.int64),
                                                outer, cpu)
    assert csr.format() == rt.OrtSparseFormat.ORT_SPARSE_CSRC
    np.testing.assert_array_equal(csr.as_csrc_view().outer(), outer)
    with pytest.raises(RuntimeError):
        coo.to_cuda(rt.OrtDevice.make("cuda", 0))
    ov = rt.OrtValue.ort_value_from_sparse_tensor(coo)
    assert ov.is_sparse_tensor() and ov.data_type() == "sparse_tensor(float)"
    np.testing.assert_array_equal(ov.as_sparse_tensor().values(), VALUES)


def test_bad_indices_are_refused():
    cpu = onnxrun.OrtDevice.make("cpu", 0)
    with pytest.raises(onnxrun.InvalidArgument, match="out of range"):
        onnxrun.SparseTensor.sparse_coo_from_numpy(SHAPE, VALUES, np.array([3, 5, 81]), cpu)
    with pytest.raises(onnxrun.InvalidArgument, match="do not fit"):
        onnxrun.SparseTensor.sparse_coo_from_numpy(SHAPE, VALUES, INDICES[:2], cpu)
    with pytest.raises(onnxrun.InvalidArgument, match="int64"):
        onnxrun.SparseTensor.sparse_coo_from_numpy(SHAPE, VALUES, INDICES.astype(np.int32), cpu)
    with pytest.raises(onnxrun.InvalidArgument, match="outer"):
        onnxrun.SparseTensor.sparse_csr_from_numpy(SHAPE, VALUES, np.array([1, 1, 1]),
                                                   np.arange(10), cpu)


def sparse_output_model():
    values = numpy_helper.from_array(np.array([1.5, 0.25, 7.0], np.float32), "values")
    sparse = h.make_sparse_tensor(values, numpy_helper.from_array(np.array([2, 3, 5]), "i"), [3, 3])
    out = h.make_value_info("values", h.make_sparse_tensor_type_proto(T.FLOAT, [3, 3]))
    return model([], [], [out], sparse=[sparse])


def test_sparse_initializer_output_comes_back_sparse():
    m = sparse_output_model().SerializeToString()
    for rt in (onnxrun, ort):
        (out,) = rt.InferenceSession(m, providers=["CPUExecutionProvider"]).run_with_ort_values(
            ["values"], {})
        st = out.as_sparse_tensor()
        assert st.dense_shape() == [3, 3]
        np.testing.assert_array_equal(st.values(), [1.5, 0.25, 7.0])
        np.testing.assert_array_equal(st.as_coo_view().indices(), [2, 3, 5])
        (plain,) = rt.InferenceSession(m, providers=["CPUExecutionProvider"]).run(None, {})
        assert isinstance(plain, rt.capi._pybind_state.SparseTensor)
        assert plain.dense_shape() == [3, 3]
        np.testing.assert_array_equal(plain.values(), [1.5, 0.25, 7.0])


@pytest.mark.parametrize("attrs", [{}, {"transA": 1, "alpha": 2.0}, {"transB": 1}])
def test_sparse_to_dense_matmul_matches_onnxruntime(attrs):
    a = h.make_value_info("A", h.make_sparse_tensor_type_proto(T.FLOAT, [4, 4]))
    node = h.make_node("SparseToDenseMatMul", ["A", "B"], ["Y"], domain="com.microsoft", **attrs)
    m = model([node], [a, vi("B", T.FLOAT, [4, 3 if not attrs.get("transB") else 4])],
              [vi("Y", T.FLOAT, None)], extra=[("com.microsoft", 1)]).SerializeToString()
    rng = np.random.default_rng(0)
    b = rng.standard_normal((4, 3) if not attrs.get("transB") else (4, 4)).astype(np.float32)
    vals, idx = np.array([1.0, -2.0, 3.5], np.float32), np.array([[0, 1], [2, 2], [3, 0]])
    outs = []
    for rt in (onnxrun, ort):
        st = rt.SparseTensor.sparse_coo_from_numpy([4, 4], vals, idx, rt.OrtDevice.make("cpu", 0))
        res = rt.InferenceSession(m, providers=["CPUExecutionProvider"]).run_with_ort_values(
            ["Y"], {"A": rt.OrtValue.ort_value_from_sparse_tensor(st),
                    "B": rt.OrtValue.ortvalue_from_numpy(b)})
        outs.append(res[0].numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)
