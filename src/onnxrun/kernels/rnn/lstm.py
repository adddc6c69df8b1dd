"""LSTM: gates i, o, f, c with optional peepholes, ``input_forget`` coupling and clip.

The common case (default activations Sigmoid/Tanh/Tanh, no peepholes, clip, input_forget or
sequence_lens) runs a dedicated time loop: one mat-vec into a preallocated gate buffer, one
fused sigmoid over the contiguous i/o/f gates, in-place ufuncs, and h written straight into Y."""

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

    def prepare(self, W, R, B, P, d):
        G4 = W.shape[0]
        H = G4 // 4
        bias = None if B is None else B[:G4] + B[G4:]
        peep = None if P is None else (P[:H].copy(), P[H:2 * H].copy(), P[2 * H:].copy())
        return W.T.copy(), bias, (R.T.copy(), peep)

    def step(self, params, xw, h, c, acts):
        f, g, hf = acts
        Rt, peep = params[2]
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
