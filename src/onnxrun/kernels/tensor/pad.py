"""Pad: modes constant, reflect, edge, wrap (opset 19); pads/value attributes before opset
11, inputs after; ``axes`` input from opset 18; negative pads crop."""

from __future__ import annotations

from typing import List, Optional

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import check_alloc, int_list, max_bytes, norm_axes

_MODES = ("constant", "reflect", "edge", "wrap")


def _fill_value(dtype, value):
    if value is None:
        if dtype == np.dtype(object):
            return ""
        return dtype.type(0)
    v = np.asarray(value)
    if v.size != 1:
        raise InvalidArgument(f"constant_value must be a scalar, got shape {list(v.shape)}")
    v = v.reshape(())[()]
    return v if dtype == np.dtype(object) else np.asarray(v).astype(dtype)[()]


class _PadBase(OpKernel):
    def __init__(self, info):
        super().__init__(info)
        self.mode = info.attr("mode", "constant")
        allowed = _MODES if info.since_version >= 19 else _MODES[:3]
        if self.mode not in allowed:
            raise InvalidArgument(f"mode must be one of {', '.join(allowed)}; got {self.mode!r}")
        self.limit = max_bytes(info)

    def pad(self, x: np.ndarray, pads: List[int], axes: Optional[List[int]], value):
        r = x.ndim
        if axes is None:
            axes = list(range(r))
        else:
            axes = norm_axes(axes, r)
        if len(pads) != 2 * len(axes):
            raise InvalidArgument(f"pads has {len(pads)} values, expected {2 * len(axes)} "
                                  f"(2 per padded axis)")
        n = len(axes)
        begin = [0] * r
        end = [0] * r
        for i, a in enumerate(axes):
            begin[a] = pads[i]
            end[a] = pads[i + n]
        # Negative pads crop first.
        crop = tuple(slice(max(-b, 0), x.shape[i] - max(-e, 0) if e < 0 else None)
                     for i, (b, e) in enumerate(zip(begin, end)))
        for i, (b, e) in enumerate(zip(begin, end)):
            if x.shape[i] + min(b, 0) + min(e, 0) < 0:
                raise InvalidArgument(f"pads {pads} remove more than the {x.shape[i]} elements "
                                      f"of axis {i}")
        x = x[crop]
        width = [(max(b, 0), max(e, 0)) for b, e in zip(begin, end)]
        out_shape = [d + b + e for d, (b, e) in zip(x.shape, width)]
        check_alloc(out_shape, x.dtype, self.limit)
        if self.mode == "constant":
            fill = _fill_value(x.dtype, value)
            out = np.empty(out_shape, dtype=x.dtype)
            out[tuple(slice(b, b + d) for (b, _), d in zip(width, x.shape))] = x
            for i, (b, e) in enumerate(width):  # only the borders get the fill value
                pre = (slice(None),) * i
                if b:
                    out[pre + (slice(0, b),)] = fill
                if e:
                    out[pre + (slice(out_shape[i] - e, None),)] = fill
            return out
        if all(b == 0 and e == 0 for b, e in width):
            return x.copy()
        for i, (b, e) in enumerate(width):
            if (b or e) and x.shape[i] == 0:
                raise InvalidArgument(f"cannot pad empty axis {i} in {self.mode} mode")
        return _pad_border(x, width, out_shape, self.mode)


def _pad_border(x, width, out_shape, mode):
    """reflect / edge / wrap padding: place ``x`` once, then fill each axis's borders from the
    already filled part of the output (np.pad handles pads wider than the axis)."""
    n = x.shape
    limit = {"reflect": 1, "wrap": 0, "edge": None}[mode]
    if limit is not None and any(max(b, e) > d - limit for (b, e), d in zip(width, n)):
        return np.pad(x, width, mode=mode)
    r = x.ndim
    out = np.empty(out_shape, dtype=x.dtype)
    inner = [slice(b, b + d) for (b, _), d in zip(width, n)]
    out[tuple(inner)] = x
    for i in range(r):
        b, e = width[i]
        d = n[i]
        lo, hi = b, b + d  # filled range along axis i
        pre = [slice(None)] * i
        post = inner[i + 1:]
        if b:
            if mode == "edge":
                src = slice(lo, lo + 1)
            elif mode == "reflect":
                src = slice(2 * lo, lo, -1)
            else:
                src = slice(hi - b, hi)
            out[tuple(pre + [slice(0, lo)] + post)] = out[tuple(pre + [src] + post)]
        if e:
            if mode == "edge":
                src = slice(hi - 1, hi)
            elif mode == "reflect":
                stop = hi - 2 - e
                src = slice(hi - 2, stop if stop >= 0 else None, -1)
            else:
                src = slice(lo, lo + e)
            out[tuple(pre + [slice(hi, hi + e)] + post)] = out[tuple(pre + [src] + post)]
    return out


@kernel("Pad", since=1, until=10, fresh=True)
class Pad1(_PadBase):
    """Pad-1/2: ``paddings``/``pads`` and ``value`` as attributes."""

    def __init__(self, info):
        super().__init__(info)
        pads = info.attr("pads") if info.since_version >= 2 else info.attr("paddings")
        if pads is None:
            raise InvalidArgument("attribute 'pads' is required")
        self.pads = [int(p) for p in pads]
        self.value = float(info.attr("value", 0.0))

    def __call__(self, data):
        return self.pad(data, self.pads, None, np.float64(self.value))


@kernel("Pad", since=11, fresh=True)
class Pad(_PadBase):
    """Pad-11+: pads, constant_value and (18+) axes as inputs."""

    def __call__(self, data, pads, constant_value=None, axes=None):
        return self.pad(data, int_list(pads, "pads"),
                        None if axes is None else int_list(axes, "axes"), constant_value)
