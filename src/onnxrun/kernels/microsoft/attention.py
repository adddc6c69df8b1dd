"""Attention (com.microsoft): BERT/GPT-2 self-attention with the Q/K/V projection packed into
one weight matrix, as onnxruntime's attention fusion emits it."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument, NotImplemented as OrtNotImplemented
from ..base import OpKernel
from ..registry import kernel
from ._transformer import (DOMAIN, add_bias, attend, causal_bias, check_attention_bias,
                           check_rank, compute, default_scale, int_scalar, mask_bias,
                           merge_heads, require_inputs, split_heads)


@kernel("Attention", since=1, domain=DOMAIN, fresh=True)
class Attention(OpKernel):
    """output = softmax(Q K^T * scale + mask + attention_bias) V with Q|K|V = input @ weights +
    bias, heads split from the hidden sizes (``qkv_hidden_sizes``, default thirds).

    Matches onnxruntime's CPU kernel where it differs from a plain unfused graph: masked
    positions get ``mask_filter_value`` (default -10000) added, not -inf, so a fully masked row
    attends uniformly; the causal (``unidirectional``) mask adds the lowest float to later keys
    and is applied only when the query has more than one token. The scale is folded into a
    constant Q weight at init. Beyond onnxruntime's CPU kernel: 4-D Megatron masks and
    ``past_present_share_buffer`` (present is a copy of the past buffer with the new rows
    written at ``past_sequence_length``)."""

    def __init__(self, info):
        super().__init__(info)
        require_inputs(info, "input", "weights")
        self.N = int(info.require_attr("num_heads"))
        if self.N <= 0:
            raise InvalidArgument(f"num_heads must be positive, got {self.N}")
        sizes = info.attr("qkv_hidden_sizes")
        self.sizes = None if sizes is None else [int(s) for s in sizes]
        if self.sizes is not None:
            if len(self.sizes) != 3 or any(s <= 0 or s % self.N for s in self.sizes):
                raise InvalidArgument(f"qkv_hidden_sizes must be 3 positive multiples of "
                                      f"num_heads ({self.N}), got {self.sizes}")
            if self.sizes[0] != self.sizes[1]:
                raise InvalidArgument(f"qkv_hidden_sizes: Q and K sizes must be equal, got "
                                      f"{self.sizes}")
        if int(info.attr("do_rotary", 0)):
            raise OrtNotImplemented("Attention with do_rotary=1 is not supported (as in "
                                 "onnxruntime's CPU kernel); use MultiHeadAttention with "
                                 "RotaryEmbedding")
        self.causal = int(info.attr("unidirectional", 0)) == 1
        self.filter = float(info.attr("mask_filter_value", -10000.0))
        self.scale_attr = info.attr("scale")
        self.share = int(info.attr("past_present_share_buffer", 0)) != 0
        self.want_present = info.output_wanted(1)
        # constant weights and bias: the compute dtype, contiguous, Q columns pre-scaled
        c = info.const_inputs
        self.W = self.bias = None
        W = c[1] if len(c) > 1 else None
        if W is not None and W.ndim == 2 and W.dtype.kind == "f":
            hq = self._split(W.shape[1])[0]
            self.scale = default_scale(self.scale_attr, hq // self.N)
            self.W = np.array(compute(W, "weights"), order="C")
            self.W[:, :hq] *= self.W.dtype.type(self.scale)
            b = c[2] if len(c) > 2 else None
            if b is not None and b.shape == (W.shape[1],):
                self.bias = np.array(compute(b, "bias"), dtype=self.W.dtype)
                self.bias[:hq] *= self.W.dtype.type(self.scale)

    def _split(self, total: int):
        if self.sizes is None:
            if total % 3 or (total // 3) % self.N:
                raise InvalidArgument(f"weights' second dimension {total} must be 3 * a multiple "
                                      f"of num_heads ({self.N}) without qkv_hidden_sizes")
            return [total // 3] * 3
        if sum(self.sizes) != total:
            raise InvalidArgument(f"qkv_hidden_sizes {self.sizes} must sum to the weights' "
                                  f"second dimension {total}")
        return self.sizes

    def __call__(self, input, weights, bias=None, mask_index=None, past=None,
                 attention_bias=None, past_sequence_length=None):
        check_rank(input, (3,), "input")
        check_rank(weights, (2,), "weights")
        B, S, D = input.shape
        if weights.shape[0] != D:
            raise InvalidArgument(f"weights' first dimension {weights.shape[0]} must equal the "
                                  f"input hidden size {D}")
        total = weights.shape[1]
        if bias is not None and bias.shape != (total,):
            raise InvalidArgument(f"bias must have shape ({total},), got {bias.shape}")
        hq, hk, hv = self._split(total)
        N = self.N
        H = hq // N
        dt = input.dtype
        x = compute(input, "input")
        cd = x.dtype
        if self.W is not None and self.W.dtype == cd:
            qkv = np.matmul(x.reshape(B * S, D), self.W)
            if self.bias is not None:
                qkv += self.bias
            elif bias is not None:
                b = compute(bias, "bias").astype(cd)
                b[:hq] *= cd.type(self.scale)
                qkv += b
        else:
            qkv = np.matmul(x.reshape(B * S, D), compute(weights, "weights").astype(cd))
            if bias is not None:
                qkv += compute(bias, "bias").astype(cd, copy=False)
            qkv[:, :hq] *= cd.type(default_scale(self.scale_attr, H))
        qkv = qkv.reshape(B, S, total)
        q = split_heads(qkv[:, :, :hq], N, "Q")
        k = split_heads(qkv[:, :, hq:hq + hk], N, "K")
        v = split_heads(qkv[:, :, hq + hk:], N, "V")
        P, present = 0, None
        if past is not None:
            if hk != hv:
                raise InvalidArgument("past needs equal K and V hidden sizes")
            if past.ndim != 5 or past.shape[:3] != (2, B, N) or past.shape[4] != H:
                raise InvalidArgument(f"past must have shape (2, {B}, {N}, past_length, {H}), "
                                      f"got {past.shape}")
            k, v, P, present = self._with_past(past, k, v, past_sequence_length, dt)
        elif self.want_present:
            present = np.empty((2, B, N, S, H), dtype=dt)
            present[0], present[1] = k, v
        T = P + S
        bias_total = None
        if mask_index is not None:
            bias_total = mask_bias(mask_index, B, S, T, P, self.filter, cd, "mask_index")
            if mask_index.ndim == 4 and self.causal:
                raise InvalidArgument("a 4-D mask_index needs unidirectional=0")
        if self.causal and S > 1:
            bias_total = add_bias(bias_total, causal_bias(S, T, P, cd))
        if attention_bias is not None:
            check_attention_bias(attention_bias, B, N, S, T)
            bias_total = add_bias(bias_total, compute(attention_bias, "attention_bias"))
        ctx, _, _ = attend(q, k, v, bias_total)
        out = merge_heads(ctx, dt)
        return out, present

    def _with_past(self, past, k, v, past_len_input, dt):
        """(K, V over past and new tokens, past length, present)."""
        B, N, S, H = k.shape
        if not self.share:
            P = past.shape[3]
            present = np.empty((2, B, N, P + S, H), dtype=dt)
            present[:, :, :, :P] = past
            present[0, :, :, P:] = k
            present[1, :, :, P:] = v
            return present[0], present[1], P, present
        if past_len_input is None:
            raise InvalidArgument("past_sequence_length is required with "
                                  "past_present_share_buffer=1")
        P = int_scalar(past_len_input, "past_sequence_length")
        M = past.shape[3]
        if not 0 <= P <= M - S:
            raise InvalidArgument(f"past_sequence_length {P} plus {S} new tokens exceeds the "
                                  f"shared buffer length {M}")
        present = np.array(past, dtype=dt)
        present[0, :, :, P:P + S] = k
        present[1, :, :, P:P + S] = v
        return present[0, :, :, :P + S], present[1, :, :, :P + S], P, present
