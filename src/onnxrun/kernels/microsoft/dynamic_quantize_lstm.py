"""DynamicQuantizeLSTM (com.microsoft): LSTM with 8-bit W and R whose float inputs (X for all
time steps at once, then H at each step) are quantized to uint8 on the fly, as onnxruntime's
``quantize_dynamic`` emits for LSTM (and captcha-OCR models ship)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..registry import kernel
from ..rnn.lstm import LSTM
from ._quant import F32, Q8, dynamic_uint8_params, exact_matmul, int_matrix, quantize


class DynamicQuantWeight:
    """The right operand of ``a @ w`` for a dynamically quantized GEMM: ``a`` (float32 rows)
    is quantized to uint8 over its own range, multiplied exactly by the zero-point-shifted
    8-bit weight and scaled back by ``a_scale * w_scale`` (onnxruntime's recurrent GEMM)."""

    __array_ufunc__ = None  # ndarray @ this -> this.__rmatmul__

    def __init__(self, w: np.ndarray, zp: int, scale: np.ndarray) -> None:
        self.w = int_matrix(w.astype(F32) - np.float32(zp))  # [K, N]
        self.scale = scale.astype(F32)
        self.shape = w.shape

    def __rmatmul__(self, a: np.ndarray) -> np.ndarray:
        s, zp = dynamic_uint8_params(a)
        qa = quantize(a, s, zp, np.dtype(np.uint8)).astype(F32) - np.float32(zp)
        return exact_matmul(qa, self.w).astype(F32) * (s * self.scale)


@kernel("DynamicQuantizeLSTM", domain="com.microsoft", since=1, fresh=True)
class DynamicQuantizeLSTM(LSTM):
    """ONNX LSTM semantics (gates i, o, f, c; peepholes; clip; input_forget; sequence_lens;
    activations) with W [D, input_size, 4H] and R [D, H, 4H] quantized (uint8 or int8): scales
    per direction ([D]) or per gate column ([D, 4H]); one zero point per direction (zero for
    int8, equal values when given per column). Products are exact integer GEMMs of the
    dynamically quantized activations; the cell math is float32.

    Differences from onnxruntime's floats: its sigmoid and tanh are approximations, so a
    hidden value close to a quantization step can land in the neighbouring step (results agree
    to ~1e-3); with ``sequence_lens`` shorter than the sequence, onnxruntime quantizes X over the
    first max(sequence_lens) steps only and H with finished rows set to zero."""

    def __init__(self, info) -> None:
        c = info.const_inputs
        self._qconst = tuple(c[i] if len(c) > i else None for i in (8, 9, 10, 11))
        super().__init__(info)
        self.fast = False  # the float fast path multiplies R directly

    def _params(self, W, R, B, P):
        if not isinstance(W, tuple):  # from __init__: constants only
            if any(p is None for p in self._qconst):
                return None
            W, R = (W,) + self._qconst[:2], (R,) + self._qconst[2:]
        (Wq, ws, wz), (Rq, rs, rz) = W, R
        D = self.num_dir
        for name, t in (("W", Wq), ("R", Rq)):
            if t.dtype not in Q8 or t.ndim != 3:
                raise InvalidArgument(f"DynamicQuantizeLSTM: {name} must be a 3-D uint8 or int8 "
                                      f"tensor, got {t.dtype} {t.shape}")
        H = Rq.shape[1]
        if self.hidden_size is not None and int(self.hidden_size) != H:
            raise InvalidArgument(f"DynamicQuantizeLSTM: R has hidden size {H} but hidden_size "
                                  f"is {self.hidden_size}")
        if Wq.shape[0] != D or Wq.shape[2] != 4 * H or Rq.shape != (D, H, 4 * H):
            raise InvalidArgument(f"DynamicQuantizeLSTM: expected W [{D}, input_size, {4 * H}] "
                                  f"and R [{D}, {H}, {4 * H}], got {Wq.shape} and {Rq.shape}")
        if B is not None and B.shape != (D, 8 * H):
            raise InvalidArgument(f"DynamicQuantizeLSTM: expected B of shape [{D}, {8 * H}], "
                                  f"got {B.shape}")
        if P is not None and P.shape != (D, 3 * H):
            raise InvalidArgument(f"DynamicQuantizeLSTM: expected P of shape [{D}, {3 * H}], "
                                  f"got {P.shape}")
        wsc = _scales(ws, D, H, "W_scale")
        rsc = _scales(rs, D, H, "R_scale")
        wzp = _zero_points(wz, Wq.dtype, D, H, "W_zero_point")
        rzp = _zero_points(rz, Rq.dtype, D, H, "R_zero_point")
        params = []
        for d in range(D):
            bias = None if B is None else B[d, :4 * H].astype(F32) + B[d, 4 * H:].astype(F32)
            peep = None if P is None else tuple(P[d, k * H:(k + 1) * H].astype(F32)
                                                for k in range(3))
            params.append((DynamicQuantWeight(Wq[d], wzp[d], wsc[d]), bias,
                           (DynamicQuantWeight(Rq[d], rzp[d], rsc[d]), peep)))
        return H, params

    def __call__(self, X, W, R, B=None, sequence_lens=None, initial_h=None, initial_c=None,
                 P=None, W_scale=None, W_zero_point=None, R_scale=None, R_zero_point=None):
        if X.dtype != F32:
            raise InvalidArgument(f"DynamicQuantizeLSTM: X must be float32, got {X.dtype}")
        if self._const is None:
            if any(p is None for p in (W_scale, W_zero_point, R_scale, R_zero_point)):
                raise InvalidArgument("DynamicQuantizeLSTM: W_scale, W_zero_point, R_scale and "
                                      "R_zero_point are required")
            W, R = (W, W_scale, W_zero_point), (R, R_scale, R_zero_point)
        return super().__call__(X, W, R, B, sequence_lens, initial_h, initial_c, P)


def _scales(s, D, H, what):
    """[D, 1] (per direction) or [D, 4H] (per column) float32 scales."""
    if s is None or s.dtype != F32 or s.shape not in ((D,), (D, 4 * H)):
        raise InvalidArgument(f"DynamicQuantizeLSTM: {what} must be float32 of shape ({D},) or "
                              f"({D}, {4 * H}), got {None if s is None else (s.dtype, s.shape)}")
    return s.reshape(D, -1)


def _zero_points(z, dt, D, H, what):
    """One zero point per direction (onnxruntime applies a single one per weight)."""
    if z is None or z.dtype != dt or z.shape not in ((D,), (D, 4 * H)):
        raise InvalidArgument(f"DynamicQuantizeLSTM: {what} must be {dt} of shape ({D},) or "
                              f"({D}, {4 * H}), got {None if z is None else (z.dtype, z.shape)}")
    z = z.reshape(D, -1).astype(np.int64)
    if np.any(z != z[:, :1]) or (dt == np.int8 and np.any(z != 0)):
        raise InvalidArgument(f"DynamicQuantizeLSTM: {what} must be one value per direction "
                              f"({'zero for int8' if dt == np.int8 else 'equal per column'})")
    return [int(v) for v in z[:, 0]]
