"""Einsum (opsets 12, 28): any equation, explicit or implicit output, ellipsis broadcasting."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel

_LOW = ("float16", "bfloat16")


@kernel("Einsum", since=12, fresh=True)
class Einsum(OpKernel):
    """``np.einsum`` with the contraction path optimized; float16/bfloat16 accumulate in
    float32, integers in their own type."""

    def __init__(self, info) -> None:
        super().__init__(info)
        eq = info.require_attr("equation")
        self.equation = eq.replace(" ", "")
        lhs = self.equation.split("->")[0]
        self.n_terms = len(lhs.split(","))
        for ch in self.equation:
            if not (ch.isalpha() and ch.isascii()) and ch not in ",->.":
                raise InvalidArgument(f"invalid character {ch!r} in einsum equation "
                                      f"'{eq}'")
        if "->" not in self.equation:
            self.equation = self._implicit(lhs)

    @staticmethod
    def _implicit(lhs: str) -> str:
        """Implicit mode: output letters appear once, sorted by ASCII (upper before lower);
        an ellipsis goes first."""
        letters = lhs.replace(",", "").replace("...", "")
        once = sorted(ch for ch in set(letters) if letters.count(ch) == 1)
        return lhs + "->" + ("..." if "..." in lhs else "") + "".join(once)

    def __call__(self, *inputs):
        if len(inputs) != self.n_terms:
            raise InvalidArgument(f"equation '{self.equation}' has {self.n_terms} operands, "
                                  f"got {len(inputs)} inputs")
        dt = inputs[0].dtype
        ops = inputs
        if dt.name in _LOW:
            ops = [x.astype(np.float32) for x in inputs]
        try:
            out = np.einsum(self.equation, *ops, optimize=len(ops) > 1)
        except ValueError as e:
            raise InvalidArgument(f"einsum '{self.equation}' does not fit input shapes "
                                  f"{[x.shape for x in inputs]}: {e}") from None
        out = np.asarray(out)
        if out.dtype != dt:
            return out.astype(dt)
        if any(np.may_share_memory(out, x) for x in inputs):
            return out.copy()  # single-operand einsum (transpose, diagonal) returns a view
        return out
