"""GRU: gates z (update), r (reset), h (hidden), with ``linear_before_reset``."""

from __future__ import annotations

from ..registry import kernel
from ._common import RecurrentKernel


@kernel("GRU", since=1, fresh=True)
class GRU(RecurrentKernel):
    """GRU, every opset. ``X W^T`` plus the biases that sit outside the reset product are
    computed for all steps at once; the loop does ``h R_zr^T`` and the hidden-gate product."""

    n_gates = 3
    default_acts = ("Sigmoid", "Tanh")

    def __init__(self, info) -> None:
        self.linear_before_reset = int(info.attr("linear_before_reset", 0)) != 0
        super().__init__(info)

    def prepare(self, W, R, B, P, d):
        H = R.shape[1]
        G3 = 3 * H
        if B is None:
            xbias = None
            rbh = None
        else:
            wb, rb = B[:G3], B[G3:]
            xbias = wb.copy()
            xbias[:2 * H] += rb[:2 * H]
            if self.linear_before_reset:
                rbh = rb[2 * H:].copy()
            else:
                xbias[2 * H:] += rb[2 * H:]
                rbh = None
        Rt = R.T.copy()  # [H, 3H]
        if self.linear_before_reset:
            return W.T.copy(), xbias, (Rt, rbh)
        return W.T.copy(), xbias, (Rt[:, :2 * H].copy(), Rt[:, 2 * H:].copy())

    def step(self, params, xw, h, c, acts):
        f, g = acts
        H = h.shape[1]
        if self.linear_before_reset:
            Rt, rbh = params[2]
            hr = h @ Rt
            zr = self.clipped(xw[:, :2 * H] + hr[:, :2 * H])
            zr = f(zr)
            z, r = zr[:, :H], zr[:, H:]
            hl = hr[:, 2 * H:]
            if rbh is not None:
                hl = hl + rbh
            hh = g(self.clipped(xw[:, 2 * H:] + r * hl))
        else:
            Rzr, Rh = params[2]
            zr = f(self.clipped(xw[:, :2 * H] + h @ Rzr))
            z, r = zr[:, :H], zr[:, H:]
            hh = g(self.clipped(xw[:, 2 * H:] + (r * h) @ Rh))
        return hh + z * (h - hh), None
