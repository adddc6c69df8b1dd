"""RotaryEmbedding (com.microsoft): rotary position embedding of a 3-D [B, S, hidden] or 4-D
[B, N, S, H] input with cos/sin caches indexed by position ids. (The ONNX-domain
RotaryEmbedding of opset 23 has another input order and lives in kernels/transformer.)"""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument, NotImplemented as OrtNotImplemented
from ..base import OpKernel
from ..registry import kernel
from ._transformer import DOMAIN, compute, require_inputs, rotary_tables, rotate


@kernel("RotaryEmbedding", since=1, domain=DOMAIN, fresh=True)
class RotaryEmbedding(OpKernel):
    """position_ids is (1,) (an offset: positions offset + 0..S-1 for every batch entry) or
    (B, S); the caches are (max_positions, rotary_dim / 2). The head size comes from num_heads
    for 3-D input, else from the cache (2 * its second dimension); ``rotary_embedding_dim``
    rotates only the first dimensions of each head. ``scale`` is accepted and, as in
    onnxruntime's CPU kernel, has no effect."""

    def __init__(self, info):
        super().__init__(info)
        require_inputs(info, "input", "position_ids", "cos_cache", "sin_cache")
        self.interleaved = int(info.attr("interleaved", 0)) != 0
        self.rot_dim = int(info.attr("rotary_embedding_dim", 0))
        self.num_heads = int(info.attr("num_heads", 0))
        if self.rot_dim and not self.num_heads:
            raise InvalidArgument("rotary_embedding_dim needs num_heads")
        if int(info.attr("is_packed_batching", 0)):
            raise OrtNotImplemented("RotaryEmbedding with is_packed_batching=1 is not supported")

    def __call__(self, input, position_ids, cos_cache, sin_cache):
        if cos_cache.ndim != 2:
            raise InvalidArgument(f"cos_cache must be 2-D, got shape {cos_cache.shape}")
        half = cos_cache.shape[1]
        if input.ndim == 4:
            B, N, S, H = input.shape
            x = input
        elif input.ndim == 3:
            B, S, hid = input.shape
            H = hid // self.num_heads if self.num_heads else 2 * half
            if H == 0 or hid % H:
                raise InvalidArgument(f"hidden size {hid} is not a multiple of the head size {H}")
            x = input.reshape(B, S, hid // H, H)
        else:
            raise InvalidArgument(f"input must be 3-D or 4-D, got shape {input.shape}")
        rd = self.rot_dim or H
        if rd != 2 * half or rd > H:
            raise InvalidArgument(f"cos/sin caches of shape {cos_cache.shape} do not fit rotary "
                                  f"dimension {rd} (head size {H})")
        pid = np.asarray(position_ids).astype(np.int64)
        if pid.shape == (1,) or pid.shape == ():
            pos = np.broadcast_to(pid.reshape(()) + np.arange(S), (B, S))
        elif pid.shape == (B, S):
            pos = pid
        else:
            raise InvalidArgument(f"position_ids must have shape (1,) or ({B}, {S}), got "
                                  f"{pid.shape}")
        xc = compute(x, "input")
        c, s = rotary_tables(cos_cache, sin_cache, pos, "RotaryEmbedding", xc.dtype)
        if input.ndim == 4:  # [B, N, S, H]: tables as [B, 1, S, half]
            c, s = c.transpose(0, 2, 1, 3), s.transpose(0, 2, 1, 3)
        if xc.dtype == input.dtype:
            return rotate(xc, c, s, self.interleaved, rd).reshape(input.shape)
        return rotate(xc, c, s, self.interleaved, rd).astype(input.dtype).reshape(input.shape)
