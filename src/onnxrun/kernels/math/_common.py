"""Helpers shared by the elementwise math and activation kernels."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)


def is_narrow_float(dt: np.dtype) -> bool:
    """True for the float types NumPy lacks (bfloat16, float8, float4 ... from ml_dtypes)."""
    return (dt.kind == "V" and dt.type.__module__.startswith("ml_dtypes")
            and not dt.name.startswith(("int", "uint")))


def is_narrow_int(dt: np.dtype) -> bool:
    """True for ml_dtypes' sub-byte integers (int4, uint4, int2, uint2)."""
    return (dt.kind == "V" and dt.type.__module__.startswith("ml_dtypes")
            and dt.name.startswith(("int", "uint")))


def is_float(dt: np.dtype) -> bool:
    """True for every floating point dtype, ml_dtypes ones included."""
    return dt.kind in "fc" or is_narrow_float(dt)


def compute_dtype(dt: np.dtype) -> np.dtype:
    """The dtype a float computation runs in: float32 for float16 and narrower, else itself."""
    if (dt.kind == "f" and dt.itemsize <= 2) or is_narrow_float(dt):
        return F32
    return dt


def float_unary(fn):
    """Wrap ``fn(x)`` (written for float32/float64) so half and narrow floats compute in float32
    and come back in their own dtype."""

    def run(x):
        dt = x.dtype
        if dt == F32 or dt == F64:
            return fn(x)
        cd = compute_dtype(dt)
        return fn(x.astype(cd)).astype(dt, copy=False)

    run.__name__ = getattr(fn, "__name__", "float_unary")
    run.__doc__ = fn.__doc__
    return run


def legacy_align(a: np.ndarray, b: np.ndarray, broadcast: int, axis) -> np.ndarray:
    """Reshape ``b`` for the opset<7 ``broadcast``/``axis`` attributes so NumPy broadcasting
    applies the legacy (unidirectional, B aligned at ``axis``) rule."""
    if not broadcast:
        if a.shape != b.shape:
            raise InvalidArgument(
                f"inputs must have the same shape when broadcast=0, got {a.shape} and {b.shape}")
        return b
    if b.ndim > a.ndim:
        raise InvalidArgument(f"with broadcast=1, B (shape {b.shape}) must not have more "
                              f"dimensions than A (shape {a.shape})")
    if axis is None or b.ndim == 0:
        return b
    ax = axis + a.ndim if axis < 0 else axis
    if ax < 0 or ax + b.ndim > a.ndim:
        raise InvalidArgument(
            f"axis {axis} out of range for broadcasting B {b.shape} to A {a.shape}")
    for i, d in enumerate(b.shape):
        if d != 1 and d != a.shape[ax + i]:
            raise InvalidArgument(f"B of shape {b.shape} cannot be broadcast to A of shape "
                                  f"{a.shape} at axis {axis}")
    return b.reshape(b.shape + (1,) * (a.ndim - ax - b.ndim))


def register_legacy_binary(op_type: str, fn, since: int = 1, until: int = 6, fresh: bool = True):
    """Register ``fn(a, b)`` for the opset<7 versions of a binary op with the legacy
    ``broadcast``/``axis`` attributes."""

    class LegacyBinary(OpKernel):
        __doc__ = f"{op_type} (opset {since}-{until}) with legacy broadcast/axis attributes."

        def __init__(self, info):
            super().__init__(info)
            self.broadcast = int(info.attr("broadcast", 0))
            self.axis = info.attr("axis", None)

        def __call__(self, a, b):
            return fn(a, legacy_align(a, b, self.broadcast, self.axis))

    LegacyBinary.__name__ = LegacyBinary.__qualname__ = f"{op_type}Legacy"
    LegacyBinary.__module__ = fn.__module__
    kernel(op_type, since=since, until=until, fresh=fresh)(LegacyBinary)
    return LegacyBinary


def check_float(x: np.ndarray, op: str) -> None:
    """Raise InvalidArgument unless ``x`` has a floating point dtype."""
    if not is_float(x.dtype):
        raise InvalidArgument(f"{op} expects a floating point tensor, got {x.dtype}")


CHUNK = 1 << 16


def chunked(fn, x: np.ndarray, chunk: int = CHUNK) -> np.ndarray:
    """``fn`` (elementwise, same dtype out) applied to cache-sized slices of ``x``: many-pass
    NumPy formulas run several times faster when their temporaries stay in cache."""
    if x.size <= chunk:
        return fn(x)
    xf = np.ascontiguousarray(x).reshape(-1)
    out = np.empty(xf.shape, dtype=x.dtype)
    for i in range(0, xf.size, chunk):
        out[i:i + chunk] = fn(xf[i:i + chunk])
    return out.reshape(x.shape)
