"""RNN (simple recurrent network): ``Ht = f(Xt W^T + Ht-1 R^T + Wb + Rb)``."""

from __future__ import annotations

from ..registry import kernel
from ._common import RecurrentKernel


@kernel("RNN", since=1, fresh=True)
class RNN(RecurrentKernel):
    """RNN, every opset (layout from opset 14; ``output_sequence`` of opset 1 is implied by
    whether ``Y`` is requested)."""

    n_gates = 1
    default_acts = ("Tanh",)

    def prepare(self, W, R, B, P, d):
        bias = None if B is None else B[:W.shape[0]] + B[W.shape[0]:]
        return W.T.copy(), bias, R.T.copy()

    def step(self, params, xw, h, c, acts):
        pre = xw + h @ params[2]
        return acts[0](self.clipped(pre)), None
