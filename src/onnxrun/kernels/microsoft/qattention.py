"""QAttention (com.microsoft): BERT-style self-attention whose QKV projection is an 8-bit
integer GEMM (onnxruntime's quantize_dynamic of com.microsoft Attention)."""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidArgument, NotImplemented
from ..base import OpKernel
from ..registry import kernel
from ..transformer._common import safe_softmax
from ._quant import (F32, Q8, const_input, exact_matmul, int_matrix, require, scale_value,
                     zero_point)
from .qgemm import column_param


def attention_bias(mask, B, S, P, unidirectional, filter_value):
    """The additive mask [B or 1, 1, S, P + S] of com.microsoft Attention (None when no mask
    and not unidirectional): ``mask_index`` [B] end positions or [2B] end and start positions;
    raw 0/1 masks [B, P+S] or [B, S, P+S]; masked keys get ``mask_filter_value``; with
    ``unidirectional`` future keys get float32's lowest value (onnxruntime 1.32: a query whose
    visible keys are all masked then spreads over them, not over the future)."""
    T = P + S
    bias = None
    if mask is not None:
        if mask.dtype != np.int32:
            raise InvalidArgument(f"mask_index must be int32, got {mask.dtype}")
        keys = np.arange(T)
        if mask.ndim == 1 and mask.shape[0] in (B, 2 * B):
            end = mask[:B].astype(np.int64)[:, None]
            off = keys[None, :] >= end
            if mask.shape[0] == 2 * B:
                start = np.minimum(mask[B:].astype(np.int64), T)[:, None]
                off |= keys[None, :] < start
            bias = np.where(off, filter_value, np.float32(0))[:, None, None, :]
        elif mask.ndim == 2 and mask.shape == (B, T):
            bias = np.where(mask > 0, np.float32(0), filter_value)[:, None, None, :]
        elif mask.ndim == 3 and mask.shape == (B, S, T):
            bias = np.where(mask > 0, np.float32(0), filter_value)[:, None, :, :]
        else:
            raise InvalidArgument(f"mask_index must have shape ({B},), ({2 * B},), ({B}, {T}) "
                                  f"or ({B}, {S}, {T}), got {mask.shape}")
    if unidirectional:  # future keys: float32's lowest value, whatever the mask says
        future = np.arange(T)[None, :] > (P + np.arange(S))[:, None]
        bias = np.where(future, np.finfo(F32).min, np.float32(0) if bias is None else bias)
    return None if bias is None else bias.astype(F32, copy=False)


@kernel("QAttention", domain="com.microsoft", since=1, fresh=True)
class QAttention(OpKernel):
    """``QKV = (input - input_zp) @ (weight - weight_zp) * (input_scale * weight_scale) + bias``
    (an exact integer product; weight scale and zero point per tensor or per column), split
    into Q, K, V of ``num_heads`` heads; then ``softmax(scale Q K^T + mask) V`` with the past
    K/V prepended (``present`` = [2, B, heads, P + S, head_size]); ``scale`` defaults to
    1/sqrt(head_size). ``do_rotary`` and ``past_present_share_buffer`` are not supported."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.num_heads = int(info.require_attr("num_heads"))
        if self.num_heads < 1:
            raise InvalidArgument(f"QAttention: num_heads must be positive, got "
                                  f"{self.num_heads}")
        self.unidirectional = bool(info.attr("unidirectional", 0))
        self.scale = info.attr("scale")
        self.filter_value = np.float32(info.attr("mask_filter_value", -10000.0))
        if int(info.attr("do_rotary", 0)) or int(info.attr("past_present_share_buffer", 0)):
            raise NotImplemented("QAttention: do_rotary and past_present_share_buffer are not "
                                 "supported")
        self._w = None
        kw, w = const_input(info, 1)
        kz, wz = const_input(info, 7)
        if kw and kz and w is not None:
            self._w = self._shift_weight(w, wz)

    @staticmethod
    def _shift_weight(w, wz):
        if w.dtype not in Q8 or w.ndim != 2 or w.shape[1] % 3:
            raise InvalidArgument(f"QAttention: weight must be 2-D uint8/int8 [input_hidden, "
                                  f"3 * hidden], got {w.dtype} {w.shape}")
        if wz is None:
            return int_matrix(w)
        if wz.dtype != w.dtype:
            raise InvalidArgument(f"QAttention: weight_zero_point type {wz.dtype} must equal "
                                  f"the weight's {w.dtype}")
        zp = column_param(wz, w.shape[1], "QAttention: weight_zero_point")
        return int_matrix(w.astype(F32) - zp.astype(F32))

    def __call__(self, input, weight, bias, input_scale, weight_scale, mask_index=None,
                 input_zero_point=None, weight_zero_point=None, past=None):
        if input.dtype not in Q8 or input.ndim != 3:
            raise InvalidArgument(f"QAttention: input must be 3-D uint8/int8, got "
                                  f"{input.dtype} {input.shape}")
        w = self._w if self._w is not None else self._shift_weight(weight, weight_zero_point)
        Bn, S, Din = input.shape
        if w.w.shape[0] != Din:
            raise InvalidArgument(f"QAttention: weight has {w.w.shape[0]} input features, "
                                  f"input has {Din}")
        hid = w.w.shape[1] // 3
        N = self.num_heads
        if hid % N:
            raise InvalidArgument(f"QAttention: hidden size {hid} is not divisible by "
                                  f"num_heads {N}")
        H = hid // N
        bias = require(bias, "QAttention: bias")
        if bias.shape != (3 * hid,):
            raise InvalidArgument(f"QAttention: bias must have shape ({3 * hid},), got "
                                  f"{bias.shape}")
        si = scale_value(input_scale, "QAttention: input_scale")
        sw = column_param(weight_scale, 3 * hid, "QAttention: weight_scale").astype(F32)
        zi = zero_point(input_zero_point, input.dtype, "QAttention: input_zero_point")
        acc = exact_matmul(input.astype(F32) - np.float32(zi), w).astype(F32, copy=False)
        qkv = acc * (sw * si) + bias.astype(F32)
        q, k, v = (qkv[..., i * hid:(i + 1) * hid].reshape(Bn, S, N, H).transpose(0, 2, 1, 3)
                   for i in range(3))
        P = 0
        if past is not None:
            if past.ndim != 5 or past.shape[:3] != (2, Bn, N) or past.shape[4] != H:
                raise InvalidArgument(f"QAttention: past must have shape (2, {Bn}, {N}, "
                                      f"past_length, {H}), got {past.shape}")
            P = past.shape[3]
            k = np.concatenate([past[0].astype(F32), k], axis=2)
            v = np.concatenate([past[1].astype(F32), v], axis=2)
        alpha = np.float32(self.scale if self.scale is not None else 1.0 / math.sqrt(H))
        scores = np.matmul(q, k.transpose(0, 1, 3, 2)) * alpha
        mask = attention_bias(mask_index, Bn, S, P, self.unidirectional, self.filter_value)
        if mask is not None:
            scores = scores + mask
        out = np.matmul(safe_softmax(scores), v).transpose(0, 2, 1, 3).reshape(Bn, S, hid)
        present = np.stack([k, v]) if self.info.output_wanted(1) else None
        return np.ascontiguousarray(out, dtype=F32), present
