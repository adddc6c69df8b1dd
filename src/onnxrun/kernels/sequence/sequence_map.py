"""SequenceMap (opset 17): run a subgraph on each element of one or more sequences."""

from __future__ import annotations

from ...errors import InvalidArgument
from ...framework import run_context
from ..base import OpKernel
from ..registry import kernel


@kernel("SequenceMap", since=17)
class SequenceMap(OpKernel):
    """``SequenceMap(input_sequence, *additional_inputs, *outer)`` -> one sequence per body
    output. Sequence inputs are walked in step (same length as the first); tensor inputs are
    passed unchanged to every call."""

    def __init__(self, info) -> None:
        super().__init__(info)
        self.body = info.subgraph("body")
        self.n_explicit = len(info.input_names)
        if len(self.body.input_names) != self.n_explicit:
            raise InvalidArgument(f"SequenceMap body takes {len(self.body.input_names)} inputs, "
                                  f"the node gives {self.n_explicit}")
        self.n_out = len(self.body.output_names)

    def __call__(self, input_sequence, *rest):
        extra = rest[:self.n_explicit - 1]
        outer = rest[self.n_explicit - 1:]
        if not isinstance(input_sequence, list):
            raise InvalidArgument(f"SequenceMap input 0 must be a sequence, got "
                                  f"{type(input_sequence).__name__}")
        n = len(input_sequence)
        for j, v in enumerate(extra):
            if isinstance(v, list) and len(v) != n:
                raise InvalidArgument(f"SequenceMap input {j + 1} is a sequence of {len(v)} "
                                      f"elements, expected {n} like input 0")
        results = [[] for _ in range(self.n_out)]
        ctx = run_context.current()
        for i in range(n):
            ctx.check_terminate()
            args = [input_sequence[i]] + [v[i] if isinstance(v, list) else v for v in extra]
            outs = self.body(args, outer)
            for k in range(self.n_out):
                results[k].append(outs[k])
        return tuple(results)
