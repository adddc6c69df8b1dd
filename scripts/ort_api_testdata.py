"""Stand-ins, built with onnx.helper, for the test models onnxruntime's Python API tests load
from ``onnxruntime/test/testdata`` (binary files the test files cannot be run without).

Each builder makes a model with the inputs, outputs, names and values the tests expect; the
real files are used instead wherever they are present. ``build_missing(folder)`` writes every
model that ``folder`` lacks. Used by ``scripts/ort_api_tests.py``.
"""

from __future__ import annotations

import json
import os
from typing import Callable, Dict

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

F32 = np.float32


def _model(nodes, inputs, outputs, inits=(), opset=17, ir=8, extra_opsets=(), **kw):
    g = h.make_graph(nodes, kw.pop("name", "g"), inputs, outputs, list(inits),
                     sparse_initializer=kw.pop("sparse", None))
    ops = [h.make_opsetid("", opset)] + [h.make_opsetid(d, v) for d, v in extra_opsets]
    return h.make_model(g, opset_imports=ops, ir_version=ir, **kw)


def _vi(name, elem, shape):
    return h.make_tensor_value_info(name, elem, shape)


def mul_1():
    w = numpy_helper.from_array(np.array([[1, 2], [3, 4], [5, 6]], F32), "W")
    return _model([h.make_node("Mul", ["X", "W"], ["Y"], name="mul")], [_vi("X", T.FLOAT, [3, 2])],
                  [_vi("Y", T.FLOAT, [3, 2])], [w], opset=7, ir=3, name="mul test")


def matmul_1():
    w = numpy_helper.from_array(np.array([[1], [2]], F32), "W")
    return _model([h.make_node("MatMul", ["X", "W"], ["Y"])], [_vi("X", T.FLOAT, [3, 2])],
                  [_vi("Y", T.FLOAT, [3, 1])], [w])


def matmul_2():
    w = numpy_helper.from_array(np.array([[1], [2]], F32), "W")
    return _model([h.make_node("MatMul", ["X", "W"], ["Y"])], [_vi("X", T.FLOAT, ["None", 2])],
                  [_vi("Y", T.FLOAT, ["None", 1])], [w])


def identity_string():
    return _model([h.make_node("Identity", ["input:0"], ["output:0"])],
                  [_vi("input:0", T.STRING, [2, 2])], [_vi("output:0", T.STRING, [2, 2])])


def logicaland():
    return _model([h.make_node("And", ["input1:0", "input:0"], ["output:0"])],
                  [_vi("input1:0", T.BOOL, [2, 2]), _vi("input:0", T.BOOL, [2, 2])],
                  [_vi("output:0", T.BOOL, [2, 2])])


def _seq(name, elem):
    return h.make_tensor_sequence_value_info(name, elem, None)


def identity_opt():
    opt = h.make_value_info("x", h.make_optional_type_proto(
        h.make_sequence_type_proto(h.make_tensor_type_proto(T.FLOAT, [5]))))
    out = h.make_value_info("y", h.make_optional_type_proto(
        h.make_sequence_type_proto(h.make_tensor_type_proto(T.FLOAT, [5]))))
    return _model([h.make_node("Identity", ["x"], ["y"])], [opt], [out], opset=16)


def sequence_length():
    return _model([h.make_node("SequenceLength", ["X"], ["Y"])], [_seq("X", T.FLOAT)],
                  [_vi("Y", T.INT64, [])])


def sequence_construct():
    return _model([h.make_node("SequenceConstruct", ["tensor1", "tensor2"], ["output_sequence"])],
                  [_vi("tensor1", T.INT64, [2, 3]), _vi("tensor2", T.INT64, [2, 3])],
                  [_seq("output_sequence", T.INT64)])


def sequence_insert():
    return _model([h.make_node("SequenceInsert", ["input_seq", "tensor"], ["output_sequence"])],
                  [_seq("input_seq", T.INT64), _vi("tensor", T.INT64, [2, 3])],
                  [_seq("output_sequence", T.INT64)])


def model_with_valid_ort_config_json():
    m = mul_1()
    config = {"session_options": {"inter_op_num_threads": 5, "intra_op_num_threads": 2,
                                  "graph_optimization_level": 99, "enable_profiling": 1}}
    h.set_model_props(m, {"ort_config": json.dumps(config)})
    return m


