"""LSTM: gates i, o, f, c with optional peepholes, ``input_forget`` coupling and clip.

The common case (default activations Sigmoid/Tanh/Tanh, no peepholes, clip, input_forget or
sequence_lens) runs a dedicated time loop: one mat-vec into a preallocated gate buffer, one
fused sigmoid over the contiguous i/o/f gates, in-place ufuncs, and h written straight into Y.
A single time step of a forward/reverse LSTM with layout 0 (a streaming model's call) takes a
shorter path still: one GEMM of [x, h, 1] against the stacked [W^T; R^T; bias] built at init
(of which the loop's W^T, R^T and bias are views)."""

from __future__ import annotations

import numpy as np

from ..registry import kernel
from ._common import RecurrentKernel

_DEFAULT = ("sigmoid", "tanh", "tanh")


@kernel("LSTM", since=1, fresh=True)
class LSTM(RecurrentKernel):
    """LSTM, every opset. Gate order in W/R/B is i, o, f, c; peepholes P are i, o, f."""

    n_gates = 4
    default_acts = ("Sigmoid", "Tanh", "Tanh")
    has_cell = True

    def __init__(self, info) -> None:
        self.input_forget = int(info.attr("input_forget", 0)) != 0
        names = info.attr("activations")
        self.default_activations = names is None or all(
            str(n).lower() == _DEFAULT[k % 3] for k, n in enumerate(names))
        super().__init__(info)
        self.fast = (self.default_activations and self.clip is None
                     and not self.input_forget)
        #: [W^T; R^T; bias] for one-step calls (constant weights, one direction, layout 0,
        #: no peepholes); subclasses with other weights have no third cell entry
        self.stacked = None
        cell = self._const[1][0][2] if self._const is not None else ()
        if self.fast and self.num_dir == 1 and self.layout == 0 and len(cell) == 3 \
                and cell[1] is None:
            self.stacked = cell[2]

    def prepare(self, W, R, B, P, d):
        G4, I = W.shape
        H = G4 // 4
        stacked = np.zeros((I + H + 1, G4), dtype=W.dtype)
        stacked[:I] = W.T
        stacked[I:I + H] = R.T
        if B is not None:
            stacked[I + H] = B[:G4] + B[G4:]
        bias = None if B is None else stacked[I + H]
        peep = None if P is None else (P[:H].copy(), P[H:2 * H].copy(), P[2 * H:].copy())
        return stacked[:I], bias, (stacked[I:I + H], peep, stacked)

    def __call__(self, X, W, R, B=None, sequence_lens=None, initial_h=None, initial_c=None,
                 P=None):
        if (self.stacked is not None and self.fast and sequence_lens is None and X.ndim == 3
                and X.shape[0] == 1):
            out = _one_step(self.stacked, X, initial_h, initial_c, self.info.output_wanted(0))
            if out is not None:
                return out
        return super().__call__(X, W, R, B, sequence_lens, initial_h, initial_c, P)

    def step(self, params, xw, h, c, acts):
        f, g, hf = acts
        Rt, peep = params[2][:2]
        H = h.shape[1]
        gates = xw + h @ Rt
        gi, go, gf, gc = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
        if peep is not None:
            gi = gi + peep[0] * c
            gf = gf + peep[2] * c
        i = f(self.clipped(gi))
        if self.input_forget:
            fg = 1 - i
        else:
            fg = f(self.clipped(gf))
        cc = g(self.clipped(gc))
        c_new = fg * c + i * cc
        if peep is not None:
            go = go + peep[1] * c_new
        o = f(self.clipped(go))
        return o * hf(c_new), c_new

    def _run(self, params, xw, h, c, lens, reverse, Y, acts):
        if not self.fast or lens is not None or params[2][1] is not None:
            return super()._run(params, xw, h, c, lens, reverse, Y, acts)
        Rt = params[2][0]
        S, N, G4 = xw.shape
        H = G4 // 4
        dt = xw.dtype
        gates = np.empty((N, G4), dtype=dt)
        sig = gates[:, :3 * H]          # i, o, f: one sigmoid
        gi, go, gf = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H]
        gc = gates[:, 3 * H:]
        c = np.array(c, dtype=dt)        # own copies: updated in place
        tmp = np.empty((N, H), dtype=dt)
        hbuf = None if Y is not None else [np.array(h, dtype=dt), np.empty((N, H), dtype=dt)]
        matmul, add, mul, neg, exp, recip, tanh = (np.matmul, np.add, np.multiply, np.negative,
                                                   np.exp, np.reciprocal, np.tanh)
        order = range(S - 1, -1, -1) if reverse else range(S)
        for k, t in enumerate(order):
            matmul(h, Rt, out=gates)
            add(gates, xw[t], out=gates)
            neg(sig, out=sig)
            exp(sig, out=sig)
            add(sig, 1, out=sig)
            recip(sig, out=sig)
            tanh(gc, out=gc)
            mul(c, gf, out=c)
            mul(gi, gc, out=tmp)
            add(c, tmp, out=c)
            tanh(c, out=tmp)
            hn = Y[t] if hbuf is None else hbuf[(k + 1) & 1]
            mul(go, tmp, out=hn)
            h = hn
        return h, c


def _one_step(stacked, X, h0, c0, want_y):
    """(Y, Y_h, Y_c) of a one-step forward LSTM with default activations, or None when a shape
    does not fit (the general path then reports it)."""
    _, N, I = X.shape
    G4 = stacked.shape[1]
    H = G4 // 4
    if I + H + 1 != stacked.shape[0]:
        return None
    for s in (h0, c0):
        if s is not None and s.shape != (1, N, H):
            return None
    dt = stacked.dtype
    xh = np.empty((N, I + H + 1), dtype=dt)
    xh[:, :I] = X[0]
    if h0 is None:
        xh[:, I:I + H] = 0
    else:
        xh[:, I:I + H] = h0[0]
    xh[:, I + H] = 1
    gates = xh @ stacked  # i, o, f, c
    sig = gates[:, :3 * H]
    np.negative(sig, out=sig)
    np.exp(sig, out=sig)
    sig += 1
    np.reciprocal(sig, out=sig)
    gc = gates[:, 3 * H:]
    np.tanh(gc, out=gc)
    gc *= gates[:, :H]
    out_dt = X.dtype
    c = np.empty((1, N, H), dtype=dt)
    if c0 is None:
        c[0] = gc
    else:
        np.multiply(gates[:, 2 * H:3 * H], c0[0], out=c[0])
        c[0] += gc
    h = np.tanh(c)
    h *= gates[:, H:2 * H]
    if out_dt != dt:
        h, c = h.astype(out_dt), c.astype(out_dt)
    y = h.reshape(1, 1, N, H).copy() if want_y else None
    return y, h, c
