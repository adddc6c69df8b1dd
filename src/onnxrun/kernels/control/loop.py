"""Loop: a generic for/while loop over a body subgraph (all opset versions)."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import arrays, check_terminate, empty_output, scalar_bool, scalar_int, stack


@kernel("Loop", since=1)
class Loop(OpKernel):
    """``Loop(M, cond, *v_initial, *outer)`` -> final loop-carried values, then scan outputs.

    Body inputs: (iteration_num, cond, *loop_carried); body outputs: (cond, *loop_carried,
    *scan_outputs). Scan outputs are stacked along a new axis 0. As in onnxruntime, the body's
    condition output ends the loop even when the node has no ``cond`` input. The trip count is only
    compared with, never materialized, so huge trip counts with an early exit are fine.
    """

    def __init__(self, info) -> None:
        super().__init__(info)
        self.body = info.subgraph("body")
        self.n_explicit = len(info.input_names)
        self.n_carried = max(0, self.n_explicit - 2)
        n_body_out = len(self.body.output_names)
        if len(self.body.input_names) != self.n_carried + 2:
            raise InvalidArgument(
                f"Loop body has {len(self.body.input_names)} inputs, expected "
                f"{self.n_carried + 2} (iteration number, condition and {self.n_carried} "
                "loop-carried values)")
        if n_body_out < self.n_carried + 1:
            raise InvalidArgument(
                f"Loop body has {n_body_out} outputs, expected at least {self.n_carried + 1} "
                "(condition and the loop-carried values)")
        self.n_scan = n_body_out - 1 - self.n_carried
        if info.num_outputs > self.n_carried + self.n_scan:
            raise InvalidArgument(f"Loop node has {info.num_outputs} outputs, its body produces "
                                  f"{self.n_carried} loop-carried values and {self.n_scan} scan "
                                  "outputs")
        self.scan_values = self.body.graph.outputs[1 + self.n_carried:]

    def __call__(self, M=None, cond=None, *rest):
        n = self.n_carried
        carried = list(rest[:n])
        outer = rest[n:]
        trip = None if M is None else scalar_int(M, "Loop trip count M")
        keep_going = True if cond is None else scalar_bool(cond, "Loop condition")
        cond_in = np.array(keep_going)
        scans = [[] for _ in range(self.n_scan)]
        body = self.body
        i = 0
        while keep_going and (trip is None or i < trip):
            check_terminate()
            outs = body([np.array(i, dtype=np.int64), cond_in] + carried, outer)
            cond_out = outs[0]
            carried = list(outs[1:1 + n])
            for k in range(self.n_scan):
                scans[k].append(outs[1 + n + k])
            # like onnxruntime, the body's condition output is honoured in every mode
            keep_going = scalar_bool(cond_out, "Loop body condition output")
            cond_in = np.array(keep_going)
            i += 1
        results = carried
        for k in range(self.n_scan):
            if scans[k]:
                results.append(stack(scans[k], 0, f"Loop scan output {k}"))
            else:
                results.append(empty_output(self.scan_values[k], 0, f"Loop scan output {k}"))
        return arrays(results)
