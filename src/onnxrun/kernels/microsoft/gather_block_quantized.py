"""GatherBlockQuantized (com.microsoft): Gather from a block-quantized table (int4/uint4, uint8
with 2/4/8-bit packing, float8/float4), dequantizing only the gathered slices (quantized
embeddings from MatMulNBitsQuantizer and the onnxruntime-genai builder)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..quant._common import FLOAT_Q
from ..registry import kernel
from ._quant import F32, unpack_bits

_OUT = (np.dtype(np.float32), np.dtype(np.float16), np.dtype("bfloat16"))
_INT4 = ("int4", "uint4")


def _axis(a: int, rank: int, what: str) -> int:
    if not -rank <= a < rank:
        raise InvalidArgument(f"GatherBlockQuantized: {what} {a} is out of range for data of "
                              f"rank {rank}")
    return a % rank


@kernel("GatherBlockQuantized", domain="com.microsoft", since=1, fresh=True)
class GatherBlockQuantized(OpKernel):
    """``output = Gather(dequantize(data), indices, gather_axis)`` where data is quantized in
    blocks of ``block_size`` along ``quantize_axis``: ``(q - zp) * scale`` in float32 (zp 0 for
    int4/uint4, ``2**(bits-1)`` for uint8 when absent; float8/float4 data: ``q * scale``, no zero
    point, ``block_size`` 0 meaning the whole axis, scale dims of 1 broadcasting), cast to the
    scales' type. uint8 data with ``bits`` < 8 packs values (and zero points) along the last
    axis, low bits first. Indices may be negative; out-of-range indices give zero slices (the
    spec's rule, unlike Gather)."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.gather_axis = int(info.attr("gather_axis", 0))
        self.quantize_axis = int(info.attr("quantize_axis", 1))
        self.block = int(info.attr("block_size", 128))
        self.bits = int(info.attr("bits", 4))
        c = info.const_inputs
        self._prep = None
        if c[0] is not None and c[2] is not None and (
                len(c) < 4 or not info.input_names[3] or c[3] is not None):
            self._prep = self._prepare(c[0], c[2], c[3] if len(c) > 3 else None)

    def _prepare(self, data, scales, zero_points):
        """Codes in their logical shape (int8/uint8, or the float8/float4 values), scales and
        zero points as float32 per block, and the axes; dequantization happens per gathered
        slice, so a large table is never expanded."""
        dt = data.dtype
        fp = dt in FLOAT_Q
        rank = data.ndim
        if rank < 1:
            raise InvalidArgument("GatherBlockQuantized: data must have rank >= 1")
        g = _axis(self.gather_axis, rank, "gather_axis")
        qa = _axis(self.quantize_axis, rank, "quantize_axis")
        blk = self.block
        if not ((blk >= 16 and blk & (blk - 1) == 0) or (fp and blk == 0)):
            raise InvalidArgument(f"GatherBlockQuantized: block_size must be a power of 2 and "
                                  f">= 16{' (or 0 for float8/float4 data)' if fp else ''}, got "
                                  f"{blk}")
        if scales.dtype not in _OUT:
            raise InvalidArgument(f"GatherBlockQuantized: scales must be float, float16 or "
                                  f"bfloat16, got {scales.dtype}")
        if scales.ndim != rank:
            raise InvalidArgument(f"GatherBlockQuantized: scales must have the data's rank "
                                  f"{rank}, got shape {scales.shape}")
        per = 1
        if dt == np.uint8:
            if self.bits not in (2, 4, 8):
                raise InvalidArgument(f"GatherBlockQuantized: bits must be 2, 4 or 8 for uint8 "
                                      f"data, got {self.bits}")
            per = 8 // self.bits
            if g != 0 or qa != rank - 1:
                raise InvalidArgument("GatherBlockQuantized: uint8 data needs gather_axis 0 and "
                                      "quantize_axis the last axis")
            codes = unpack_bits(data, self.bits)
            default_zp = 1 << (self.bits - 1)
        elif dt.name in _INT4:
            if self.bits != 4:
                raise InvalidArgument(f"GatherBlockQuantized: bits must be 4 for {dt} data, got "
                                      f"{self.bits}")
            codes, default_zp = data.astype(np.int8 if dt.name == "int4" else np.uint8), 0
        elif fp:
            codes, default_zp = data, 0
        else:
            raise InvalidArgument(f"GatherBlockQuantized: data must be int4, uint4, uint8, "
                                  f"float8 or float4, got {dt}")
        D = codes.shape[qa]
        blk = blk or max(D, 1)
        nb = -(-D // blk)
        for i in range(rank):
            want = nb if i == qa else codes.shape[i]
            if scales.shape[i] != want and not (fp and i != qa and scales.shape[i] == 1):
                raise InvalidArgument(f"GatherBlockQuantized: scales shape {scales.shape} does "
                                      f"not match data shape {codes.shape} with block_size "
                                      f"{blk} on axis {qa}")
        if zero_points is None:
            z = None if default_zp == 0 else np.float32(default_zp)
        else:
            if fp:
                raise InvalidArgument("GatherBlockQuantized: zero_points must not be given for "
                                      "float8/float4 data")
            if zero_points.dtype != dt:
                raise InvalidArgument(f"GatherBlockQuantized: zero_points type "
                                      f"{zero_points.dtype} must equal data's {dt}")
            zsh = list(scales.shape)
            zsh[qa] = -(-nb // per)
            if list(zero_points.shape) != zsh:
                raise InvalidArgument(f"GatherBlockQuantized: zero_points must have shape "
                                      f"{tuple(zsh)}, got {zero_points.shape}")
            zp = unpack_bits(zero_points, self.bits)[..., :nb] if per > 1 else zero_points
            z = zp.astype(F32)
        return codes, scales.astype(F32), z, qa, g, blk, scales.dtype

    def __call__(self, data, indices, scales, zero_points=None):
        if indices.dtype not in (np.int32, np.int64):
            raise InvalidArgument(f"GatherBlockQuantized: indices must be int32 or int64, got "
                                  f"{indices.dtype}")
        codes, s, z, qa, g, blk, out_dt = self._prep or self._prepare(data, scales,
                                                                      zero_points)
        n = codes.shape[g]
        idx = indices.astype(np.int64)
        bad = (idx < -n) | (idx >= n)
        idx = np.where(bad, 0, np.where(idx < 0, idx + n, idx))
        r = idx.ndim
        q_out = qa if qa < g else qa + r - 1  # the quantize axis in the output
        D = codes.shape[qa]

        def per_block(p):
            """A per-block parameter gathered and expanded to the output's shape."""
            if np.ndim(p) == 0:
                return p
            if g == qa:
                return p.take(idx // blk, axis=g)
            if p.shape[g] == 1:  # a broadcast float8/float4 scale axis
                p = np.expand_dims(p.take(0, axis=g), tuple(range(g, g + r)))
            else:
                p = p.take(idx, axis=g)
            return np.repeat(p, blk, axis=q_out).take(np.arange(D), axis=q_out)

        q = codes.take(idx, axis=g).astype(F32)
        if z is not None:
            q = q - per_block(z)
        y = q * per_block(s)
        if bad.any():
            mask = bad.reshape((1,) * g + bad.shape + (1,) * (codes.ndim - g - 1))
            y = np.where(mask, np.float32(0), y)
        return y.astype(out_dt)