def abs_free_dimensions():
    x = _vi("x", T.FLOAT, ["Dim1", "Dim2", 5])
    x.type.tensor_type.shape.dim[0].denotation = "DATA_BATCH"
    x.type.tensor_type.shape.dim[1].denotation = "DATA_CHANNEL"
    return _model([h.make_node("Abs", ["x"], ["y"])], [x], [_vi("y", T.FLOAT, ["Dim1", "Dim2", 5])])


def _external(tensor: onnx.TensorProto, location: str, offset: int = 0, length=None):
    t = onnx.TensorProto()
    t.CopyFrom(tensor)
    raw = t.raw_data
    t.ClearField("raw_data")
    t.data_location = T.EXTERNAL
    for k, v in (("location", location), ("offset", str(offset)),
                 ("length", str(len(raw) if length is None else length))):
        e = t.external_data.add()
        e.key, e.value = k, v
    return t, raw


def model_with_external_initializer_come_from_user():
    pads, _ = _external(numpy_helper.from_array(np.array([0, 0, 1, 1], np.int64), "Pads_not_on_disk"),
                        "Pads_not_on_disk.bin")
    return _model([h.make_node("Add", ["X", "Pads_not_on_disk"], ["Y"])], [_vi("X", T.INT64, [4])],
                  [_vi("Y", T.INT64, [4])], [pads])


def mnist():
    rng = np.random.default_rng(0)

    def w(name, *shape):
        return numpy_helper.from_array((rng.standard_normal(shape) * 0.1).astype(F32), name)
    nodes = [
        h.make_node("Conv", ["Input3", "W1"], ["c1"], kernel_shape=[5, 5], pads=[2, 2, 2, 2]),
        h.make_node("Relu", ["c1"], ["r1"]),
        h.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        h.make_node("Conv", ["p1", "W2"], ["c2"], kernel_shape=[5, 5], pads=[2, 2, 2, 2]),
        h.make_node("Relu", ["c2"], ["r2"]),
        h.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[3, 3], strides=[3, 3]),
        h.make_node("Reshape", ["p2", "shape"], ["flat"]),
        h.make_node("MatMul", ["flat", "W3"], ["mm"]),
        h.make_node("Add", ["mm", "B3"], ["Plus214_Output_0"]),
    ]
    inits = [w("W1", 8, 1, 5, 5), w("W2", 16, 8, 5, 5), w("W3", 256, 10), w("B3", 1, 10),
             numpy_helper.from_array(np.array([1, 256], np.int64), "shape")]
    return _model(nodes, [_vi("Input3", T.FLOAT, [1, 1, 28, 28])],
                  [_vi("Plus214_Output_0", T.FLOAT, [1, 10])], inits)


def model_with_orig_ext_data(folder: str):
    rng = np.random.default_rng(1)
    weight = numpy_helper.from_array(rng.standard_normal((8, 8)).astype(F32), "W")
    bias = numpy_helper.from_array(rng.standard_normal((8,)).astype(F32), "B")
    ext_w, raw_w = _external(weight, "model_with_orig_ext_data.bin", 0)
    ext_b, raw_b = _external(bias, "model_with_orig_ext_data.bin", len(raw_w))
    with open(os.path.join(folder, "model_with_orig_ext_data.bin"), "wb") as f:
        f.write(raw_w + raw_b)
    return _model([h.make_node("MatMul", ["X", "W"], ["m"]), h.make_node("Add", ["m", "B"], ["Y"])],
                  [_vi("X", T.FLOAT, [1, 8])], [_vi("Y", T.FLOAT, [1, 8])], [ext_w, ext_b])


def two_params_lora_model():
    weight = numpy_helper.from_array(np.arange(1, 17, dtype=F32).reshape(4, 4), "weight_x")
    a = numpy_helper.from_array(np.zeros((4, 0), F32), "lora_param_a")
    b = numpy_helper.from_array(np.zeros((0, 4), F32), "lora_param_b")
    nodes = [h.make_node("MatMul", ["input_x", "weight_x"], ["mm_output_x"]),
             h.make_node("MatMul", ["input_x", "lora_param_a"], ["mm_output_a"]),
             h.make_node("MatMul", ["mm_output_a", "lora_param_b"], ["mm_output_b"]),
             h.make_node("Add", ["mm_output_x", "mm_output_b"], ["output"])]
    return _model(nodes, [_vi("input_x", T.FLOAT, [4, 4]), _vi("lora_param_a", T.FLOAT, [4, "dim"]),
                          _vi("lora_param_b", T.FLOAT, ["dim", 4])],
                  [_vi("output", T.FLOAT, [4, 4])], [weight, a, b])


