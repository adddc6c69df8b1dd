"""QEmbedLayerNormalization (com.microsoft): BERT embedding lookup (word + position +
segment) from 8-bit tables, summed and layer-normalized with 8-bit gamma/beta; also the mask
index (the number of ones in each mask row)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._quant import F32, Q8, require, scale_value, zero_point

_TABLES = ("word_embedding", "position_embedding", "segment_embedding", "gamma", "beta")


@kernel("QEmbedLayerNormalization", domain="com.microsoft", since=1, fresh=True)
class QEmbedLayerNormalization(OpKernel):
    """``x = deq(word[input_ids]) + deq(position[s]) (+ deq(segment[segment_ids]))`` with
    ``deq(q) = (q - zp) * scale`` per tensor, then ``(x - mean) / sqrt(var + epsilon) *
    deq(gamma) + deq(beta)`` over the hidden axis (float32). Ids out of range are errors.
    The 8-bit tables are dequantized once at initialization when they are constants."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.epsilon = np.float32(info.attr("epsilon", 1e-12))
        c = info.const_inputs
        self._deq = {}
        for i, name in enumerate(_TABLES):
            idx = (2, 3, 4, 5, 6)[i]
            q, s, z = (c[j] if len(c) > j else None for j in (idx, 8 + i, 13 + i))
            if q is not None and s is not None and z is not None:
                self._deq[name] = self._dequantize(q, s, z, name)

    @staticmethod
    def _dequantize(q, s, z, name):
        if q.dtype not in Q8:
            raise InvalidArgument(f"QEmbedLayerNormalization: {name} must be uint8 or int8, "
                                  f"got {q.dtype}")
        scale = scale_value(s, f"QEmbedLayerNormalization: {name}_scale")
        zp = zero_point(z, q.dtype, f"QEmbedLayerNormalization: {name}_zero_point")
        return (q.astype(np.int32) - zp).astype(F32) * scale

    def _table(self, name, q, s, z):
        if name in self._deq:
            return self._deq[name]
        return self._dequantize(require(q, f"QEmbedLayerNormalization: {name}"),
                                require(s, f"QEmbedLayerNormalization: {name}_scale"),
                                require(z, f"QEmbedLayerNormalization: {name}_zero_point"),
                                name)

    def __call__(self, input_ids, segment_ids, word_q, position_q, segment_q, gamma_q, beta_q,
                 mask=None, word_s=None, position_s=None, segment_s=None, gamma_s=None,
                 beta_s=None, word_z=None, position_z=None, segment_z=None, gamma_z=None,
                 beta_z=None):
        op = "QEmbedLayerNormalization"
        if input_ids.dtype != np.int32 or input_ids.ndim != 2:
            raise InvalidArgument(f"{op}: input_ids must be 2-D int32, got {input_ids.dtype} "
                                  f"{input_ids.shape}")
        Bn, S = input_ids.shape
        word = self._table("word_embedding", word_q, word_s, word_z)
        pos = self._table("position_embedding", position_q, position_s, position_z)
        gamma = self._table("gamma", gamma_q, gamma_s, gamma_z)
        beta = self._table("beta", beta_q, beta_s, beta_z)
        hid = word.shape[1] if word.ndim == 2 else -1
        if hid < 1 or pos.ndim != 2 or pos.shape[1] != hid or gamma.shape != (hid,) or \
                beta.shape != (hid,):
            raise InvalidArgument(f"{op}: embeddings must be 2-D with hidden size {hid} and "
                                  f"gamma/beta of shape ({hid},)")
        if S > pos.shape[0]:
            raise InvalidArgument(f"{op}: sequence length {S} exceeds the {pos.shape[0]} "
                                  "position embeddings")
        x = word[_ids(input_ids, word.shape[0], "input_ids")] + pos[:S][None]
        if segment_ids is not None:
            seg = self._table("segment_embedding", segment_q, segment_s, segment_z)
            if segment_ids.shape != input_ids.shape or seg.ndim != 2 or seg.shape[1] != hid:
                raise InvalidArgument(f"{op}: segment_ids must have the shape of input_ids and "
                                      f"the segment embedding hidden size {hid}")
            x = x + seg[_ids(segment_ids, seg.shape[0], "segment_ids")]
        mean = x.mean(axis=-1, keepdims=True, dtype=F32)
        d = x - mean
        var = (d * d).mean(axis=-1, keepdims=True, dtype=F32)
        y = d / np.sqrt(var + self.epsilon) * gamma + beta
        if mask is not None:
            if mask.shape != input_ids.shape:
                raise InvalidArgument(f"{op}: mask must have the shape of input_ids "
                                      f"{input_ids.shape}, got {mask.shape}")
            index = np.sum(mask == 1, axis=1).astype(np.int32)
        else:
            index = np.zeros(Bn, dtype=np.int32)
        return y.astype(F32), index


def _ids(ids, n, what):
    if ids.dtype != np.int32:
        raise InvalidArgument(f"QEmbedLayerNormalization: {what} must be int32, got "
                              f"{ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= n):
        raise InvalidArgument(f"QEmbedLayerNormalization: {what} must be in [0, {n}), got "
                              f"values in [{ids.min()}, {ids.max()}]")
    return ids
