"""Where onnxrun's time goes on one model: per-op-type and per-node totals over a few runs,
collected with ``RunOptions.hooks`` (one NodeEvent per node run)."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Dict, List

import numpy as np


def _shape(v) -> str:
    if isinstance(v, np.ndarray):
        return "x".join(map(str, v.shape)) or "scalar"
    if v is None:
        return "-"
    return type(v).__name__


def _attrs(node) -> str:
    keep = []
    for k in ("kernel_shape", "strides", "group", "perm", "axis", "mode", "activation"):
        if k in node.attrs:
            keep.append(f"{k}={node.attrs[k]}")
    return " ".join(keep)


def profile(sess, feeds, runs: int = 3) -> Dict[str, object]:
    """Per-op-type and per-node time of ``runs`` runs of onnxrun session ``sess``."""
    import onnxrun
    by_type: Dict[str, List[float]] = defaultdict(lambda: [0.0, 0])
    by_node: Dict[int, list] = {}

    def hook(ev) -> None:
        if ev.depth:
            return
        node = ev.node
        key = f"{node.domain + '.' if node.domain else ''}{node.op_type}"
        t = by_type[key]
        t[0] += ev.duration
        t[1] += 1
        entry = by_node.get(id(node))
        if entry is None:
            sig = ", ".join(_shape(v) for v in ev.inputs) + " -> " + ", ".join(
                _shape(v) for v in ev.outputs)
            by_node[id(node)] = [key, node.name, sig, _attrs(node), ev.duration]
        else:
            entry[4] += ev.duration

    opts = onnxrun.RunOptions()
    opts.hooks = [hook]
    t0 = time.perf_counter()
    for _ in range(runs):
        sess.run(None, feeds, opts)
    wall = (time.perf_counter() - t0) / runs
    types = sorted(((k, v[0] / runs, v[1] // runs) for k, v in by_type.items()),
                   key=lambda x: -x[1])
    nodes = sorted(by_node.values(), key=lambda x: -x[4])
    return {"wall": wall, "kernels": sum(t for _, t, _ in types), "types": types,
            "nodes": [(k, n, sig, a, t / runs) for k, n, sig, a, t in nodes]}


def report(p: Dict[str, object], top: int = 10) -> List[str]:
    """Text lines: the op types by total time, then the slowest nodes with their shapes."""
    wall, kern = p["wall"], p["kernels"]
    lines = [f"onnxrun profile: {wall * 1e3:.1f} ms per run, of which kernels "
             f"{kern * 1e3:.1f} ms; executor and hooks {max(0.0, wall - kern) * 1e3:.1f} ms"]
    lines.append(f"  {'op type':28s} {'ms/run':>9s} {'share':>6s} {'nodes':>6s} {'us/node':>8s}")
    for k, t, n in p["types"][:top]:
        lines.append(f"  {k:28s} {t * 1e3:9.2f} {t / wall * 100:5.1f}% {n:6d} "
                     f"{t / max(n, 1) * 1e6:8.1f}")
    lines.append("  slowest nodes:")
    for k, name, sig, attrs, t in p["nodes"][:top]:
        lines.append(f"  {t * 1e3:8.2f} ms  {k} {name}  {sig}  {attrs}".rstrip())
    return lines
