"""LSTM: gates i, o, f, c with optional peepholes, ``input_forget`` coupling and clip."""

from __future__ import annotations

from ..registry import kernel
from ._common import RecurrentKernel


@kernel("LSTM", since=1, fresh=True)
class LSTM(RecurrentKernel):
    """LSTM, every opset. Gate order in W/R/B is i, o, f, c; peepholes P are i, o, f."""

    n_gates = 4
    default_acts = ("Sigmoid", "Tanh", "Tanh")
    has_cell = True

    def __init__(self, info) -> None:
        self.input_forget = int(info.attr("input_forget", 0)) != 0
        super().__init__(info)

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
