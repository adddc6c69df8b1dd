"""Helpers of the com.microsoft quantization tests: single-node models and running them on
onnxruntime (the oracle) and onnxrun."""

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

import onnxrun

MS = "com.microsoft"
F32 = np.float32


def node_model(op, inputs, attrs=None, n_out=1, domain=MS, opset=17, dynamic=()):
    """A one-node model. ``inputs``: (name, array or None, is_initializer) triples; None leaves
    an optional input out; graph inputs named in ``dynamic`` get no shape. Returns (model
    bytes, feeds)."""
    names, inits, vis, feeds = [], [], [], {}
    for name, arr, init in inputs:
        if arr is None:
            names.append("")
            continue
        names.append(name)
        arr = np.asarray(arr)
        if init:
            inits.append(numpy_helper.from_array(arr, name))
        else:
            vis.append(helper.make_tensor_value_info(
                name, helper.np_dtype_to_tensor_dtype(arr.dtype),
                None if name in dynamic else list(arr.shape)))
            feeds[name] = arr
    while names and names[-1] == "":
        names.pop()
    outs = [f"y{i}" for i in range(n_out)]
    node = helper.make_node(op, names, outs, domain=domain, **(attrs or {}))
    g = helper.make_graph([node], "g", vis, [onnx.ValueInfoProto(name=o) for o in outs], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset),
                                            helper.make_opsetid(MS, 1)])
    m.ir_version = 9
    return m.SerializeToString(), feeds


def ort_session(model, threads=1):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.log_severity_level = 3
    return ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])


def run_both(model, feeds):
    """(onnxruntime outputs, onnxrun outputs) of a model (bytes or ModelProto)."""
    if not isinstance(model, bytes):
        model = model.SerializeToString()
    exp = ort_session(model).run(None, feeds)
    got = onnxrun.InferenceSession(model).run(None, feeds)
    return exp, got


def assert_same(exp, got):
    """Bit-exact equality, dtype and shape included."""
    assert len(exp) == len(got)
    for e, g in zip(exp, got):
        assert g.dtype == e.dtype and g.shape == e.shape, (g.dtype, g.shape, e.dtype, e.shape)
        np.testing.assert_array_equal(g, e)


def assert_close(exp, got, rtol=1e-5, atol=1e-6):
    assert len(exp) == len(got)
    for e, g in zip(exp, got):
        assert g.dtype == e.dtype and g.shape == e.shape, (g.dtype, g.shape, e.dtype, e.shape)
        np.testing.assert_allclose(g.astype(np.float64), e.astype(np.float64), rtol=rtol,
                                   atol=atol)


def op_types(model):
    """{domain:op_type} of a ModelProto's nodes (domain '' for ONNX)."""
    return {f"{n.domain}:{n.op_type}" for n in model.graph.node}


def q8(rng, dt, *shape):
    info = np.iinfo(dt)
    return rng.integers(int(info.min), int(info.max) + 1, shape).astype(dt)


def zp(rng, dt, n=None):
    info = np.iinfo(dt)
    return np.array(rng.integers(int(info.min), int(info.max) + 1, n), dtype=dt)


def scale(rng, n=None, lo=0.005, hi=0.05):
    return np.array(rng.random(n) * (hi - lo) + lo, dtype=F32)
