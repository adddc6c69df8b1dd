"""Helpers shared by the com.microsoft transformer kernels: compute dtypes, input checks, the
skip/RMS layer-norm core, an in-place softmax, head split/merge, rotary embedding and the
attention core used by Attention, MultiHeadAttention and GroupQueryAttention."""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from ...errors import InvalidArgument
from ..math._common import F32, F64, is_float

DOMAIN = "com.microsoft"


def compute(x: np.ndarray, what: str) -> np.ndarray:
    """``x`` as float32 (float16, bfloat16) or float64 (no copy when it already is)."""
    if x.dtype == F32 or x.dtype == F64:
        return x
    if not is_float(x.dtype):
        raise InvalidArgument(f"{what} must be a float tensor, got {x.dtype}")
    return x.astype(F32)


def require_inputs(info, *names: str) -> None:
    """At init: the inputs named in ``names`` (by position; "" for an optional one) are
    present, so a missing one is reported as such rather than as a failed call."""
    for i, name in enumerate(names):
        if name and (i >= len(info.input_names) or not info.input_names[i]):
            raise InvalidArgument(f"required input {i} ('{name}') is missing")


def check_vector(v: Optional[np.ndarray], n: int, what: str) -> None:
    """``v`` (when given) must be 1-D of length ``n``."""
    if v is not None and v.shape != (n,):
        raise InvalidArgument(f"{what} must have shape ({n},), got {v.shape}")


def check_rank(x: np.ndarray, ranks, what: str) -> None:
    if x.ndim not in ranks:
        want = " or ".join(f"{r}-D" for r in ranks)
        raise InvalidArgument(f"{what} must be {want}, got shape {x.shape}")


def int_scalar(x: np.ndarray, what: str) -> int:
    """The single integer held by ``x`` (shape () or (1,))."""
    a = np.asarray(x)
    if a.size != 1 or a.dtype.kind not in "iu":
        raise InvalidArgument(f"{what} must be an integer scalar, got {a.dtype} {a.shape}")
    return int(a.reshape(-1)[0])


# ---------------------------------------------------------------------------------------------
# layer normalization over the last axis


def normalize_last(s: np.ndarray, eps: float, gamma=None, beta=None, simplified: bool = False,
                   in_place: bool = False):
    """LayerNorm (or RMSNorm when ``simplified``) of float32/float64 ``s`` over its last axis.

    Returns ``(y, mean, inv_std)`` with the statistics shaped ``s.shape[:-1] + (1,)``
    (``mean`` is zeros for RMSNorm, as onnxruntime writes it). ``in_place`` lets ``s`` be
    overwritten."""
    t = s.dtype.type
    n = s.shape[-1]
    if simplified:
        mean = np.zeros(s.shape[:-1] + (1,), dtype=s.dtype)
        ms = np.einsum("...i,...i->...", s, s)[..., None]
        d = s if in_place else s.copy()
    else:
        mean = s.mean(axis=-1, keepdims=True)
        d = np.subtract(s, mean, out=s) if in_place else s - mean
        ms = np.einsum("...i,...i->...", d, d)[..., None]
    ms *= t(1.0 / max(n, 1))
    ms += t(eps)
    inv = np.sqrt(ms, out=ms)
    np.reciprocal(inv, out=inv)
    d *= inv
    if gamma is not None:
        d *= gamma if gamma.dtype == s.dtype else gamma.astype(s.dtype)
    if beta is not None:
        d += beta if beta.dtype == s.dtype else beta.astype(s.dtype)
    return d, mean, inv


# ---------------------------------------------------------------------------------------------
# attention


