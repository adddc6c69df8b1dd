"""MelWeightMatrix (opset 17): triangular mel filterbank over one-sided DFT bins."""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import output_dtype, scalar_float, scalar_int

from .._alloc import max_bytes


def _hz_to_mel(f: float) -> float:
    return 2595.0 * math.log10(1.0 + f / 700.0)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    return 700.0 * (np.power(10.0, m / 2595.0) - 1.0)


@kernel("MelWeightMatrix", since=17, fresh=True)
class MelWeightMatrix(OpKernel):
    """Output [dft_length // 2 + 1, num_mel_bins]; each column is a triangle peaking at 1.

    The num_mel_bins + 2 band edges start at the lower edge, step (upper - lower) / (num_mel_bins
    + 2) on the mel scale (as onnxruntime does) and map to DFT bins as
    floor((dft_length + 1) * hz / sample_rate)."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.dtype = output_dtype(info.attr("output_datatype", 1))
        self.limit = max_bytes(info)

    def __call__(self, num_mel_bins, dft_length, sample_rate, lower_edge_hertz,
                 upper_edge_hertz):
        nmel = scalar_int(num_mel_bins, "num_mel_bins")
        n = scalar_int(dft_length, "dft_length")
        sr = scalar_int(sample_rate, "sample_rate")
        lo = scalar_float(lower_edge_hertz, "lower_edge_hertz")
        hi = scalar_float(upper_edge_hertz, "upper_edge_hertz")
        if nmel <= 0 or n <= 0 or sr <= 0:
            raise InvalidArgument(f"num_mel_bins, dft_length and sample_rate must be positive; "
                                  f"got {nmel}, {n}, {sr}")
        if not 0.0 <= lo < hi:
            raise InvalidArgument(f"expected 0 <= lower_edge_hertz < upper_edge_hertz; got "
                                  f"{lo}, {hi}")
        nbins = n // 2 + 1
        if nbins * nmel * self.dtype.itemsize > self.limit:
            raise InvalidArgument(f"output [{nbins}, {nmel}] exceeds the allowed {self.limit} "
                                  "bytes")
        lo_mel, hi_mel = _hz_to_mel(lo), _hz_to_mel(hi)
        step = (hi_mel - lo_mel) / (nmel + 2)
        mels = lo_mel + np.arange(nmel + 2, dtype=np.float64) * step
        edges = np.floor((n + 1) * _mel_to_hz(mels) / sr).astype(np.int64)
        if edges.max() >= nbins:
            raise InvalidArgument(f"upper_edge_hertz {hi} maps past the last DFT bin "
                                  f"({nbins - 1}) for dft_length {n} and sample_rate {sr}")
        out = np.zeros((nbins, nmel), np.float64)
        j = np.arange(nbins)
        for i in range(nmel):
            left, center, right = int(edges[i]), int(edges[i + 1]), int(edges[i + 2])
            if center == left:
                out[center, i] = 1.0
            else:
                sel = (j >= left) & (j <= center)
                out[sel, i] = (j[sel] - left) / (center - left)
            if right > center:
                sel = (j >= center) & (j < right)
                out[sel, i] = (right - j[sel]) / (right - center)
        return out.astype(self.dtype)
