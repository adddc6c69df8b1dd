"""Helpers for the com.microsoft kernel tests: single-node models and comparison of onnxrun
with onnxruntime (its CPU provider, graph optimizations off, so each op runs as written)."""

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

import onnxrun

MS = "com.microsoft"
RNG = np.random.default_rng(7)
f32, f16 = np.float32, np.float16


def r(*shape, dt=f32, scale=1.0):
    """Standard-normal random tensor."""
    return (RNG.standard_normal(shape) * scale).astype(dt)


def i32(*values):
    return np.array(values, dtype=np.int32)


def node_model(op, inputs, attrs=None, outputs=("y",), domain=MS, opset=17,
               out_types=None, consts=()):
    """(ModelProto, feeds) for one node. ``inputs``: (name, array or None) pairs, None for an
    absent optional input; ``outputs``: names, "" for an absent optional output; inputs named
    in ``consts`` become initializers."""
    vis, names, feeds, inits = [], [], {}, []
    for name, arr in inputs:
        if arr is None:
            names.append("")
            continue
        names.append(name)
        if name in consts:
            inits.append(numpy_helper.from_array(arr, name))
            continue
        vis.append(helper.make_tensor_value_info(
            name, helper.np_dtype_to_tensor_dtype(arr.dtype), arr.shape))
        feeds[name] = arr
    node = helper.make_node(op, names, list(outputs), domain=domain, **(attrs or {}))
    outs = []
    for i, o in enumerate(outputs):
        if o:
            t = (out_types or {}).get(i)
            outs.append(helper.make_tensor_value_info(o, t, None) if t is not None
                        else helper.make_empty_tensor_value_info(o))
    g = helper.make_graph([node], "g", vis, outs, inits)
    ops = [helper.make_opsetid("", opset), helper.make_opsetid(MS, 1)]
    m = helper.make_model(g, opset_imports=ops)
    m.ir_version = 9
    return m, feeds


def run_ort(model, feeds):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), so,
                                providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def run_mine(model, feeds):
    return onnxrun.InferenceSession(model).run(None, feeds)


def assert_close(got, exp, rtol, atol, what=""):
    assert got.dtype == exp.dtype, f"{what}: dtype {got.dtype} != {exp.dtype}"
    assert got.shape == exp.shape, f"{what}: shape {got.shape} != {exp.shape}"
    np.testing.assert_allclose(got.astype(np.float64), exp.astype(np.float64), rtol=rtol,
                               atol=atol, err_msg=what)


def vs_ort(op, inputs, attrs=None, outputs=("y",), rtol=1e-5, atol=1e-6, domain=MS, opset=17,
           out_types=None, rows=None, consts=()):
    """Run one node in both runtimes and compare every output. ``rows``: {output index:
    [valid length per batch entry]} compares only rows [:n] of axis 2 (KV caches whose other
    rows onnxruntime leaves unspecified). Returns onnxrun's outputs."""
    m, feeds = node_model(op, inputs, attrs, outputs, domain, opset, out_types, consts)
    exp = run_ort(m, feeds)
    got = run_mine(m, feeds)
    assert len(got) == len(exp)
    for i, (g, e) in enumerate(zip(got, exp)):
        if rows and i in rows:
            assert g.shape == e.shape and g.dtype == e.dtype
            for b, n in enumerate(rows[i]):
                assert_close(g[b, :, :n], e[b, :, :n], rtol, atol, f"{op} output {i} batch {b}")
        else:
            assert_close(g, e, rtol, atol, f"{op} output {i}")
    return got


FLOAT = TensorProto.FLOAT