def softmax_last_(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis of float ``x``, in place (rows of only ``-inf`` give 0)."""
    m = x.max(axis=-1, keepdims=True)
    if not np.isfinite(m).all():
        m[~np.isfinite(m)] = 0
    np.subtract(x, m, out=x)
    np.exp(x, out=x)
    s = x.sum(axis=-1, keepdims=True)
    s[s == 0] = 1
    np.divide(x, s, out=x)
    return x


def split_heads(x: np.ndarray, heads: int, what: str) -> np.ndarray:
    """[B, S, heads*H] -> a [B, heads, S, H] view."""
    B, S, hid = x.shape
    if heads <= 0 or hid % heads:
        raise InvalidArgument(f"{what} hidden size {hid} is not a multiple of {heads} heads")
    return x.reshape(B, S, heads, hid // heads).transpose(0, 2, 1, 3)


def merge_heads(x: np.ndarray, dtype) -> np.ndarray:
    """[B, N, S, H] -> a new contiguous [B, S, N*H] array of ``dtype``."""
    B, N, S, H = x.shape
    out = np.empty((B, S, N, H), dtype=dtype)
    out.transpose(0, 2, 1, 3)[...] = x
    return out.reshape(B, S, N * H)


def attend(q: np.ndarray, k: np.ndarray, v: np.ndarray, bias=None, softcap: float = 0.0,
           keep_scores: bool = False, sink=None):
    """Scaled-dot-product attention on pre-scaled ``q`` [B, N, S, H] against ``k`` [B, Nk, T, H]
    and ``v`` [B, Nk, T, Hv] (N a multiple of Nk: grouped heads share a K/V head).

    ``bias`` (broadcastable to [B, N, S, T]) is added to the scores (after ``softcap``), the
    softmax runs in the compute dtype; ``sink`` [N] adds one more logit per head to the softmax
    denominator. Returns ``(context [B, N, S, Hv], scores before softmax (with
    ``keep_scores``, else None), probabilities [B, N, S, T])``."""
    B, N, S, H = q.shape
    Nk, T = k.shape[1], k.shape[2]
    g = N // Nk
    if g == 1:
        scores = np.matmul(q, k.transpose(0, 1, 3, 2))
    else:
        qg = q.reshape(B, Nk, g * S, H)
        scores = np.matmul(qg, k.transpose(0, 1, 3, 2)).reshape(B, N, S, T)
    if softcap > 0:
        t = scores.dtype.type
        scores *= t(1.0 / softcap)
        np.tanh(scores, out=scores)
        scores *= t(softcap)
    if bias is not None:
        scores += bias
    raw = scores.copy() if keep_scores else None
    if sink is None:
        p = softmax_last_(scores)
    else:
        p = _softmax_with_sink_(scores, sink.astype(scores.dtype).reshape(1, N, 1, 1))
    if g == 1:
        ctx = np.matmul(p, v)
    else:
        ctx = np.matmul(p.reshape(B, Nk, g * S, T), v).reshape(B, N, S, v.shape[3])
    return ctx, raw, p


def _softmax_with_sink_(x, sink):
    m = np.maximum(x.max(axis=-1, keepdims=True), sink)
    np.subtract(x, m, out=x)
    np.exp(x, out=x)
    s = x.sum(axis=-1, keepdims=True) + np.exp(sink - m)
    np.divide(x, s, out=x)
    return x


# ---------------------------------------------------------------------------------------------
# rotary embedding


def rotate(x: np.ndarray, cos: np.ndarray, sin: np.ndarray, interleaved: bool,
           rot_dim: int, out: Optional[np.ndarray] = None) -> np.ndarray:
    """Rotary embedding over the last axis of ``x`` (compute dtype) with ``cos``/``sin``
    broadcastable to ``x.shape[:-1] + (rot_dim/2,)``; dimensions past ``rot_dim`` pass
    through. Writes into ``out`` (a new array when None) and returns it."""
    half = rot_dim // 2
    if out is None:
        out = np.empty(x.shape, dtype=x.dtype)
    if interleaved:
        x1, x2 = x[..., 0:rot_dim:2], x[..., 1:rot_dim:2]
        o1, o2 = out[..., 0:rot_dim:2], out[..., 1:rot_dim:2]
        tmp = x2 * sin
        np.multiply(x1, cos, out=o1)
        o1 -= tmp
        np.multiply(x2, cos, out=tmp)
        np.multiply(x1, sin, out=o2)
        o2 += tmp
    else:
        # out = x * [cos, cos] + [x2, x1] * [-sin, sin]: whole-row passes, 2x faster than
        # four half-row ones (NumPy's inner loops would run over half a head only)
        o = out[..., :rot_dim]
        np.multiply(x[..., :rot_dim], np.concatenate([cos, cos], -1), out=o)
        tmp = np.concatenate([x[..., half:rot_dim], x[..., :half]], -1)
        tmp *= np.concatenate([-sin, sin], -1)
        o += tmp
    if rot_dim < x.shape[-1]:
        out[..., rot_dim:] = x[..., rot_dim:]
    return out


def rotary_tables(cos_cache, sin_cache, pos: np.ndarray, what: str, cd):
    """cos/sin rows [B, S, 1, half] for integer positions ``pos`` [B, S], range-checked."""
    if cos_cache.ndim != 2 or sin_cache.shape != cos_cache.shape:
        raise InvalidArgument(f"{what}: cos_cache and sin_cache must be 2-D of one shape, got "
                              f"{cos_cache.shape} and {sin_cache.shape}")
    n = cos_cache.shape[0]
    if pos.size and (pos.min() < 0 or pos.max() >= n):
        raise InvalidArgument(f"{what}: positions [{pos.min()}, {pos.max()}] exceed the "
                              f"cos/sin cache range [0, {n})")
    c = cos_cache[pos]
    s = sin_cache[pos]
    if c.dtype != cd:
        c, s = c.astype(cd), s.astype(cd)
    return c[:, :, None, :], s[:, :, None, :]


def default_scale(scale, head_size: int) -> float:
    """The attribute ``scale`` when given and nonzero, else 1/sqrt(head_size)."""
    if scale is not None and float(scale) != 0.0:
        return float(scale)
    return 1.0 / math.sqrt(head_size)


# ---------------------------------------------------------------------------------------------
# attention masks (Attention, MultiHeadAttention)


def mask_bias(mask: np.ndarray, B: int, S: int, T: int, P: int, filter_value: float, cd,
              what: str):
    """Additive bias from a mask_index / key_padding_mask, broadcastable to [B, 1, S, T], or
    None for a dummy (B or 1, 1) mask. Masked positions get ``filter_value`` (not -inf: a fully
    masked row attends uniformly, as in onnxruntime).

    Forms: (B) key lengths (right padding); (2B) end positions then start positions; (3B+2)
    key lengths (the rest is for packed GPU kernels); (B, T) or (B, S, T) raw masks (> 0:
    attend); (B, 1, M, M) Megatron masks with M >= T, rows from the past length P on."""
    f = cd.type(filter_value)
    ar = np.arange(T)
    if mask.ndim == 1:
        n = mask.shape[0]
        if n not in (B, 2 * B, 3 * B + 2):
            raise InvalidArgument(f"{what} with 1-D data must have length batch_size ({B}), "
                                  f"2 * batch_size or 3 * batch_size + 2, got {n}")
        m = mask.astype(np.int64)
        if np.any(m[:B] < 0):
            raise InvalidArgument(f"{what} key lengths must be >= 0, got {m[:B].tolist()}")
        bad = ar[None, :] >= m[:B, None]
        if n == 2 * B:
            bad |= ar[None, :] < m[B:, None]
        return np.where(bad, f, cd.type(0)).reshape(B, 1, 1, T)
    if mask.ndim == 2:
        if mask.shape[1] == 1 and mask.shape[0] in (1, B) and T != 1:
            return None
        if mask.shape != (B, T):
            raise InvalidArgument(f"{what} with 2-D data must have shape (batch_size, "
                                  f"total_sequence_length) = {(B, T)}, got {mask.shape}")
        return np.where(mask > 0, cd.type(0), f).reshape(B, 1, 1, T)
    if mask.ndim == 3:
        if mask.shape != (B, S, T):
            raise InvalidArgument(f"{what} with 3-D data must have shape (batch_size, "
                                  f"sequence_length, total_sequence_length) = {(B, S, T)}, got "
                                  f"{mask.shape}")
        return np.where(mask > 0, cd.type(0), f).reshape(B, 1, S, T)
    if mask.ndim == 4:
        M = mask.shape[3]
        if mask.shape[:2] != (B, 1) or mask.shape[2] != M or M < T or P + S > M:
            raise InvalidArgument(f"{what} with 4-D data must have shape (batch_size, 1, "
                                  f"max_sequence_length, max_sequence_length) with "
                                  f"max_sequence_length >= {T}, got {mask.shape}")
        rows = mask[:, :, P:P + S, :T]
        return np.where(rows > 0, cd.type(0), f)
    raise InvalidArgument(f"{what} must have 1, 2, 3 or 4 dimensions, got shape {mask.shape}")


def check_attention_bias(ab: np.ndarray, B: int, N: int, S: int, T: int) -> None:
    """attention_bias must be (B or 1, N or 1, S, T)."""
    if ab.ndim != 4 or ab.shape[0] not in (1, B) or ab.shape[1] not in (1, N) or \
            ab.shape[2:] != (S, T):
        raise InvalidArgument(f"attention_bias must have shape (batch_size or 1, num_heads or 1, "
                              f"{S}, {T}), got {ab.shape}")


def causal_bias(S: int, T: int, P: int, cd) -> np.ndarray:
    """[S, T] additive causal mask of onnxruntime's Attention/MultiHeadAttention CPU kernels:
    query row i < S - 1 gets the lowest finite float on keys j > P + i; the last row is never
    masked (the same thing when T = P + S; with cross attention, T > P + S, it sees every
    key)."""
    j = np.arange(T)[None, :]
    i = np.arange(S)[:, None] + P
    bad = j > i
    bad[-1] = False
    return np.where(bad, np.finfo(cd).min, cd.type(0)).astype(cd, copy=False)


def add_bias(total, extra):
    """``total + extra`` where either may be None."""
    if extra is None:
        return total
    return extra if total is None else total + extra
