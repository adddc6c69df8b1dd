"""MatMulNBits (com.microsoft): ``A @ dequantize(B)^T`` with B quantized to 2, 4 or 8 bits in
blocks along K (onnxruntime's weight-only LLM quantization, MatMulNBitsQuantizer and the
onnxruntime-genai builder)."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto

from ...errors import InvalidArgument, NotImplemented
from ..base import OpKernel
from ..registry import kernel
from ._quant import F32, const_input, unpack_bits

_FLOATS = (np.dtype(np.float32), np.dtype(np.float16), np.dtype("bfloat16"))


def _matrix(p, rows, cols, what):
    """A [rows, cols] parameter, also accepted flat (onnxruntime's older layout)."""
    if p.shape not in ((rows, cols), (rows * cols,)):
        raise InvalidArgument(f"MatMulNBits: {what} must have shape {(rows, cols)} (or "
                              f"{(rows * cols,)}), got {p.shape}")
    return p.reshape(rows, cols)


def _zero_point_elem(info):
    """ONNX element type of the zero_points input (None when absent or unknown)."""
    if len(info.input_names) <= 3 or not info.input_names[3]:
        return None
    if info.const_inputs[3] is not None:
        return TensorProto.UINT8 if info.const_inputs[3].dtype == np.uint8 else -1
    t = info.input_types[3]
    return getattr(t, "elem", None)


@kernel("MatMulNBits", domain="com.microsoft", since=1, fresh=True)
class MatMulNBits(OpKernel):
    """``Y = A @ W^T (+ bias)`` where ``W[n, k] = (q[n, k] - zp[n, b]) * scale[n, b]`` for the
    block ``b = k // block_size`` (or ``g_idx[k]``).

    * Weights: ``B`` is [N, k_blocks, block_size * bits / 8] uint8, values packed low bits
      first; ``scales`` [N, k_blocks] (or flat) of A's type; ``zero_points`` either packed uint8
      [N, ceil(k_blocks * bits / 8)] (default ``2**(bits-1)`` when absent) or, for HQQ, of A's
      type [N, k_blocks], applied as ``q * scale - scale * zp`` (also for 8 bits, which
      onnxruntime's CPU kernel refuses). ``g_idx`` (deprecated) maps each k to its block; its
      packed zero points apply as the spec says (onnxruntime 1.32's CPU kernel ignores them
      and uses ``2**(bits-1)``). ``bias`` [N]. A B with a zero dimension means "no
      projection": Y is zero (plus bias).
    * Computation: the weight is dequantized once, at session initialization, to a float32
      [N, K] matrix (when B, scales, zero points and g_idx are constants, as in every exported
      model; otherwise on each run), and Y is one float32 BLAS product. float16/bfloat16 A is
      computed in float32 and rounded back, like onnxruntime's CPU kernel.
    * ``accuracy_level``: 0 (unset), 1, 2 and 3 compute with float32 activations. 4 quantizes A
      like onnxruntime's int8 compute path (which it takes for constant B without g_idx or
      float zero points): each row, per block of ``block_size`` along K, to int8 with scale
      ``max|a| / 127`` and round half to even; the result then equals onnxruntime's
      block-wise int8 dot products up to float32 summation order, because
      ``sum_b sa_b sw_b (qa . qw)_b = (qa * sa) @ W``.
    * ``weight_prepacked`` (CUDA layouts) is not supported.
    """

    def __init__(self, info) -> None:
        super().__init__(info)
        self.K = int(info.require_attr("K"))
        self.N = int(info.require_attr("N"))
        self.bits = int(info.attr("bits", 4))
        self.block = int(info.require_attr("block_size"))
        self.level = int(info.attr("accuracy_level", 0))
        if int(info.attr("weight_prepacked", 0)):
            raise NotImplemented("MatMulNBits: weight_prepacked (a CUDA weight layout) is not "
                                 "supported on CPU")
        if self.bits not in (2, 4, 8):
            raise InvalidArgument(f"MatMulNBits: bits must be 2, 4 or 8, got {self.bits}")
        b = self.block
        if b < 16 or b & (b - 1):
            raise InvalidArgument(f"MatMulNBits: block_size must be a power of 2 and >= 16, "
                                  f"got {b}")
        if self.K < 1 or self.N < 1:
            raise InvalidArgument(f"MatMulNBits: K and N must be positive, got K={self.K}, "
                                  f"N={self.N}")
        if self.level not in (0, 1, 2, 3, 4):
            raise InvalidArgument(f"MatMulNBits: accuracy_level must be 0..4, got {self.level}")
        self.kb = -(-self.K // b)
        self._const = False  # W prepared at init (self._w; None for an empty B)
        self._w = None
        self._bias = None
        known = [const_input(info, i) for i in (1, 2, 3, 4)]
        if all(k for k, _ in known):
            self._w = self._dequantize(*(v for _, v in known))
            self._const = True
        g_known, g_val = known[3]
        has_g = g_val is not None or not g_known
        # onnxruntime quantizes A only on its prepacked path: constant B, no g_idx, uint8 zp
        self.int8_a = (self.level == 4 and info.const_inputs[1] is not None and not has_g
                       and _zero_point_elem(info) in (None, TensorProto.UINT8))
        k5, bias = const_input(info, 5)
        if k5 and bias is not None:
            self._bias = self._check_bias(bias).astype(F32)

    # ---- weight preparation ---------------------------------------------------------------
    def _dequantize(self, B, scales, zero_points, g_idx):
        """float32 W [N, K], or None for an empty ("omitted") B."""
        N, K, kb, bits, blk = self.N, self.K, self.kb, self.bits, self.block
        blob = blk * bits // 8
        if B is None or scales is None:
            raise InvalidArgument("MatMulNBits: inputs B and scales are required")
        if B.dtype != np.uint8:
            raise InvalidArgument(f"MatMulNBits: B must be uint8, got {B.dtype}")
        if B.size == 0 and B.ndim == 3:
            return None
        if B.shape != (N, kb, blob):
            raise InvalidArgument(f"MatMulNBits: B must have shape {(N, kb, blob)} for N={N}, "
                                  f"K={K}, bits={bits}, block_size={blk}, got {B.shape}")
        if scales.dtype not in _FLOATS:
            raise InvalidArgument(f"MatMulNBits: scales must be float, float16 or bfloat16, "
                                  f"got {scales.dtype}")
        s = _matrix(scales, N, kb, "scales").astype(F32)
        q = unpack_bits(B, bits).reshape(N, kb * blk)
        hqq = zero_points is not None and zero_points.dtype != np.uint8
        if zero_points is None:
            z = np.full((N, kb), 1 << (bits - 1), dtype=F32)
        elif not hqq:
            zb = -(-kb * bits // 8)
            z = _matrix(zero_points, N, zb, "packed uint8 zero_points")
            z = unpack_bits(z, bits)[:, :kb].astype(F32)
        else:
            if zero_points.dtype != scales.dtype:
                raise InvalidArgument(f"MatMulNBits: zero_points must be uint8 or of the "
                                      f"scales' type {scales.dtype}, got {zero_points.dtype}")
            z = _matrix(zero_points, N, kb, "float zero_points").astype(F32)
        if g_idx is None:
            sk = np.repeat(s, blk, axis=1)[:, :K]
            zk = np.repeat(z, blk, axis=1)[:, :K]
        else:
            col = self._check_g_idx(g_idx)
            sk, zk = s[:, col], z[:, col]
        qk = q[:, :K].astype(F32)
        if not hqq:
            w = (qk - zk) * sk
        else:
            w = qk * sk + (-(sk * zk))
        return np.ascontiguousarray(w, dtype=F32)

    def _check_g_idx(self, g_idx):
        K, kb, blk = self.K, self.kb, self.block
        if g_idx.dtype != np.int32 or g_idx.shape not in ((K,), (kb * blk,)):
            raise InvalidArgument(f"MatMulNBits: g_idx must be int32 of shape ({K},) or "
                                  f"({kb * blk},), got {g_idx.dtype} {g_idx.shape}")
        col = g_idx[:K].astype(np.int64)
        if col.size and (col.min() < 0 or col.max() >= kb):
            raise InvalidArgument(f"MatMulNBits: g_idx values must be in [0, {kb}), got "
                                  f"[{col.min()}, {col.max()}]")
        return col

    def _check_bias(self, bias):
        if bias.shape != (self.N,):
            raise InvalidArgument(f"MatMulNBits: bias must have shape ({self.N},), got "
                                  f"{bias.shape}")
        return bias

    # ---- run ------------------------------------------------------------------------------
    def _quantize_a(self, a):
        """Block-wise symmetric int8 quantization of A along K, returned dequantized."""
        blk, kb, K = self.block, self.kb, self.K
        lead = a.shape[:-1]
        pad = kb * blk - K
        a2 = a.reshape(-1, K)
        if pad:
            a2 = np.pad(a2, ((0, 0), (0, pad)))
        a3 = a2.reshape(-1, kb, blk)
        amax = np.max(np.abs(a3), axis=-1, keepdims=True)
        scale = amax / np.float32(127)
        with np.errstate(divide="ignore"):
            inv = np.where(amax != 0, np.float32(127) / amax, np.float32(0)).astype(F32)
        q = np.clip(np.rint(a3 * inv), -128, 127)
        return (q * scale).reshape(-1, kb * blk)[:, :K].reshape(lead + (K,))

    def __call__(self, A, B, scales, zero_points=None, g_idx=None, bias=None):
        if A.dtype not in _FLOATS:
            raise InvalidArgument(f"MatMulNBits: A must be float, float16 or bfloat16, got "
                                  f"{A.dtype}")
        if A.ndim < 1 or A.shape[-1] != self.K:
            raise InvalidArgument(f"MatMulNBits: A's last dimension must be K={self.K}, got "
                                  f"shape {A.shape}")
        if scales is not None and scales.dtype != A.dtype and scales.size:
            raise InvalidArgument(f"MatMulNBits: scales type {scales.dtype} must equal A's "
                                  f"type {A.dtype}")
        w = self._w if self._const else self._dequantize(B, scales, zero_points, g_idx)
        if self._bias is not None:
            b = self._bias
        elif bias is not None:
            b = self._check_bias(bias).astype(F32)
        else:
            b = None
        a = A if A.dtype == F32 else A.astype(F32)
        if w is None:
            y = np.zeros(A.shape[:-1] + (self.N,), dtype=F32)
        else:
            if self.int8_a:
                a = self._quantize_a(a)
            y = np.matmul(a, w.T)
        if b is not None:
            y += b
        return y if y.dtype == A.dtype else y.astype(A.dtype)
