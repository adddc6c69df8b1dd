"""Scan: iterate a body subgraph over slices of scan inputs, carrying state (opset 8 with a
batch axis and sequence_lens; opset 9+ with per-input/output axes and directions)."""

from __future__ import annotations

from typing import List

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel
from ..registry import kernel
from ._common import arrays, check_terminate, normalize_axis, stack, static_element


def _int_list(value, n: int, default: int, what: str) -> List[int]:
    if value is None or len(value) == 0:
        return [default] * n
    if len(value) != n:
        raise InvalidArgument(f"Scan attribute {what} has {len(value)} entries, expected {n}")
    return [int(v) for v in value]


def _directions(value, n: int, what: str) -> List[int]:
    dirs = _int_list(value, n, 0, what)
    for d in dirs:
        if d not in (0, 1):
            raise InvalidArgument(f"Scan attribute {what} must hold 0 (forward) or 1 (reverse), "
                                  f"got {d}")
    return dirs


class _ScanBase(OpKernel):
    def __init__(self, info) -> None:
        super().__init__(info)
        self.body = info.subgraph("body")
        self.m = int(info.require_attr("num_scan_inputs"))
        n_body_in = len(self.body.input_names)
        self.n_state = n_body_in - self.m
        if self.m < 1 or self.n_state < 0:
            raise InvalidArgument(f"Scan num_scan_inputs={self.m} does not fit a body with "
                                  f"{n_body_in} inputs")
        self.k = len(self.body.output_names) - self.n_state
        if self.k < 0:
            raise InvalidArgument(f"Scan body has {len(self.body.output_names)} outputs, fewer "
                                  f"than its {self.n_state} state variables")
        self.scan_values = self.body.graph.outputs[self.n_state:]
        if info.num_outputs > self.n_state + self.k:
            raise InvalidArgument(f"Scan node has {info.num_outputs} outputs, its body produces "
                                  f"{self.n_state} states and {self.k} scan outputs")


@kernel("Scan", since=9)
class Scan(_ScanBase):
    """``Scan(*initial_states, *scan_inputs, *outer)`` -> final states, then scan outputs."""

    def __init__(self, info) -> None:
        super().__init__(info)
        m, k = self.m, self.k
        if len(info.input_names) != self.n_state + m:
            raise InvalidArgument(f"Scan has {len(info.input_names)} inputs, its body expects "
                                  f"{self.n_state} states and {m} scan inputs")
        self.in_axes = _int_list(info.attr("scan_input_axes"), m, 0, "scan_input_axes")
        self.in_dirs = _directions(info.attr("scan_input_directions"), m, "scan_input_directions")
        self.out_axes = _int_list(info.attr("scan_output_axes"), k, 0, "scan_output_axes")
        self.out_dirs = _directions(info.attr("scan_output_directions"), k,
                                    "scan_output_directions")
        self.n_explicit = len(info.input_names)

    def __call__(self, *args):
        ns, m = self.n_state, self.m
        states = list(args[:ns])
        scan_in = args[ns:ns + m]
        outer = args[self.n_explicit:]
        seqs = []
        length = None
        for j, x in enumerate(scan_in):
            if not isinstance(x, np.ndarray) or x.ndim == 0:
                raise InvalidArgument(f"Scan input {j} must be a tensor of rank >= 1")
            ax = normalize_axis(self.in_axes[j], x.ndim, f"scan_input_axes[{j}]")
            if length is None:
                length = x.shape[ax]
            elif x.shape[ax] != length:
                raise InvalidArgument(f"Scan inputs disagree on the sequence length: input {j} "
                                      f"has {x.shape[ax]} along axis {ax}, expected {length}")
            x = np.moveaxis(x, ax, 0) if ax else x
            seqs.append(x[::-1] if self.in_dirs[j] else x)
        outs_per_iter: List[list] = [[] for _ in range(self.k)]
        body = self.body
        for t in range(length):
            check_terminate()
            res = body(states + [s[t] for s in seqs], outer)
            states = list(res[:ns])
            for q in range(self.k):
                outs_per_iter[q].append(res[ns + q])
        results = states
        for q in range(self.k):
            items = outs_per_iter[q]
            if self.out_dirs[q]:
                items = items[::-1]
            if items:
                rank = items[0].ndim + 1 if isinstance(items[0], np.ndarray) else 1
                ax = normalize_axis(self.out_axes[q], rank, f"scan_output_axes[{q}]")
                results.append(stack(items, ax, f"Scan output {q}"))
            else:
                results.append(self._empty(q))
        return arrays(results)

    def _empty(self, q: int) -> np.ndarray:
        dtype, shape = static_element(self.scan_values[q], f"Scan output {q}")
        if shape is None:
            return np.zeros((0,), dtype=dtype)
        ax = normalize_axis(self.out_axes[q], len(shape) + 1, f"scan_output_axes[{q}]")
        shape = list(shape)
        shape.insert(ax, 0)
        return np.zeros(shape, dtype=dtype)


