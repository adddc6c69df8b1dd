"""A voice-activity detector laid out like Silero VAD's ONNX export: called once per 512-sample
frame at 16 kHz with its LSTM state fed back, in float32 or float16."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper

from ._builder import INT64, GraphBuilder, tensor_info

#: per sample rate: (STFT window, hop, reflect padding); frames of 512 samples at 16 kHz
#: (256 at 8 kHz) give 3 STFT columns
RATES = {16000: (256, 128, 64), 8000: (128, 64, 32)}


def _stft_basis(n_fft: int, dtype) -> np.ndarray:
    """Real and imaginary Hann-windowed DFT rows as a Conv1d weight [2 * bins, 1, n_fft]."""
    bins = n_fft // 2 + 1
    t = np.arange(n_fft)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * t / n_fft)
    angle = 2 * np.pi * np.outer(np.arange(bins), t) / n_fft
    basis = np.concatenate([np.cos(angle), -np.sin(angle)]) * window
    return basis[:, None, :].astype(dtype)


def _branch(g: GraphBuilder, rate: int, hidden: int, dtype) -> onnx.GraphProto:
    """One sample rate's network: STFT-like Conv, magnitude, four Conv+ReLU encoder blocks,
    an LSTM step (state from and to the outer ``state``), Conv 1x1 + Sigmoid decoder."""
    outer = g.nodes
    g.nodes = []
    n_fft, hop, pad = RATES[rate]
    bins = n_fft // 2 + 1

    def w(shape, fan_in):
        return g.tensor((g.rng.standard_normal(shape) / np.sqrt(fan_in)).astype(dtype), "w")

    # the batch size through Shape / Gather / Unsqueeze / Concat into Reshape, as exports do
    batch = g.op("Unsqueeze", [g.op("Gather", [g.op("Shape", ["input"]), g.const(0, np.int64)],
                                    axis=0), g.const([0], np.int64)])
    x = g.op("Pad", ["input", g.const([0, 0, 0, pad], np.int64)], mode="reflect")
    x = g.op("Reshape", [x, g.op("Concat", [batch, g.const([1, -1], np.int64)], axis=0)])
    spec = g.op("Conv", [x, g.tensor(_stft_basis(n_fft, dtype), "stft_basis")],
                kernel_shape=[n_fft], strides=[hop], pads=[0, 0])
    re = g.op("Slice", [spec, g.const([0], np.int64), g.const([bins], np.int64),
                        g.const([1], np.int64)])
    im = g.op("Slice", [spec, g.const([bins], np.int64), g.const([2 * bins], np.int64),
                        g.const([1], np.int64)])
    power = g.op("Add", [g.op("Pow", [re, g.const(2.0, dtype)]),
                         g.op("Pow", [im, g.const(2.0, dtype)])])
    x = g.op("Sqrt", [power])
    for c_in, c_out, stride in [(bins, 128, 1), (128, 64, 2), (64, 64, 2), (64, 128, 1)]:
        x = g.op("Conv", [x, w((c_out, c_in, 3), c_in * 3), w((c_out,), 100)],
                 kernel_shape=[3], strides=[stride], pads=[1, 1])
        x = g.op("Relu", [x])
    x = g.op("Reshape", [x, g.op("Concat", [batch, g.const([-1], np.int64)], axis=0)])
    h0 = g.op("Gather", ["state", g.const(0, np.int64)], axis=0)
    c0 = g.op("Gather", ["state", g.const(1, np.int64)], axis=0)
    zero = g.const([0], np.int64)
    y, h, c = g.op("LSTM", [g.op("Unsqueeze", [x, zero]), w((1, 4 * hidden, 128), hidden),
                            w((1, 4 * hidden, hidden), hidden), w((1, 8 * hidden), hidden),
                            "", g.op("Unsqueeze", [h0, zero]), g.op("Unsqueeze", [c0, zero])],
                   n_out=3, hidden_size=hidden)
    h, c = g.op("Squeeze", [h, zero]), g.op("Squeeze", [c, zero])
    g.op("Concat", [g.op("Unsqueeze", [h, zero]), g.op("Unsqueeze", [c, zero])],
         out=[f"state_{rate}"], axis=0)
    d = g.op("Unsqueeze", [g.op("Relu", [h]), g.const([-1], np.int64)])
    d = g.op("Sigmoid", [g.op("Conv", [d, w((1, hidden, 1), hidden), w((1,), 100)],
                              kernel_shape=[1])])
    d = g.op("Squeeze", [d, g.const([1], np.int64)])
    g.op("ReduceMean", [d], out=[f"out_{rate}"], axes=[1], keepdims=1)
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    body = helper.make_graph(g.nodes, f"vad_{rate}", [], [
        helper.make_tensor_value_info(f"out_{rate}", elem, ["batch", 1]),
        helper.make_tensor_value_info(f"state_{rate}", elem, [2, "batch", hidden])])
    g.nodes = outer
    return body


def vad(float16: bool = False, hidden: int = 128, seed: int = 7) -> onnx.ModelProto:
    """Silero-VAD-like model: inputs ``input`` [batch, samples], ``state`` [2, batch, 128] and
    ``sr`` (int64 scalar); an If on ``sr == 16000`` picks the 16 kHz or 8 kHz network; outputs
    ``output`` [batch, 1] (speech probability) and ``stateN`` (fed back on the next call)."""
    dtype = np.float16 if float16 else np.float32
    elem = TensorProto.FLOAT16 if float16 else TensorProto.FLOAT
    g = GraphBuilder(seed)
    then_b = _branch(g, 16000, hidden, dtype)
    else_b = _branch(g, 8000, hidden, dtype)
    is16 = g.op("Equal", ["sr", g.const(16000, np.int64)])
    g.op("If", [is16], out=["output", "stateN"], then_branch=then_b, else_branch=else_b)
    kind = "float16" if float16 else "float32"
    return g.model([tensor_info("input", elem, ["batch", "samples"]),
                    tensor_info("state", elem, [2, "batch", hidden]),
                    tensor_info("sr", INT64, [])],
                   [tensor_info("output", elem, ["batch", 1]),
                    tensor_info("stateN", elem, [2, "batch", hidden])],
                   opset=16, name="vad",
                   doc=f"Silero-VAD-like streaming model ({kind}); random weights (seed {seed})")


def vad_fp16() -> onnx.ModelProto:
    """``vad`` with float16 weights, inputs and outputs."""
    return vad(float16=True)


def stream_feeds(inputs, rng: np.random.Generator, calls: int):
    """Per-call feeds of a 16 kHz stream: ``calls`` frames of 512 samples (a tone in noise),
    zero state and ``sr`` = 16000; ``inputs`` are the session's NodeArgs (for the dtype)."""
    dtype = np.float16 if any("float16" in a.type for a in inputs) else np.float32
    t = np.arange(calls * 512) / 16000.0
    audio = 0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)
    audio = (audio + 0.05 * rng.standard_normal(audio.shape)).astype(dtype)
    first = {"state": np.zeros((2, 1, 128), dtype), "sr": np.array(16000, np.int64)}
    frames = [{"input": audio[i * 512:(i + 1) * 512][None]} for i in range(calls)]
    return first, frames
