"""Drop-in check: the IO-binding flow Hugging Face optimum's ORTModelForCausalLM runs (inputs
and outputs bound by pointer with element type and shape, preallocated output buffers, a
greedy decode loop feeding ``present.*`` back as ``past_key_values.*``) gives onnxruntime's
tokens and logits on a tiny decoder."""

import numpy as np
import onnxruntime as ort

import onnxrun
from onnxrun.transformers.io_binding_helper import TypeHelper

from ._models import tiny_decoder

VOCAB, DIM, STEPS = 11, 8, 6


def greedy_decode(rt, model_bytes, prompt):
    """optimum's loop, written against the runtime module ``rt``: returns (tokens, logits)."""
    sess = rt.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    types = {a.name: a.type for a in sess.get_inputs() + sess.get_outputs()}
    batch = prompt.shape[0]
    past_k = np.zeros((batch, 1, 0, DIM), np.float32)
    past_v = np.zeros((batch, 1, 0, DIM), np.float32)
    mask = np.zeros((batch, 0), np.int64)
    tokens, all_logits = [], []
    ids = prompt[:, :1]
    feed_pos = 1
    binding = sess.io_binding()
    for _ in range(prompt.shape[1] - 1 + STEPS):
        mask = np.concatenate([mask, np.ones((batch, 1), np.int64)], axis=1)
        total = mask.shape[1]
        inputs = {"input_ids": np.ascontiguousarray(ids), "attention_mask": mask,
                  "past_key_values.0.key": past_k, "past_key_values.0.value": past_v}
        binding.clear_binding_inputs()
        binding.clear_binding_outputs()
        for name, arr in inputs.items():
            binding.bind_input(name, "cpu", 0, TypeHelper.ort_type_to_numpy_type(types[name]),
                               list(arr.shape), arr.ctypes.data)
        out_shapes = {"logits": (batch, 1, VOCAB), "present.0.key": (batch, 1, total, DIM),
                      "present.0.value": (batch, 1, total, DIM)}
        buffers = {n: np.empty(s, TypeHelper.ort_type_to_numpy_type(types[n]))
                   for n, s in out_shapes.items()}
        for name, buf in buffers.items():
            binding.bind_output(name, "cpu", 0, buf.dtype, list(buf.shape), buf.ctypes.data)
        binding.synchronize_inputs()
        sess.run_with_iobinding(binding)
        binding.synchronize_outputs()
        logits = buffers["logits"]
        past_k, past_v = buffers["present.0.key"], buffers["present.0.value"]
        if feed_pos < prompt.shape[1]:  # still reading the prompt
            ids = prompt[:, feed_pos:feed_pos + 1]
            feed_pos += 1
            continue
        all_logits.append(logits.copy())
        ids = np.argmax(logits[:, -1, :], axis=-1)[:, None].astype(np.int64)
        tokens.append(ids[:, 0].copy())
    return np.stack(tokens, axis=1), np.stack(all_logits)


def test_greedy_decode_with_io_binding_matches_onnxruntime():
    model = tiny_decoder(VOCAB, DIM).SerializeToString()
    prompt = np.array([[1, 5, 2], [3, 3, 7]], np.int64)
    tokens, logits = greedy_decode(onnxrun, model, prompt)
    ref_tokens, ref_logits = greedy_decode(ort, model, prompt)
    np.testing.assert_array_equal(tokens, ref_tokens)
    np.testing.assert_allclose(logits, ref_logits, rtol=1e-4, atol=1e-4)
    assert tokens.shape == (2, STEPS)


def test_ortvalue_outputs_bound_and_reused_across_steps():
    """optimum's other form: outputs bound to OrtValues allocated by shape and type, their
    ``data_ptr`` then bound as the next step's inputs."""
    model = tiny_decoder(VOCAB, DIM).SerializeToString()
    sess = onnxrun.InferenceSession(model)
    ref = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    binding = sess.io_binding()
    past = onnxrun.OrtValue.ortvalue_from_shape_and_type([1, 1, 0, DIM], np.float32)
    past_np = np.zeros((1, 1, 0, DIM), np.float32)
    for step, token in enumerate([4, 9, 2]):
        ids = np.array([[token]], np.int64)
        mask = np.ones((1, step + 1), np.int64)
        binding.bind_cpu_input("input_ids", ids)
        binding.bind_cpu_input("attention_mask", mask)
        binding.bind_ortvalue_input("past_key_values.0.key", past)
        binding.bind_ortvalue_input("past_key_values.0.value", past)
        present = onnxrun.OrtValue.ortvalue_from_shape_and_type([1, 1, step + 1, DIM], np.float32)
        binding.bind_ortvalue_output("present.0.key", present)
        binding.bind_output("logits")
        binding.bind_output("present.0.value")
        sess.run_with_iobinding(binding)
        outs = binding.get_outputs()
        expected = ref.run(None, {"input_ids": ids, "attention_mask": mask,
                                  "past_key_values.0.key": past_np,
                                  "past_key_values.0.value": past_np})
        np.testing.assert_allclose(outs[0].numpy(), expected[1], rtol=1e-5, atol=1e-5)  # bound order
        np.testing.assert_allclose(present.numpy(), expected[1], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(outs[1].numpy(), expected[0], rtol=1e-4, atol=1e-4)
        past, past_np = present, expected[1]
        binding.clear_binding_outputs()


def test_type_helper_maps():
    sess = onnxrun.InferenceSession(tiny_decoder(VOCAB, DIM).SerializeToString())
    assert TypeHelper.get_input_type(sess, "input_ids") == "tensor(int64)"
    assert TypeHelper.get_output_type(sess, "logits") == "tensor(float)"
    assert TypeHelper.get_io_numpy_type_map(sess)["attention_mask"] is np.int64
    assert TypeHelper.ort_type_to_onnx_type("tensor(float16)") == 10
    import pytest
    with pytest.raises(ValueError, match="not found"):
        TypeHelper.ort_type_to_numpy_type("tensor(string)")
