"""SequenceConstruct, SequenceEmpty, SequenceLength, SequenceAt, SequenceErase, SequenceInsert
(opset 11). Sequences are Python lists of tensors; the input list is never modified."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..registry import kernel
from ._common import as_sequence, as_tensor, position, same_dtype


@kernel("SequenceConstruct", since=11)
def sequence_construct(*inputs):
    """A sequence holding the input tensors in order (all of one element type)."""
    seq = []
    for i, x in enumerate(inputs):
        as_tensor(x, f"SequenceConstruct input {i}")
        same_dtype(seq, x, f"SequenceConstruct input {i}")
        seq.append(x)
    return seq


@kernel("SequenceEmpty", since=11)
def sequence_empty(dtype=1):
    """An empty sequence (the element type attribute has no runtime trace in a list)."""
    return []


@kernel("SequenceLength", since=11, fresh=True)
def sequence_length(input_sequence):
    """The number of tensors in the sequence, as an int64 scalar."""
    return np.array(len(as_sequence(input_sequence, "SequenceLength input")), dtype=np.int64)


@kernel("SequenceAt", since=11)
def sequence_at(input_sequence, position_):
    """The tensor at ``position`` (negative counts from the back)."""
    seq = as_sequence(input_sequence, "SequenceAt input")
    return seq[position(position_, len(seq), "SequenceAt position")]


@kernel("SequenceErase", since=11)
def sequence_erase(input_sequence, position_=None):
    """A copy of the sequence without the tensor at ``position`` (default: the last)."""
    seq = as_sequence(input_sequence, "SequenceErase input")
    if not seq:
        raise InvalidArgument("SequenceErase: cannot erase from an empty sequence")
    p = len(seq) - 1 if position_ is None else position(position_, len(seq),
                                                          "SequenceErase position")
    return seq[:p] + seq[p + 1:]


@kernel("SequenceInsert", since=11)
def sequence_insert(input_sequence, tensor, position_=None):
    """A copy of the sequence with ``tensor`` inserted before ``position`` (default: at the
    back)."""
    seq = as_sequence(input_sequence, "SequenceInsert input")
    as_tensor(tensor, "SequenceInsert tensor")
    same_dtype(seq, tensor, "SequenceInsert tensor")
    p = len(seq) if position_ is None else position(position_, len(seq),
                                                      "SequenceInsert position", allow_end=True)
    return seq[:p] + [tensor] + seq[p:]
