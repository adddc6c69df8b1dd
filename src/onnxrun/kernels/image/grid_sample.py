"""GridSample (opsets 16, 20, 22): N-D sampling of X at normalized grid positions.

Every tap (2 per axis for linear, 4 for cubic, 1 for nearest) is gathered for all output
points and channels at once from a channels-last copy of X, then weighted and summed.
Semantics follow the PyTorch operator the ONNX spec refers to: for nearest/linear the padding
mode is applied to the source coordinate; for cubic it is applied to every tap's index.
"""

from __future__ import annotations

import itertools

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import cast_back, check_alloc, compute_dtype, max_bytes

_MODES = {"bilinear": "linear", "linear": "linear", "nearest": "nearest", "bicubic": "cubic",
          "cubic": "cubic"}


def _reflect(c: np.ndarray, twice_low: float, twice_high: float) -> np.ndarray:
    """Reflect coordinates into [twice_low / 2, twice_high / 2] (repeatedly)."""
    if twice_low == twice_high:
        return np.zeros_like(c)
    lo = twice_low / 2.0
    span = (twice_high - twice_low) / 2.0
    c = np.abs(c - lo)
    extra = np.fmod(c, span)
    flips = np.floor(c / span)
    return np.where(np.fmod(flips, 2) == 0, extra + lo, span - extra + lo)


def _cubic_coeffs(t: np.ndarray, a: float = -0.75):
    """Weights of taps at offsets -1, 0, 1, 2 for fractional positions ``t``."""
    def near(x):
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0

    def far(x):
        return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    return [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]


