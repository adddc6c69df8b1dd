"""Helpers shared by the com.microsoft quantization kernels: per-tensor parameter checks, the
requantization and quantization arithmetic of onnxruntime's CPU kernels (float32, round half to
even, saturation), onnxruntime's dynamic uint8 quantization of activations, exact integer matrix
products through BLAS, and sub-byte unpacking."""

from __future__ import annotations

from typing import List, NamedTuple, Optional, Tuple

import numpy as np

from ...errors import InvalidArgument
from ..quant._common import int_range
from ..quant._float_exact import sum_chunks

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)
Q8 = (np.dtype(np.uint8), np.dtype(np.int8))


def const_input(info, index: int) -> Tuple[bool, Optional[np.ndarray]]:
    """(known, value) of input ``index`` at init: known when the input is a constant or absent
    (value None then); an input fed at run time is not known."""
    names = info.input_names
    if index >= len(names) or not names[index]:
        return True, None
    v = info.const_inputs[index]
    return v is not None, v


def require(t: Optional[np.ndarray], what: str) -> np.ndarray:
    """A required input, or a clear error when the node leaves it out."""
    if t is None:
        raise InvalidArgument(f"{what} is a required input")
    return t


def scalar(t: np.ndarray, what: str) -> np.ndarray:
    """The single value of a per-tensor parameter (a scalar or a 1-element tensor)."""
    if t.size != 1:
        raise InvalidArgument(f"{what} must be a scalar or a 1-element tensor (per-tensor "
                              f"quantization), got shape {t.shape}")
    return t.reshape(())


def scale_value(t: np.ndarray, what: str) -> np.float32:
    """A per-tensor float32 scale."""
    if t.dtype != F32:
        raise InvalidArgument(f"{what} must be float32, got {t.dtype}")
    return np.float32(scalar(t, what))


def zero_point(zp: Optional[np.ndarray], dt: np.dtype, what: str) -> int:
    """A per-tensor zero point of type ``dt`` as an int (0 when absent)."""
    if zp is None:
        return 0
    if zp.dtype != dt:
        raise InvalidArgument(f"{what} must have the quantized type {dt}, got {zp.dtype}")
    return int(scalar(zp, what))


def check_q8(x: np.ndarray, what: str) -> np.dtype:
    """The dtype of an 8-bit quantized tensor (uint8 or int8)."""
    if x.dtype not in Q8:
        raise InvalidArgument(f"{what} must be uint8 or int8, got {x.dtype}")
    return x.dtype


def saturate(q: np.ndarray, dt: np.dtype) -> np.ndarray:
    """Integer-valued floats clamped to ``dt``'s range and converted. NaN (a degenerate
    infinite scale, as quantizers write for tensors holding -inf masks) becomes the type's
    minimum, as x86 float-to-int conversion makes it in onnxruntime's kernels."""
    lo, hi = int_range(dt)
    q = np.clip(q, lo, hi)
    if np.isnan(q).any():
        q = np.where(np.isnan(q), lo, q)
    return q.astype(dt)


def fma32(a, b, c) -> np.ndarray:
    """float32 ``a * b + c`` rounded once, like a fused multiply-add: the float64 product of
    two float32 values is exact, so only the sum is rounded before the final float32 rounding
    (a double rounding that differs from one rounding with probability ~2**-29)."""
    return (np.asarray(a, F64) * np.asarray(b, F64) + np.asarray(c, F64)).astype(F32)


def requantize(acc: np.ndarray, scale, zp: int, dt: np.dtype) -> np.ndarray:
    """onnxruntime's requantization of int32 accumulators: ``float32(acc) * scale`` in float32,
    rounded half to even, plus the zero point, saturated."""
    return saturate(np.rint(np.asarray(acc).astype(F32) * np.asarray(scale, F32)) + zp, dt)