def two_params_lora_adapter(path: str):
    """The adapter file for two_params_lora_model, written by onnxrun's AdapterFormat (by
    onnxruntime's where this onnxrun has none)."""
    params = {"lora_param_a": np.array([3, 4, 5, 6], F32).reshape(4, 1),
              "lora_param_b": np.array([7, 8, 9, 10], F32).reshape(1, 4)}
    try:
        import onnxrun as rt
        rt.AdapterFormat
    except (ImportError, AttributeError):
        import onnxruntime as rt
    adapter = rt.AdapterFormat()
    adapter.set_adapter_version(1)
    adapter.set_model_version(1)
    adapter.set_parameters({k: rt.OrtValue.ortvalue_from_numpy(v) for k, v in params.items()})
    adapter.export_adapter(path)


def add_mul_add():
    nodes = [h.make_node("Add", ["A", "B"], ["t0"], name="add_0"),
             h.make_node("Mul", ["t0", "C"], ["t1"], name="mul_0"),
             h.make_node("Add", ["t1", "D"], ["Y"], name="add_1")]
    return _model(nodes, [_vi(n, T.FLOAT, [3, 2]) for n in "ABCD"], [_vi("Y", T.FLOAT, [3, 2])])


def sparse_initializer_as_output():
    values = numpy_helper.from_array(
        np.array([1.764052391052246, 0.40015721321105957, 0.978738009929657], F32), "values")
    indices = numpy_helper.from_array(np.array([2, 3, 5], np.int64), "indices")
    sparse = h.make_sparse_tensor(values, indices, [3, 3])
    out = h.make_value_info("values", h.make_sparse_tensor_type_proto(T.FLOAT, [3, 3]))
    return _model([], [], [out], sparse=[sparse])


def sparse_to_dense_matmul():
    a = h.make_value_info("sparse_A", h.make_sparse_tensor_type_proto(T.FLOAT, [9, 9]))
    node = h.make_node("SparseToDenseMatMul", ["sparse_A", "dense_B"], ["dense_Y"],
                       domain="com.microsoft")
    return _model([node], [a, _vi("dense_B", T.FLOAT, [9, 9])], [_vi("dense_Y", T.FLOAT, [9, 9])],
                  extra_opsets=[("com.microsoft", 1)])


def alloc_tensor_reuse():
    nodes = [h.make_node("Add", ["inp0", "inp1"], ["tsor0"]),
             h.make_node("Sub", ["inp0", "inp1"], ["tsor1"]),
             h.make_node("Neg", ["tsor0"], ["outp0"]), h.make_node("Neg", ["tsor1"], ["outp1"])]
    return _model(nodes, [_vi("inp0", T.FLOAT, [10]), _vi("inp1", T.FLOAT, [10])],
                  [_vi("outp0", T.FLOAT, [10]), _vi("outp1", T.FLOAT, [10])])


def nhwc_resize_scales_opset18():
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], F32), "scales")
    node = h.make_node("Resize", ["X", "", "scales"], ["Y"], mode="nearest")
    return _model([node], [_vi("X", T.FLOAT, [1, 2, 4, 4])], [_vi("Y", T.FLOAT, [1, 2, 8, 8])],
                  [scales], opset=18)


def test_cast_back_to_back_non_const_mixed_types_origin():
    """Nine Casts: four value-changing round trips (float -> int -> float) and one Cast to the
    type its input already has, which ORT_ENABLE_BASIC removes (9 -> 8)."""
    nodes, prev = [], "X"
    for i, to in enumerate([T.INT32, T.FLOAT, T.INT64, T.FLOAT, T.FLOAT, T.INT8, T.FLOAT,
                            T.UINT8, T.FLOAT]):
        nodes.append(h.make_node("Cast", [prev], [f"c{i}"], to=to, name=f"cast_{i}"))
        prev = f"c{i}"
        if i == 4:
            nodes.append(h.make_node("Relu", [prev], ["relu"], name="relu"))
            prev = "relu"
    nodes.append(h.make_node("Neg", [prev], ["Y"], name="neg"))
    return _model(nodes, [_vi("X", T.FLOAT, [2, 3])], [_vi("Y", T.FLOAT, [2, 3])])