class _GridSampleBase(OpKernel):
    def __init__(self, info, mode: str, max_rank) -> None:
        super().__init__(info)
        if mode not in _MODES:
            raise InvalidArgument(f"mode '{mode}' is not supported; expected linear (bilinear), "
                                  "nearest or cubic (bicubic)")
        self.mode = _MODES[mode]
        self.padding = info.attr("padding_mode", "zeros")
        if self.padding not in ("zeros", "border", "reflection"):
            raise InvalidArgument(f"padding_mode '{self.padding}' is not supported; expected "
                                  "zeros, border or reflection")
        self.align = bool(info.attr("align_corners", 0))
        self.max_rank = max_rank
        self.limit = max_bytes(info)

    def _pad_coord(self, c: np.ndarray, size: int) -> np.ndarray:
        """Apply border/reflection padding to source coordinates (zeros: unchanged)."""
        if self.padding == "border":
            return np.clip(c, 0.0, size - 1.0)
        if self.padding == "reflection":
            if self.align:
                c = _reflect(c, 0.0, 2.0 * (size - 1))
            else:
                c = _reflect(c, -1.0, 2.0 * size - 1.0)
            return np.clip(c, 0.0, size - 1.0)
        return c

    def __call__(self, X, grid):
        X = np.asarray(X)
        grid = np.asarray(grid)
        r = X.ndim - 2
        if r < 1 or (self.max_rank and r != self.max_rank):
            want = f"{self.max_rank + 2}-D" if self.max_rank else "at least 3-D"
            raise InvalidArgument(f"X must be {want} (N, C, spatial...); got shape "
                                  f"{list(X.shape)}")
        if grid.ndim != r + 2 or grid.shape[0] != X.shape[0] or grid.shape[-1] != r:
            raise InvalidArgument(f"grid must have shape [{X.shape[0]}, out spatial ({r} dims), "
                                  f"{r}]; got {list(grid.shape)}")
        if self.mode != "nearest" and X.dtype.kind not in "fiuc" and X.dtype.kind != "V":
            raise InvalidArgument(f"mode '{self.mode}' needs numeric X; got {X.dtype}")
        N, C = X.shape[:2]
        in_sp = X.shape[2:]
        out_sp = grid.shape[1:-1]
        out_shape = (N, C) + tuple(out_sp)
        check_alloc(out_shape, X.dtype, self.limit)
        if X.size == 0 or grid.size == 0 or any(s == 0 for s in in_sp):
            return np.zeros(out_shape, X.dtype)
        g = grid.astype(np.float64)
        # channels-last, spatial flattened: (N, P, C)
        Xt = np.moveaxis(X.reshape(N, C, -1), 1, 2)
        if self.mode == "nearest":
            Xt = np.ascontiguousarray(Xt)
        else:
            ct = compute_dtype(X.dtype)
            Xt = np.ascontiguousarray(Xt, dtype=ct)
        strides = [int(np.prod(in_sp[d + 1:], dtype=np.int64)) for d in range(r)]
        n_idx = np.arange(N).reshape((N,) + (1,) * len(out_sp))
        # per spatial dim d (X axis 2 + d) the grid component is r - 1 - d
        taps_per_dim = []
        for d in range(r):
            size = in_sp[d]
            c = g[..., r - 1 - d]
            if self.align:
                c = (c + 1.0) / 2.0 * (size - 1)
            else:
                c = ((c + 1.0) * size - 1.0) / 2.0
            taps_per_dim.append(self._taps(c, size))
        out = None
        zero_fill = self.padding == "zeros"
        for combo in itertools.product(*taps_per_dim):
            flat = None
            w = None
            ok = None
            for d, (idx, wt, valid) in enumerate(combo):
                term = idx * strides[d]
                flat = term if flat is None else flat + term
                if wt is not None:
                    w = wt if w is None else w * wt
                if valid is not None:
                    ok = valid if ok is None else ok & valid
            vals = Xt[n_idx, flat]  # (N, *out, C)
            if self.mode == "nearest":
                if ok is not None and zero_fill:
                    zero = "" if X.dtype == object else np.zeros((), X.dtype)
                    vals = np.where(ok[..., None], vals, zero)
                out = vals
                break
            if ok is not None:
                w = np.where(ok, w, 0.0)
            term = vals * w[..., None].astype(vals.dtype)
            out = term if out is None else out + term
        y = np.moveaxis(out, -1, 1)
        return np.ascontiguousarray(cast_back(y, X.dtype))

    def _taps(self, c: np.ndarray, size: int):
        """[(index, weight or None, in-bounds mask or None), ...] for one spatial dim."""
        if self.mode == "nearest":
            c = self._pad_coord(c, size)
            i = np.rint(c)
            valid = (i >= 0) & (i <= size - 1)
            idx = np.clip(i, 0, size - 1).astype(np.int64)
            return [(idx, None, None if valid.all() else valid)]
        if self.mode == "linear":
            c = self._pad_coord(c, size)
            f = np.floor(c)
            t = c - f
            out = []
            for k, w in ((0, 1.0 - t), (1, t)):
                i = f + k
                valid = (i >= 0) & (i <= size - 1)
                out.append((np.clip(i, 0, size - 1).astype(np.int64), w, valid))
            return out
        f = np.floor(c)
        t = c - f
        out = []
        for k, w in zip((-1, 0, 1, 2), _cubic_coeffs(t)):
            i = f + k
            if self.padding == "zeros":
                valid = (i >= 0) & (i <= size - 1)
            else:
                i = self._pad_coord(i, size)
                valid = None
            out.append((np.clip(i, 0, size - 1).astype(np.int64), w, valid))
        return out


@kernel("GridSample", since=16, until=19, fresh=True)
class GridSample16(_GridSampleBase):
    """GridSample-16: 4-D input, modes bilinear/nearest/bicubic."""

    def __init__(self, info) -> None:
        super().__init__(info, info.attr("mode", "bilinear"), max_rank=2)


@kernel("GridSample", since=20, fresh=True)
class GridSample(_GridSampleBase):
    """GridSample-20/22: N-D input, modes linear/nearest/cubic."""

    def __init__(self, info) -> None:
        super().__init__(info, info.attr("mode", "linear"), max_rank=0)