def quantize(v: np.ndarray, scale, zp: int, dt: np.dtype) -> np.ndarray:
    """onnxruntime's linear quantization of float32 values: ``v / scale`` in float32, rounded
    half to even, plus the zero point, saturated."""
    return saturate(np.rint(np.asarray(v, F32) / np.float32(scale)) + zp, dt)


def lookup_table(dt: np.dtype, sx, zx: int, sy, zy: int, f=None) -> np.ndarray:
    """The 256-entry table ``quantize(f(dequantize(code)))`` indexed by the code's raw byte
    (onnxruntime's 8-bit lookup tables: dequantize as ``x_scale * (code - zp)`` in float32)."""
    codes = np.arange(256, dtype=np.uint8).view(dt).astype(np.int32)
    x = np.float32(sx) * (codes - zx).astype(F32)
    return quantize(x if f is None else f(x), sy, zy, dt)


def dynamic_uint8_params(x: np.ndarray) -> Tuple[np.float32, int]:
    """Scale and zero point onnxruntime chooses for dynamic uint8 quantization of float
    activations: the range [min(0, min x), max(0, max x)] onto [0, 255] (scale 1 for an
    all-zero or empty input)."""
    if x.size:
        lo = min(np.float32(0), np.float32(np.min(x)))
        hi = max(np.float32(0), np.float32(np.max(x)))
    else:
        lo = hi = np.float32(0)
    scale = np.float32(1) if hi == lo else np.float32((hi - lo) / np.float32(255))
    zp = int(np.rint(np.clip(np.float32(0) - lo / scale, 0, 255)))
    return scale, zp


class IntMatrix(NamedTuple):
    """Zero-point-shifted 8-bit weights held as exact float32 integers, with the largest
    magnitude and the cuts of the summed axis that keep a product with them exact."""

    w: np.ndarray
    bound: int
    chunks: List[Tuple[int, int]]


def int_matrix(w: np.ndarray) -> IntMatrix:
    """``w`` (integer values, [..., K, N]) as float32 with its bound and chunks, for
    :func:`exact_matmul`."""
    w = np.ascontiguousarray(w, dtype=F32)
    K = w.shape[-2] if w.ndim >= 2 else 0
    cols = np.moveaxis(w, -2, 0).reshape(K, -1) if w.ndim >= 2 else w.reshape(0, 0)
    chunks = sum_chunks(cols, 255)  # |a| <= 255: shifted 8-bit values
    if chunks is None:  # (a weight past 65793: not an 8-bit one)
        raise InvalidArgument("integer weights too large for exact float32 products")
    return IntMatrix(w, int(np.abs(w).max()) if w.size else 0, chunks)


def exact_matmul(a: np.ndarray, b: IntMatrix) -> np.ndarray:
    """``a @ b.w`` of integer-valued float32 arrays, ``a`` the zero-point-shifted 8-bit
    values (|a| <= 255), exactly: float32 BLAS is exact while every partial sum stays below
    2**24, and a partial sum of one output is at most 255 times the sum of its column's
    magnitudes, so the summed axis is cut where those sums reach 2**24 (``b.chunks``, most
    weights one piece: the float32 product itself is returned, exact). Several chunks are
    multiplied in float32 and summed in float64 (exact to 2**53), which is returned."""
    if len(b.chunks) == 1:
        return np.matmul(a, b.w)
    acc = None
    for lo, hi in b.chunks:
        part = np.matmul(np.ascontiguousarray(a[..., lo:hi]), b.w[..., lo:hi, :])
        if acc is None:
            acc = part.astype(F64)
        else:
            acc += part
    return acc


def unpack_bits(packed: np.ndarray, bits: int) -> np.ndarray:
    """Sub-byte values packed low bits first: [..., n] bytes -> [..., n * 8 // bits] uint8."""
    if bits == 8:
        return packed
    per = 8 // bits
    shifts = np.arange(0, 8, bits, dtype=np.uint8)
    vals = (packed[..., None] >> shifts) & np.uint8((1 << bits) - 1)
    return vals.reshape(packed.shape[:-1] + (packed.shape[-1] * per,))
