"""CausalConvWithState (opset 27): stateful causal depthwise 1-D convolution with optional
bias and fused SiLU, returning the carry state for incremental decoding."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import as_compute, compute_dtype


@kernel("CausalConvWithState", since=27, fresh=True)
class CausalConvWithState(OpKernel):
    """input [B, C, L], weight [C, 1, k], bias [C], past_state [B, C, k-1] ->
    (output [B, C, L], present_state [B, C, k-1])."""

    def __init__(self, info) -> None:
        super().__init__(info)
        act = str(info.attr("activation", "none")).lower()
        if act not in ("none", "silu", "swish"):
            raise InvalidArgument(f"activation must be 'silu', 'swish' or 'none', got '{act}'")
        self.silu = act != "none"

    def __call__(self, input, weight, bias=None, past_state=None):  # noqa: A002
        if input.ndim != 3:
            raise InvalidArgument(f"input must be 3-D [batch, channels, length], got "
                                  f"{input.shape}")
        B, C, L = input.shape
        if weight.ndim != 3 or weight.shape[0] != C or weight.shape[1] != 1:
            raise InvalidArgument(f"weight must have shape [{C}, 1, k], got {weight.shape}")
        k = weight.shape[2]
        if k < 1:
            raise InvalidArgument("kernel size must be >= 1")
        cd = compute_dtype(input.dtype)
        if past_state is None:
            past = np.zeros((B, C, k - 1), dtype=cd)
        else:
            if past_state.shape != (B, C, k - 1):
                raise InvalidArgument(f"past_state must have shape {(B, C, k - 1)}, got "
                                      f"{past_state.shape}")
            past = as_compute(past_state, cd)
        full = np.concatenate([past, as_compute(input, cd)], axis=2)  # [B, C, k-1+L]
        w = as_compute(weight, cd)[:, 0, :]
        out = np.zeros((B, C, L), dtype=cd)
        for j in range(k):
            out += w[:, j, None] * full[:, :, j:j + L]
        if bias is not None:
            if bias.shape != (C,):
                raise InvalidArgument(f"bias must have shape [{C}], got {bias.shape}")
            out += as_compute(bias, cd)[:, None]
        if self.silu:
            out = out / (1 + np.exp(-out))
        present = full[:, :, full.shape[2] - (k - 1):]
        return out.astype(input.dtype, copy=False), np.array(present, dtype=input.dtype)