@kernel("Scan", since=8, until=8)
class Scan8(_ScanBase):
    """Opset 8 ``Scan(sequence_lens, *initial_states, *scan_inputs, *outer)``: axis 0 of every
    input is the batch axis, axis 1 of scan inputs the sequence axis. Scan outputs of shorter
    sequences are padded with zeros up to the longest."""

    def __init__(self, info) -> None:
        super().__init__(info)
        if len(info.input_names) != 1 + self.n_state + self.m:
            raise InvalidArgument(f"Scan has {len(info.input_names)} inputs, expected "
                                  f"sequence_lens, {self.n_state} states and {self.m} scan "
                                  "inputs")
        self.dirs = _directions(info.attr("directions"), self.m, "directions")
        self.n_explicit = len(info.input_names)

    def __call__(self, sequence_lens, *args):
        ns, m = self.n_state, self.m
        init = args[:ns]
        scan_in = args[ns:ns + m]
        outer = args[self.n_explicit - 1:]
        batch = max_len = None
        for j, x in enumerate(list(scan_in) + list(init)):
            if not isinstance(x, np.ndarray) or x.ndim < (2 if j < m else 1):
                raise InvalidArgument(f"Scan (opset 8) inputs need a batch axis; scan inputs "
                                      f"also a sequence axis (input {j})")
            if batch is None:
                batch = x.shape[0]
            elif x.shape[0] != batch:
                raise InvalidArgument(f"Scan inputs disagree on the batch size: {x.shape[0]} "
                                      f"vs {batch}")
            if j < m:
                if max_len is None:
                    max_len = x.shape[1]
                elif x.shape[1] != max_len:
                    raise InvalidArgument(f"Scan inputs disagree on the sequence length: "
                                          f"{x.shape[1]} vs {max_len}")
        if sequence_lens is None:
            lens = [max_len] * batch
        else:
            lens = [int(v) for v in np.asarray(sequence_lens).reshape(-1)]
            if len(lens) != batch:
                raise InvalidArgument(f"Scan sequence_lens has {len(lens)} entries, expected "
                                      f"the batch size {batch}")
            for n in lens:  # onnxruntime refuses empty sequences too
                if not 1 <= n <= max_len:
                    raise InvalidArgument(f"Scan sequence_lens value {n} is outside "
                                          f"[1, {max_len}]")
        body = self.body
        final_states: List[list] = [[] for _ in range(ns)]
        scan_out: List[list] = [[] for _ in range(self.k)]
        for b in range(batch):
            states = [s[b] for s in init]
            n = lens[b]
            per_iter: List[list] = [[] for _ in range(self.k)]
            for t in range(n):
                check_terminate()
                elems = [x[b, n - 1 - t] if self.dirs[j] else x[b, t]
                         for j, x in enumerate(scan_in)]
                res = body(states + elems, outer)
                states = list(res[:ns])
                for q in range(self.k):
                    per_iter[q].append(res[ns + q])
            for i in range(ns):
                final_states[i].append(states[i])
            for q in range(self.k):
                scan_out[q].append(self._pad(per_iter[q], max_len, q))
        results = [stack(v, 0, f"Scan final state {i}") if v else np.asarray(init[i]).copy()
                   for i, v in enumerate(final_states)]
        for q in range(self.k):
            if scan_out[q]:
                results.append(stack(scan_out[q], 0, f"Scan output {q}"))
            else:
                dtype, shape = static_element(self.scan_values[q], f"Scan output {q}")
                results.append(np.zeros((0, max_len or 0) + tuple(shape or ()), dtype=dtype))
        return arrays(results)

    def _pad(self, items: list, max_len: int, q: int) -> np.ndarray:
        """One batch entry's scan output: per-iteration values, zero-padded to max_len."""
        if items:
            out = stack(items, 0, f"Scan output {q}")
            if len(items) < max_len:
                pad = np.zeros((max_len - len(items),) + out.shape[1:], dtype=out.dtype)
                out = np.concatenate([out, pad])
            return out
        dtype, shape = static_element(self.scan_values[q], f"Scan output {q}")
        return np.zeros((max_len,) + tuple(shape or ()), dtype=dtype)
