"""EmbedLayerNormalization (com.microsoft): BERT's embedding layer (word + position + segment
embeddings, then LayerNorm) with the attention mask reduced to per-sequence lengths."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._transformer import DOMAIN, check_vector, compute, normalize_last, require_inputs


def _lookup(table: np.ndarray, ids: np.ndarray, what: str) -> np.ndarray:
    if table.ndim != 2:
        raise InvalidArgument(f"{what} must be 2-D, got shape {table.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= table.shape[0]):
        raise InvalidArgument(f"{what} index out of range: ids in [{ids.min()}, {ids.max()}], "
                              f"table has {table.shape[0]} rows")
    return np.take(table, ids, axis=0)


@kernel("EmbedLayerNormalization", since=1, domain=DOMAIN, fresh=True)
class EmbedLayerNormalization(OpKernel):
    """output = LayerNorm(word[input_ids] + position[position_ids] + segment[segment_ids]);
    position_ids default to 0..S-1 and may be (1, S) or (B, S). mask_index[b] is the number of
    nonzero mask entries of row b (zeros without a mask, whatever ``mask_index_type``, as in
    onnxruntime); embedding_sum is the sum before normalization."""

    def __init__(self, info):
        super().__init__(info)
        require_inputs(info, "input_ids", "", "word_embedding", "position_embedding", "",
                       "gamma", "beta")
        self.eps = float(info.attr("epsilon", 1e-12))
        self.want_sum = info.output_wanted(2)

    def __call__(self, input_ids, segment_ids, word_embedding, position_embedding,
                 segment_embedding=None, gamma=None, beta=None, mask=None, position_ids=None):
        if gamma is None or beta is None:
            raise InvalidArgument("gamma and beta are required")
        if input_ids.ndim != 2:
            raise InvalidArgument(f"input_ids must be 2-D (batch, sequence), got shape "
                                  f"{input_ids.shape}")
        B, S = input_ids.shape
        H = word_embedding.shape[-1]
        for name, t in (("position_embedding", position_embedding),
                        ("segment_embedding", segment_embedding)):
            if t is not None and (t.ndim != 2 or t.shape[1] != H):
                raise InvalidArgument(f"{name} must be 2-D with hidden size {H}, got {t.shape}")
        check_vector(gamma, H, "gamma")
        check_vector(beta, H, "beta")
        if (segment_ids is None) != (segment_embedding is None):
            raise InvalidArgument("segment_ids and segment_embedding must be given together")
        for name, t in (("segment_ids", segment_ids), ("mask", mask)):
            if t is not None and t.shape != (B, S):
                raise InvalidArgument(f"{name} must have shape ({B}, {S}), got {t.shape}")
        if position_ids is None:
            pos = np.arange(S)[None, :]
        else:
            pos = np.asarray(position_ids)
            if pos.shape not in ((1, S), (B, S)):
                raise InvalidArgument(f"position_ids must have shape (1, {S}) or ({B}, {S}), "
                                      f"got {pos.shape}")
        dt = word_embedding.dtype
        s = compute(_lookup(word_embedding, input_ids, "word_embedding"), "word_embedding")
        s = s + compute(_lookup(position_embedding, pos, "position_embedding"),
                        "position_embedding")
        if segment_ids is not None:
            s += compute(_lookup(segment_embedding, segment_ids, "segment_embedding"),
                         "segment_embedding")
        total = s.astype(dt) if self.want_sum else None
        y, _, _ = normalize_last(s, self.eps, compute(gamma, "gamma"), compute(beta, "beta"),
                                 in_place=True)
        if mask is None:
            mask_index = np.zeros(B, dtype=np.int32)
        else:
            mask_index = np.count_nonzero(mask, axis=1).astype(np.int32)
        return y.astype(dt, copy=False), mask_index, total
