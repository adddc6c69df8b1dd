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
#: index plans (constant pads, reflect / edge / wrap) are kept for at most this many input
#: shapes per node, and only for outputs of at most this many elements (a take along the last
#: axis measured 0.05x np.pad's time at 576 elements, 0.5x the general path's slice copies at
#: 4096 elements, 3x at 65536)
MAX_PLANS = 16
MAX_TAKE = 1 << 13


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
    """Pad-11+: pads, constant_value and (18+) axes as inputs.

    With constant pads and axes in reflect, edge or wrap mode, each input shape's first run
    also records, per padded axis, the source index of every output position (the mode and
    any cropping applied to ``arange``); later runs of that shape are one ``take`` per padded
    axis (the modes are separable: corners come out as padding axis after axis gives them)."""

    def __init__(self, info):
        super().__init__(info)
        self.fixed = None
        c, names = info.const_inputs, info.input_names
        has_axes = len(names) > 3 and names[3] != ""
        if self.mode != "constant" and len(c) > 1 and c[1] is not None and (
                not has_axes or c[3] is not None):
            try:
                self.fixed = (int_list(c[1], "pads"),
                              int_list(c[3], "axes") if has_axes else None)
            except InvalidArgument:
                self.fixed = None  # reported at run time
        self._takes = {}  # input shape -> ((axis, source index), ...)

    def __call__(self, data, pads, constant_value=None, axes=None):
        takes = self._takes.get(data.shape) if self.fixed is not None else None
        if takes is not None:
            if not takes:
                return data.copy()
            for axis, idx in takes:
                data = data.take(idx, axis=axis)
            return data
        out = self.pad(data, int_list(pads, "pads"),
                       None if axes is None else int_list(axes, "axes"), constant_value)
        if self.fixed is not None and len(self._takes) < MAX_PLANS and out.size <= MAX_TAKE:
            self._takes[data.shape] = self._plan(data.shape)
        return out

    def _plan(self, shape):
        """(axis, index) per padded axis for an input of ``shape`` (already checked by a
        run of :meth:`pad`)."""
        pads, axes = self.fixed
        r = len(shape)
        axes = list(range(r)) if axes is None else norm_axes(axes, r)
        n = len(axes)
        takes = []
        for i, a in enumerate(axes):
            b, e = pads[i], pads[i + n]
            if b == 0 and e == 0:
                continue
            src = np.arange(max(-b, 0), shape[a] - max(-e, 0), dtype=np.intp)
            takes.append((a, np.pad(src, (max(b, 0), max(e, 0)), mode=self.mode)))
        return tuple(takes)
