"""Realistic inputs for suite models whose random defaults would be meaningless: token ids
within the vocabulary, attention masks of padded batches, file bytes."""

from __future__ import annotations

from typing import Callable, Dict

import numpy as np


def _shape(arg, dims: Dict[str, int]):
    return tuple(d if isinstance(d, int) else int(dims.get(d, 1)) for d in arg.shape)


def tokens(vocab: int, dims: Dict[str, int]) -> Callable:
    """``input_ids`` in [1000, vocab) (ids below 1000 are mostly special tokens),
    ``attention_mask`` of a padded batch (rows 1 and 3 shorter), ``token_type_ids`` zeros."""
    def make(args, rng: np.random.Generator):
        out = {}
        for a in args:
            shape = _shape(a, dims)
            if a.name == "input_ids":
                out[a.name] = rng.integers(min(1000, vocab - 1), vocab, shape, dtype=np.int64)
            elif a.name == "attention_mask":
                mask = np.ones(shape, np.int64)
                for row in range(1, shape[0], 2):
                    mask[row, shape[1] * (row + 2) // (row + 4):] = 0
                out[a.name] = mask
            elif a.name == "token_type_ids":
                out[a.name] = np.zeros(shape, np.int64)
        return out
    return make


def file_bytes(args, rng: np.random.Generator):
    """Byte values 0..255 with a padding tail (256) as a short file gives."""
    out = {}
    for a in args:
        shape = _shape(a, {})
        data = rng.integers(0, 256, shape).astype(np.int32)
        data[..., -200:] = 256
        out[a.name] = data
    return out
