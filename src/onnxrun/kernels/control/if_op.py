"""If: run one of two subgraphs depending on a boolean condition (all opset versions)."""

from __future__ import annotations

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import arrays, scalar_bool


@kernel("If", since=1)
class If(OpKernel):
    """``If(cond, *outer)``: outputs of ``then_branch`` when ``cond`` is true, else of
    ``else_branch``. Outputs may be tensors, sequences or optionals."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.then_branch = info.subgraph("then_branch")
        self.else_branch = info.subgraph("else_branch")
        self.n_out = info.num_outputs
        for name, branch in (("then_branch", self.then_branch), ("else_branch", self.else_branch)):
            if len(branch.output_names) != self.n_out:
                raise InvalidArgument(f"If {name} has {len(branch.output_names)} outputs, the "
                                      f"node has {self.n_out}")

    def __call__(self, cond, *outer):
        branch = self.then_branch if scalar_bool(cond, "If condition") else self.else_branch
        return arrays(branch([], outer))
