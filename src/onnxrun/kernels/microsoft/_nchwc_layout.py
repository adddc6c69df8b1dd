"""The NCHWc blocked layout of onnxruntime's com.microsoft.nchwc operators, and its block size.

A blocked tensor has the logical shape (N, Cp, H, W), Cp the channel count rounded up to a
multiple of the block size B, and its memory (C order) is laid out as (N, Cp/B, H, W, B): the
channels of one block are innermost. Here such a tensor is a NumPy array of shape (N, Cp, H, W)
whose flat C-order data is that blocked memory, exactly as onnxruntime holds it, so that the
standard ops a saved model applies to blocked tensors (Add, Sum, Relu, Concat on axis 1, the
Reshape to (N, Cp/B, H, W, B) and back) keep their meaning unchanged. Padding channels are zero
where a reorder creates them.

B is MLAS's NCHWc block size on the machine that saved the model (16 where the CPU has
AVX-512F, else 8). A saved model does not record it, so :func:`block_size` reads what the graph
proves about it (see :func:`graph_candidates`) and only where the graph allows more than one
size takes this machine's (the size onnxruntime would use running the model here, which is
where onnxruntime says such a model may be used), or the session config entry
:data:`BLOCK_SIZE_KEY` when set.
"""

from __future__ import annotations

import platform
import weakref
from typing import FrozenSet, Optional

import numpy as np

from ...errors import InvalidArgument

DOMAIN = "com.microsoft.nchwc"
#: session config entry naming the block size explicitly (a model saved on another machine)
BLOCK_SIZE_KEY = "session.nchwc_block_size"
#: the block sizes MLAS uses (x86-64: 8 baseline/AVX/AVX2, 16 with AVX-512F)
MLAS_BLOCK_SIZES = (8, 16)

_PRODUCES_BLOCKED = ("Conv", "MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool",
                     "Upsample", "ReorderInput")
