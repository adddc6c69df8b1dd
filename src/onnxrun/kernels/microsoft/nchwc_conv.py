"""com.microsoft.nchwc Conv: a 2-D convolution on NCHWc tensors, with an optional fused
activation (``activation``, ``activation_params``) and an optional ``Sum`` input added before the
activation (onnxruntime's Conv+Add fusion: Y = act(conv(X, W) + B + Sum)).

onnxruntime stores W reordered for MLAS, its shape kept as (Op, I, kH, kW) with Op the output
channels padded to the block size (zero filters, and zero biases in B):

* OIHWBo, memory (Op/B, I, kH, kW, B), for depthwise convs (I == 1, group == Op) and for convs
  reading a plain NCHW input (group 1 and I < B, the network's first conv);
* OIHWBiBo, memory (Op/B, I/B, kH, kW, B_in, B_out), for the others.

Here W is put back to OIHW once at init and the node runs as onnxrun's Conv on X converted to
NCHW, its output converted back to the blocked layout (the Sum add folded into that copy).
"""

from __future__ import annotations

import copy

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..fused import _activation
from ..nn.conv import Conv
from ..registry import kernel
from ._nchwc_layout import DOMAIN, blocked_view, block_size, check_input, from_blocked, text


def filter_to_oihw(W: np.ndarray, b: int, inner_blocked: bool) -> np.ndarray:
    """An NCHWc-reordered filter (OIHWBiBo if ``inner_blocked`` else OIHWBo) as plain OIHW."""
    op, i, kh, kw = W.shape
    if op % b:
        raise InvalidArgument(f"W has {op} output channels, not a multiple of the NCHWc block "
                              f"size {b}")
    if not inner_blocked:
        return np.ascontiguousarray(
            W.reshape(op // b, i, kh, kw, b).transpose(0, 4, 1, 2, 3).reshape(op, i, kh, kw))
    if i % b:
        raise InvalidArgument(f"W has {i} input channels per group, not a multiple of the NCHWc "
                              f"block size {b}")
    w = W.reshape(op // b, i // b, kh, kw, b, b).transpose(0, 5, 1, 4, 2, 3)
    return np.ascontiguousarray(w.reshape(op, i, kh, kw))


@kernel("Conv", since=1, domain=DOMAIN, fresh=True)
class NchwcConv(OpKernel):
    """Conv(X, W, B?, Sum?) on the NCHWc layout; W and B must be constant (initializers)."""

    def __init__(self, info):
        super().__init__(info)
        self.block = b = block_size(info)
        consts = list(info.const_inputs) + [None] * 3
        W, bias = consts[1], consts[2]
        if W is None:
            raise InvalidArgument("W must be a constant (initializer): onnxruntime reorders it "
                                  "when it saves the model")
        if W.ndim != 4 or W.dtype != np.float32:
            raise InvalidArgument(f"W must be a 4-D float32 tensor, got {W.dtype} {W.shape}")
        if len(info.input_names) > 2 and info.input_names[2] and bias is None:
            raise InvalidArgument("B must be a constant (initializer)")
        group = int(info.attr("group", 1))
        op, i = W.shape[:2]
        #: the input is plain NCHW (MLAS's NCHW-input convolution: group 1, I < B)
        self.nchw_input = group == 1 and i < b
        depthwise = group > 1 and i == 1 and op == group
        self.weights = filter_to_oihw(W, b, not (self.nchw_input or depthwise))
        self.bias = bias
        if bias is not None and bias.shape != (op,):
            raise InvalidArgument(f"B must have shape ({op},), got {bias.shape}")
        #: a 1x1 depthwise conv without padding or strides (a batch normalization, as
        #: onnxruntime rewrites it) is a per-channel affine map, run on the blocked layout:
        #: (scale, shift) broadcast as (Op/B, 1, 1, B)
        self.affine = None
        if (depthwise and W.shape[2:] == (1, 1) and not any(info.attr("pads") or [])
                and all(s == 1 for s in info.attr("strides") or [1])
                and text(info.attr("auto_pad", "NOTSET")) in ("NOTSET", "VALID")):
            shift = bias if bias is not None else np.zeros(op, np.float32)
            self.affine = (W.reshape(op // b, 1, 1, b), shift.reshape(op // b, 1, 1, b))
        else:
            inner = copy.copy(info)
            inner.attrs = {k: v for k, v in info.attrs.items()
                           if k not in ("activation", "activation_params")}
            inner.const_inputs = [None, self.weights, bias]
            inner.since_version = 11
            self.conv = Conv(inner)
        name = text(info.attr("activation", ""))
        try:
            self.act = _activation.make(name, list(info.attr("activation_params", []) or []))\
                if name else None
        except (ValueError, TypeError) as exc:
            raise InvalidArgument(f"unsupported fused activation {name!r} "
                                  f"(activation_params {info.attr('activation_params')}): "
                                  f"{exc}") from None

    def __call__(self, X, W, B=None, Sum=None):
        check_input(X, "X")
        b = self.block
        if self.affine is not None:
            return self._affine(X, Sum)
        x = X if self.nchw_input else from_blocked(X, b)
        y = self.conv(x, self.weights, self.bias)  # (N, Op, oh, ow), fresh
        N, op, oh, ow = y.shape
        src = y.reshape(N, op // b, b, oh, ow).transpose(0, 1, 3, 4, 2)
        out = np.empty((N, op // b, oh, ow, b), dtype=np.float32)
        if Sum is None:
            np.copyto(out, src)
        else:
            np.add(src, _sum_view(Sum, (N, op, oh, ow), b), out=out)
        out = out.reshape(N, op, oh, ow)
        return self.act(out) if self.act is not None else out

    def _affine(self, X, Sum):
        scale, shift = self.affine
        v = blocked_view(X, self.block, "X")
        if v.shape[1] != scale.shape[0]:
            raise InvalidArgument(f"X has {X.shape[1]} channels, W expects {scale.size}")
        out = np.multiply(v, scale)
        out += shift
        if Sum is not None:
            out += _sum_view(Sum, X.shape, self.block)
        out = out.reshape(X.shape)
        return self.act(out) if self.act is not None else out


def _sum_view(Sum, shape, b):
    if Sum.shape != tuple(shape):
        raise InvalidArgument(f"output and sum shape must match: output {tuple(shape)}, "
                              f"Sum {Sum.shape}")
    return blocked_view(Sum, b, "Sum")
