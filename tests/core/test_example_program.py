"""The classic onnxruntime example program, unchanged, against the bundled digits model."""

import os

import numpy as np

import onnxrun as onnxruntime

MODEL = os.path.join(os.path.dirname(onnxruntime.__file__), "data", "digits.onnx")


def test_classic_example_program():
    # load a model from a path and from bytes
    sess = onnxruntime.InferenceSession(MODEL, providers=["CPUExecutionProvider"])
    with open(MODEL, "rb") as f:
        sess_bytes = onnxruntime.InferenceSession(f.read(), providers=["CPUExecutionProvider"])
    input_name = sess.get_inputs()[0].name
    output_name = sess.get_outputs()[0].name
    assert input_name == "image" and output_name == "logits"
    assert sess.get_inputs()[0].shape == ["N", 64]
    assert sess.get_inputs()[0].type == "tensor(float)"
    # run a batch of 6000 images
    x = np.random.default_rng(0).random((6000, 64)).astype(np.float32) * 16
    res = sess.run([output_name], {input_name: x})
    res_bytes = sess_bytes.run([output_name], {input_name: x})
    assert res[0].shape == (6000, 10)
    np.testing.assert_array_equal(res[0], res_bytes[0])

    # softmax of the first row
    def softmax(v):
        e = np.exp(v - v.max())
        return e / e.sum()

    prob = softmax(res[0][0])
    assert abs(prob.sum() - 1) < 1e-5 and prob.argmax() == res[0][0].argmax()

    import onnxruntime as ort  # the oracle
    ref = ort.InferenceSession(MODEL, providers=["CPUExecutionProvider"]).run(
        [output_name], {input_name: x})
    np.testing.assert_allclose(res[0], ref[0], rtol=1e-4, atol=1e-4)


def test_bundled_model_is_accurate_on_held_out_digits():
    data = np.load(os.path.join(os.path.dirname(MODEL), "digits_samples.npz"))
    sess = onnxruntime.InferenceSession(MODEL)
    _, label = sess.run(None, {"image": data["images"]})
    assert label.dtype == np.int64
    assert np.mean(label == data["labels"]) >= 0.9
