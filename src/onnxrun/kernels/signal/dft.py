"""DFT (opsets 17 and 20) via numpy.fft: forward/inverse, full or one-sided, with dft_length.

float32 (and narrower) inputs are transformed in single precision, float64 in double.
"""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import fft_dtypes, from_complex, scalar_int, to_complex


def _fit(z: np.ndarray, axis: int, n: int) -> np.ndarray:
    """Truncate or zero-pad ``z`` to length ``n`` along ``axis``."""
    m = z.shape[axis]
    if m == n:
        return z
    if m > n:
        return np.take(z, np.arange(n), axis=axis)
    pad = [(0, 0)] * z.ndim
    pad[axis] = (0, n - m)
    return np.pad(z, pad)


def dft(x: np.ndarray, axis: int, n, inverse: bool, onesided: bool) -> np.ndarray:
    """The DFT of ``x`` ([..., 1|2]) along ``axis`` as the ONNX op defines it."""
    x = np.asarray(x)
    if x.dtype.kind != "f" and x.dtype.kind != "V":
        raise InvalidArgument(f"input must be a float tensor; got {x.dtype}")
    r = x.ndim
    if r < 2 or x.shape[-1] not in (1, 2):
        raise InvalidArgument(f"input must have rank >= 2 and a last dimension of size 1 (real) "
                              f"or 2 (complex); got shape {list(x.shape)}")
    if not (-r <= axis <= -2 or 0 <= axis <= r - 2):
        raise InvalidArgument(f"axis {axis} is out of range for an input of rank {r}; expected "
                              f"a value in [{-r}, -2] or [0, {r - 2}]")
    ax = axis + r if axis < 0 else axis
    if n is not None and n <= 0:
        raise InvalidArgument(f"dft_length must be positive; got {n}")
    rdt, cdt = fft_dtypes(x.dtype)
    real_in = x.shape[-1] == 1
    if inverse and onesided:
        # IRFFT: complex one-sided spectrum -> real signal of length n
        z = to_complex(x)
        m = z.shape[ax]
        length = n if n is not None else 2 * (m - 1)
        if length <= 0:
            raise InvalidArgument(f"IRFFT output length {length} must be positive (axis length "
                                  f"{m})")
        y = np.fft.irfft(z, n=length, axis=ax).astype(rdt, copy=False)
        return y[..., None].astype(x.dtype)
    if onesided and not real_in:
        raise InvalidArgument("a one-sided forward DFT (RFFT) needs real input (last dimension "
                              f"1); got shape {list(x.shape)}")
    if real_in and not inverse:
        sig = x[..., 0].astype(rdt)
        length = n if n is not None else sig.shape[ax]
        if onesided:
            z = np.fft.rfft(sig, n=length, axis=ax)
        else:
            z = np.fft.fft(_fit(sig, ax, length).astype(cdt), axis=ax)
    else:
        z = to_complex(x)
        length = n if n is not None else z.shape[ax]
        z = _fit(z, ax, length)
        z = np.fft.ifft(z, axis=ax) if inverse else np.fft.fft(z, axis=ax)
    return from_complex(z.astype(cdt, copy=False), x.dtype)


@kernel("DFT", since=17, until=19, fresh=True)
class DFT17(OpKernel):
    """DFT-17: ``axis`` attribute (default 1)."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.axis = int(info.attr("axis", 1))
        self.inverse = bool(info.attr("inverse", 0))
        self.onesided = bool(info.attr("onesided", 0))

    def __call__(self, input, dft_length=None):  # noqa: A002 - the ONNX input name
        n = None if dft_length is None or np.asarray(dft_length).size == 0 else \
            scalar_int(dft_length, "dft_length")
        return dft(input, self.axis, n, self.inverse, self.onesided)


@kernel("DFT", since=20, fresh=True)
class DFT(OpKernel):
    """DFT-20: ``axis`` input (default -2)."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.inverse = bool(info.attr("inverse", 0))
        self.onesided = bool(info.attr("onesided", 0))

    def __call__(self, input, dft_length=None, axis=None):  # noqa: A002
        n = None if dft_length is None or np.asarray(dft_length).size == 0 else \
            scalar_int(dft_length, "dft_length")
        ax = -2 if axis is None or np.asarray(axis).size == 0 else scalar_int(axis, "axis")
        return dft(input, ax, n, self.inverse, self.onesided)