def conv_qdq_external_ini(folder: str):
    rng = np.random.default_rng(2)
    w = numpy_helper.from_array(rng.integers(-20, 20, (8, 1, 3, 3)).astype(np.int8), "w_q")
    bias = numpy_helper.from_array(rng.integers(-50, 50, (8,)).astype(np.int32), "bias_q")
    ext_w, raw_w = _external(w, "conv_qdq_external_ini.bin", 0)
    ext_b, raw_b = _external(bias, "conv_qdq_external_ini.bin", len(raw_w))
    with open(os.path.join(folder, "conv_qdq_external_ini.bin"), "wb") as f:
        f.write(raw_w + raw_b)
    small = [numpy_helper.from_array(np.array(v, dt), n) for n, v, dt in (
        ("x_scale", 0.05, F32), ("x_zp", 0, np.uint8), ("w_scale", 0.02, F32), ("w_zp", 0, np.int8),
        ("b_scale", 0.001, F32), ("b_zp", 0, np.int32))]
    nodes = [h.make_node("QuantizeLinear", ["X", "x_scale", "x_zp"], ["xq"]),
             h.make_node("DequantizeLinear", ["xq", "x_scale", "x_zp"], ["xd"]),
             h.make_node("DequantizeLinear", ["w_q", "w_scale", "w_zp"], ["wd"]),
             h.make_node("DequantizeLinear", ["bias_q", "b_scale", "b_zp"], ["bd"]),
             h.make_node("Conv", ["xd", "wd", "bd"], ["Y"], pads=[1, 1, 1, 1])]
    return _model(nodes, [_vi("X", T.FLOAT, [1, 1, 5, 5])], [_vi("Y", T.FLOAT, [1, 8, 5, 5])],
                  [ext_w, ext_b] + small)


#: file name (relative to testdata/) -> builder (builders taking the folder write side files)
BUILDERS: Dict[str, Callable] = {
    "mul_1.onnx": mul_1, "matmul_1.onnx": matmul_1, "matmul_2.onnx": matmul_2,
    "identity_string.onnx": identity_string, "logicaland.onnx": logicaland,
    "identity_opt.onnx": identity_opt, "sequence_length.onnx": sequence_length,
    "sequence_construct.onnx": sequence_construct, "sequence_insert.onnx": sequence_insert,
    "model_with_valid_ort_config_json.onnx": model_with_valid_ort_config_json,
    "abs_free_dimensions.onnx": abs_free_dimensions,
    "model_with_external_initializer_come_from_user.onnx":
        model_with_external_initializer_come_from_user,
    "mnist.onnx": mnist, "model_with_orig_ext_data.onnx": model_with_orig_ext_data,
    "lora/two_params_lora_model.onnx": two_params_lora_model, "add_mul_add.onnx": add_mul_add,
    "sparse_initializer_as_output.onnx": sparse_initializer_as_output,
    "sparse_to_dense_matmul.onnx": sparse_to_dense_matmul,
    "alloc_tensor_reuse.onnx": alloc_tensor_reuse,
    "nhwc_resize_scales_opset18.onnx": nhwc_resize_scales_opset18,
    "test_cast_back_to_back_non_const_mixed_types_origin.onnx":
        test_cast_back_to_back_non_const_mixed_types_origin,
    "conv_qdq_external_ini.onnx": conv_qdq_external_ini,
}


def build_missing(folder: str) -> list:
    """Write into ``folder`` every stand-in model it lacks; returns the names written."""
    import inspect
    written = []
    for name, build in BUILDERS.items():
        path = os.path.join(folder, name)
        if os.path.exists(path):
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        takes_folder = bool(inspect.signature(build).parameters)
        model = build(os.path.dirname(path)) if takes_folder else build()
        onnx.save(model, path)
        written.append(name)
    adapter = os.path.join(folder, "lora", "two_params_lora_model.onnx_adapter")
    if not os.path.exists(adapter):
        two_params_lora_adapter(adapter)
        written.append("lora/two_params_lora_model.onnx_adapter")
    return written