_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def machine_block_size() -> Optional[int]:
    """MLAS's NCHWc block size on this machine, or None where it cannot be told."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return 16 if " avx512f" in line else 8
    except OSError:
        return None
    return None


def graph_candidates(graph) -> FrozenSet[int]:
    """The block sizes among :data:`MLAS_BLOCK_SIZES` consistent with the NCHWc nodes of
    ``graph``: every NCHWc Conv's (padded) output channel count is a multiple of B; a Conv
    reading an NCHW tensor (graph input, ReorderOutput) has fewer than B input channels, one
    reading a blocked tensor at least B; a ReorderOutput drops fewer than B padding channels;
    the Reshape onnxruntime inserts to split blocked channels, (0, Cp/B, 0, 0, B), names B."""
    ok = set(MLAS_BLOCK_SIZES)
    padded = {}  # value id -> padded channel count of an NCHWc Conv output
    for node in graph.nodes:
        if node.domain == DOMAIN and node.op_type == "Conv" and len(node.inputs) > 1:
            W = node.inputs[1].const if node.inputs[1] is not None else None
            if W is None or W.ndim != 4:
                continue
            ok = {b for b in ok if W.shape[0] % b == 0}
            padded[id(node.outputs[0])] = W.shape[0]
            if int(node.attrs.get("group", 1)) == 1:
                x = node.inputs[0]
                src = x.producer
                if (src is None and any(v is x for v in graph.inputs)) or (
                        src is not None and src.domain == DOMAIN
                        and src.op_type == "ReorderOutput"):
                    ok = {b for b in ok if W.shape[1] < b}
                elif (src is not None and src.domain == DOMAIN
                      and src.op_type in _PRODUCES_BLOCKED):
                    ok = {b for b in ok if W.shape[1] >= b}
        elif node.domain == DOMAIN and node.op_type == "ReorderOutput":
            cp = padded.get(id(node.inputs[0]))
            channels = int(node.attrs.get("channels", 0))
            if cp is not None and channels > 0:
                ok = {b for b in ok if cp - channels < b}
        elif node.domain == "" and node.op_type == "Reshape" and len(node.inputs) == 2:
            shape = node.inputs[1].const if node.inputs[1] is not None else None
            src = node.inputs[0].producer if node.inputs[0] is not None else None
            if (shape is not None and shape.shape == (5,) and src is not None
                    and src.domain == DOMAIN and list(shape[[0, 2, 3]]) == [0, 0, 0]):
                ok = {b for b in ok if b == int(shape[4])}
    return frozenset(ok)


def block_size(info) -> int:
    """The block size for the NCHWc node of ``info`` (decided once per graph, at init)."""
    config = getattr(info.session, "config", None) or {}
    if BLOCK_SIZE_KEY in config:
        try:
            b = int(config[BLOCK_SIZE_KEY])
        except ValueError:
            b = 0
        if b < 1 or b & (b - 1):
            raise InvalidArgument(f"session config {BLOCK_SIZE_KEY} must be a power of two, "
                                  f"got {config[BLOCK_SIZE_KEY]!r}")
        return b
    graph = info.graph
    found = _cache.get(graph) if graph is not None else None
    if found is None:
        found = graph_candidates(graph) if graph is not None else frozenset(MLAS_BLOCK_SIZES)
        if graph is not None:
            _cache[graph] = found
    if not found:
        raise InvalidArgument(
            f"the graph's NCHWc nodes fit none of MLAS's block sizes {MLAS_BLOCK_SIZES}; set "
            f"session config {BLOCK_SIZE_KEY} to the block size of the machine that saved it")
    if len(found) == 1:
        return next(iter(found))
    here = machine_block_size()
    return here if here in found else max(found)


def padded(channels: int, b: int) -> int:
    """``channels`` rounded up to a multiple of ``b``."""
    return -(-channels // b) * b


def to_blocked(x: np.ndarray, b: int, channels_last: bool = False) -> np.ndarray:
    """NCHW (or NHWC) -> blocked (N, Cp, H, W), padding channels zero; a new array."""
    if channels_last:
        N, H, W, C = x.shape
    else:
        N, C, H, W = x.shape
    cp = padded(C, b)
    out = np.empty((N, cp // b, H, W, b), dtype=x.dtype)
    full = C // b
    if channels_last:
        src = x[..., :full * b].reshape(N, H, W, full, b).transpose(0, 3, 1, 2, 4)
    else:
        src = x[:, :full * b].reshape(N, full, b, H, W).transpose(0, 1, 3, 4, 2)
    out[:, :full] = src
    if cp != C:
        rest = C - full * b
        tail = x[..., full * b:] if channels_last else x[:, full * b:].transpose(0, 2, 3, 1)
        out[:, full, :, :, :rest] = tail
        out[:, full, :, :, rest:] = 0
    return out.reshape(N, cp, H, W)


def from_blocked(x: np.ndarray, b: int, channels: Optional[int] = None,
                 channels_last: bool = False) -> np.ndarray:
    """Blocked (N, Cp, H, W) -> NCHW (or NHWC) with the first ``channels`` channels."""
    N, cp, H, W = x.shape
    c = cp if channels is None else channels
    v = x.reshape(N, cp // b, H, W, b)
    if channels_last:
        out = np.empty((N, H, W, c), dtype=x.dtype)
        full = c // b
        out[..., :full * b].reshape(N, H, W, full, b)[...] = v[:, :full].transpose(0, 2, 3, 1, 4)
        if c != full * b:
            out[..., full * b:] = v[:, full, :, :, :c - full * b]
        return out
    out = np.empty((N, c, H, W), dtype=x.dtype)
    full = c // b
    out[:, :full * b].reshape(N, full, b, H, W)[...] = v[:, :full].transpose(0, 1, 4, 2, 3)
    if c != full * b:
        out[:, full * b:] = v[:, full, :, :, :c - full * b].transpose(0, 3, 1, 2)
    return out


def text(v) -> str:
    """A STRING attribute as str."""
    return v.decode() if isinstance(v, bytes) else str(v)


def check_input(X, what: str) -> None:
    """NCHWc kernels take 4-D float32 tensors only."""
    if not isinstance(X, np.ndarray) or X.ndim != 4 or X.dtype != np.float32:
        raise InvalidArgument(f"{what} must be a 4-D float32 tensor, got "
                              f"{getattr(X, 'dtype', type(X).__name__)} {getattr(X, 'shape', '')}")


def blocked_view(x: np.ndarray, b: int, what: str) -> np.ndarray:
    """The (N, Cp/B, H, W, B) view of a blocked tensor, after checking its shape."""
    check_input(x, what)
    if x.shape[1] % b:
        raise InvalidArgument(f"{what} has {x.shape[1]} channels, not a multiple of the NCHWc "
                              f"block size {b}")
    return x.reshape(x.shape[0], x.shape[1] // b, x.shape[2], x.shape[3], b)
