"""A static cost model of plan steps, for the parallel executor's decisions at initialization.

Each step's cost is estimated in seconds from the shapes known at init: multiply-adds of
convolutions and matrix products at BLAS speed, elements touched by everything else at memory
speed, plus a fixed per-node overhead. The numbers only need to rank steps and tell a graph
whose branches can overlap from one that is a chain; they are not a latency prediction.
"""

from __future__ import annotations

import math
from typing import List, Optional, Sequence

from ..ir.graph import Node, Value
from ..ir.types import TensorType

#: rough speeds on one core: multiply-adds per second in BLAS, elements per second elsewhere
MACS_PER_S = 30e9
ELEMS_PER_S = 1e9
#: fixed cost of running one node (Python call, argument gathering)
NODE_OVERHEAD_S = 2e-6


def _shape(v: Optional[Value]) -> Optional[Sequence[int]]:
    if v is None:
        return None
    if v.const is not None:
        return v.const.shape
    t = v.type
    if isinstance(t, TensorType) and t.shape is not None and \
            all(isinstance(d, int) for d in t.shape):
        return t.shape
    return None


def _numel(v: Optional[Value]) -> int:
    s = _shape(v)
    return math.prod(s) if s is not None else 0


def _macs(node: Node) -> int:
    """Multiply-adds of Conv / MatMul / Gemm style nodes (0 when unknown or another op)."""
    op = node.op_type
    if op in ("Conv", "FusedConv") and len(node.inputs) > 1:
        w = _shape(node.inputs[1])
        if w is None:
            return 0
        # every output element takes Cin/group * kernel-area multiply-adds: W's size / Cout
        return _numel(node.outputs[0]) * (math.prod(w[1:]) if len(w) > 1 else 1)
    if op in ("MatMul", "FusedMatMul", "Gemm") and len(node.inputs) > 1:
        a = _shape(node.inputs[0])
        if a is None or not a:
            return 0
        k = a[-1]
        if op == "Gemm" and node.attrs.get("transA", 0) and len(a) == 2:
            k = a[0]
        return _numel(node.outputs[0]) * k
    return 0


def step_cost(node: Node) -> float:
    """Estimated seconds for one run of ``node``."""
    elems = sum(_numel(v) for v in node.inputs if v is not None and v.const is None)
    elems += sum(_numel(v) for v in node.outputs if v is not None)
    return NODE_OVERHEAD_S + _macs(node) / MACS_PER_S + elems / ELEMS_PER_S


def critical_path(costs: List[float], deps: List[List[int]]) -> List[float]:
    """For each step (in plan order), the cost of the longest path from it to the end."""
    users: List[List[int]] = [[] for _ in costs]
    for k, ds in enumerate(deps):
        for d in ds:
            users[d].append(k)
    tail = [0.0] * len(costs)
    for k in range(len(costs) - 1, -1, -1):
        tail[k] = costs[k] + max((tail[u] for u in users[k]), default=0.0)
    return tail


def parallel_gain(costs: List[float], deps: List[List[int]], workers: int) -> float:
    """Upper bound of the speedup ``workers`` threads can reach: total / max(longest path,
    total / workers)."""
    total = sum(costs)
    if total <= 0 or workers <= 1:
        return 1.0
    longest = max(critical_path(costs, deps), default=0.0)
    return total / max(longest, total / workers)
