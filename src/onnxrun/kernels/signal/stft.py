"""STFT (opset 17): framed, windowed DFTs of a batch of 1-D signals."""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import fft_dtypes, from_complex, scalar_int, to_complex

from .._alloc import max_bytes


@kernel("STFT", since=17, fresh=True)
class STFT(OpKernel):
    """Output [batch, frames, bins, 2]; bins = frame_length // 2 + 1 when onesided."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.onesided = bool(info.attr("onesided", 1))
        self.limit = max_bytes(info)

    def __call__(self, signal, frame_step, window=None, frame_length=None):
        x = np.asarray(signal)
        if x.ndim != 3 or x.shape[-1] not in (1, 2):
            raise InvalidArgument(f"signal must have shape [batch, signal_length, 1 or 2]; got "
                                  f"{list(x.shape)}")
        B, L = x.shape[0], x.shape[1]
        step = scalar_int(frame_step, "frame_step")
        if step <= 0:
            raise InvalidArgument(f"frame_step must be positive; got {step}")
        win = None
        if window is not None and np.asarray(window).size:
            win = np.asarray(window)
            if win.ndim != 1:
                raise InvalidArgument(f"window must be 1-D; got shape {list(win.shape)}")
        if frame_length is not None and np.asarray(frame_length).size:
            fl = scalar_int(frame_length, "frame_length")
            if win is not None and win.shape[0] != fl:
                raise InvalidArgument(f"window has length {win.shape[0]}; expected frame_length "
                                      f"{fl}")
        elif win is not None:
            fl = int(win.shape[0])
        else:
            fl = L
        if fl <= 0 or fl > L:
            raise InvalidArgument(f"frame_length must be in [1, {L}] (the signal length); "
                                  f"got {fl}")
        frames = (L - fl) // step + 1
        complex_in = x.shape[-1] == 2
        bins = fl // 2 + 1 if self.onesided else fl
        nbytes = math.prod((B, frames, bins, 2)) * x.dtype.itemsize
        if nbytes > self.limit:
            raise InvalidArgument(f"output [{B}, {frames}, {bins}, 2] would need {nbytes} bytes, "
                                  f"more than the allowed {self.limit}")
        rdt, cdt = fft_dtypes(x.dtype)
        starts = np.arange(frames) * step
        idx = starts[:, None] + np.arange(fl)[None, :]  # (frames, fl)
        if complex_in:
            seg = to_complex(x, "signal")[:, idx]  # (B, frames, fl)
        else:
            seg = x[..., 0].astype(rdt)[:, idx]
        if win is not None:
            seg = seg * win.astype(rdt)
        if self.onesided and not complex_in:
            z = np.fft.rfft(seg, axis=-1)
        else:
            z = np.fft.fft(seg.astype(cdt, copy=False), axis=-1)
            if self.onesided:
                z = z[..., :bins]
        return from_complex(z.astype(cdt, copy=False), x.dtype)
