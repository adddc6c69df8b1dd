"""Constant, ConstantOfShape, EyeLike, Range."""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidArgument
from ...ir.types import dtype_of
from ..base import OpKernel
from ..registry import kernel
from ._common import check_alloc, int_list, max_bytes

_VALUE_ATTRS = ("value", "sparse_value", "value_float", "value_floats", "value_int",
                "value_ints", "value_string", "value_strings")


def _strings(values, scalar: bool) -> np.ndarray:
    if scalar:
        out = np.empty((), dtype=object)
        out[()] = values
        return out
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


@kernel("Constant", since=1)
class Constant(OpKernel):
    """A constant tensor from exactly one of the ``value*`` attributes. The same array is
    returned every run (not fresh)."""

    def __init__(self, info):
        super().__init__(info)
        given = [a for a in _VALUE_ATTRS if info.attr(a) is not None]
        if len(given) != 1:
            raise InvalidArgument(f"Constant needs exactly one of {', '.join(_VALUE_ATTRS)}; "
                                  f"got {given or 'none'}")
        name = given[0]
        v = info.attr(name)
        if name in ("value", "sparse_value"):
            arr = np.asarray(v)
        elif name == "value_float":
            arr = np.array(v, dtype=np.float32)
        elif name == "value_floats":
            arr = np.array(list(v), dtype=np.float32)
        elif name == "value_int":
            arr = np.array(v, dtype=np.int64)
        elif name == "value_ints":
            arr = np.array(list(v), dtype=np.int64)
        elif name == "value_string":
            arr = _strings(v, True)
        else:
            arr = _strings(v, False)
        self.value = arr

    def __call__(self):
        return self.value


@kernel("ConstantOfShape", since=9, fresh=True)
class ConstantOfShape(OpKernel):
    """A tensor of the given shape filled with ``value`` (default float32 0)."""

    def __init__(self, info):
        super().__init__(info)
        v = info.attr("value")
        if v is None:
            v = np.zeros(1, dtype=np.float32)
        v = np.asarray(v)
        if v.size != 1:
            raise InvalidArgument(f"attribute 'value' must hold one element, got shape "
                                  f"{list(v.shape)}")
        self.value = v.reshape(())
        self.limit = max_bytes(info)

    def __call__(self, shape):
        dims = int_list(shape, "shape")
        if np.ndim(shape) > 1:
            raise InvalidArgument(f"shape must be a 1-D tensor, got rank {np.ndim(shape)}")
        check_alloc(dims, self.value.dtype, self.limit)
        return np.full(dims, self.value, dtype=self.value.dtype)


@kernel("EyeLike", since=9, fresh=True)
class EyeLike(OpKernel):
    """A 2-D tensor shaped like the input with ones on the ``k``-th diagonal."""

    def __init__(self, info):
        super().__init__(info)
        dt = info.attr("dtype")
        self.dtype = None if dt is None else dtype_of(int(dt))
        self.k = int(info.attr("k", 0))
        self.limit = max_bytes(info)

    def __call__(self, x):
        if x.ndim != 2:
            raise InvalidArgument(f"EyeLike input must be 2-D, got shape {list(x.shape)}")
        dt = self.dtype if self.dtype is not None else x.dtype
        check_alloc(x.shape, dt, self.limit)
        return np.eye(x.shape[0], x.shape[1], k=self.k, dtype=dt)


@kernel("Range", since=11, fresh=True)
class Range(OpKernel):
    """start, start+delta, ... up to ``limit`` (exclusive); ``stash_type`` (opset 27) makes
    16-bit floats compute in float32."""

    def __init__(self, info):
        super().__init__(info)
        self.stash = int(info.attr("stash_type", 1)) if info.since_version >= 27 else 0
        self.limit = max_bytes(info)

    def __call__(self, start, limit, delta):
        for name, v in (("start", start), ("limit", limit), ("delta", delta)):
            if np.size(v) != 1:
                raise InvalidArgument(f"{name} must be a scalar, got shape {list(np.shape(v))}")
        dt = np.asarray(start).dtype
        s, l, d = (np.asarray(v).reshape(()) for v in (start, limit, delta))
        if dt.kind in "iu":
            si, li, di = int(s), int(l), int(d)
            if di == 0:
                raise InvalidArgument("delta must not be 0")
            n = max(-((si - li) // di), 0)
            check_alloc([n], dt, self.limit)
            return np.arange(n, dtype=np.int64).astype(dt) * dt.type(di) + dt.type(si) \
                if n else np.zeros(0, dtype=dt)
        work = np.dtype(np.float32) if (self.stash and dt.itemsize < 4) else dt
        s, l, d = s.astype(work), l.astype(work), d.astype(work)
        if float(d) == 0.0:
            raise InvalidArgument("delta must not be 0")
        q = float(l - s) / float(d)
        if not math.isfinite(q):
            raise InvalidArgument(f"Range with start={float(s)}, limit={float(l)}, "
                                  f"delta={float(d)} has no finite length")
        n = max(int(math.ceil(q)), 0)
        check_alloc([n], dt, self.limit)
        out = np.arange(n, dtype=work) * d + s
        return out.astype(dt, copy=False)
