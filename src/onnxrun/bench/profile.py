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


def _variant(node, ev) -> str:
    """Conv flavours take very different kernels: depthwise, grouped, 1x1, other."""
    if "Conv" not in node.op_type or len(ev.inputs) < 2:
        return ""
    w = ev.inputs[1]
    group = int(node.attrs.get("group", 1) or 1)
    if not isinstance(w, np.ndarray) or w.ndim < 3:
        return ""
    if group > 1 and w.shape[1] == 1:
        return " (depthwise)"
    if group > 1:
        return " (grouped)"
    if all(k == 1 for k in w.shape[2:]):
        return " (1x1)"
    return " (" + "x".join(map(str, w.shape[2:])) + ")"


def profile(sess, feeds, runs: int = 5, nested: bool = False) -> Dict[str, object]:
    """Per-op-type and per-node time of onnxrun session ``sess`` over ``runs`` runs.

    Each node's time is its median over the runs (robust to the preemptions of a busy
    machine); an op type's time is the sum of its nodes' medians. With ``nested``, nodes
    inside subgraphs (If, Loop, Scan bodies) are listed too, marked "in subgraph"; the
    subgraph node's own line still includes them, so the shares add up to more than 100%.
    """
    import onnxrun
    by_node: Dict[int, list] = {}

    def hook(ev) -> None:
        if ev.depth and not nested:
            return
        node = ev.node
        entry = by_node.get(id(node))
        if entry is None:
            key = f"{node.domain + '.' if node.domain else ''}{node.op_type}" + _variant(node, ev)
            if ev.depth:
                key += " (in subgraph)"
            sig = ", ".join(_shape(v) for v in ev.inputs) + " -> " + ", ".join(
                _shape(v) for v in ev.outputs)
            by_node[id(node)] = [key, node.name, sig, _attrs(node), [ev.duration]]
        else:
            entry[4].append(ev.duration)

    opts = onnxrun.RunOptions()
    opts.hooks = [hook]
    walls = []
    for _ in range(max(1, runs)):
        t0 = time.perf_counter()
        sess.run(None, feeds, opts)
        walls.append(time.perf_counter() - t0)
    nodes = [(k, n, sig, a, float(np.median(ts))) for k, n, sig, a, ts in by_node.values()]
    nodes.sort(key=lambda x: -x[4])
    by_type: Dict[str, List[float]] = defaultdict(lambda: [0.0, 0])
    for k, _, _, _, t in nodes:
        by_type[k][0] += t
        by_type[k][1] += 1
    types = sorted(((k, v[0], v[1]) for k, v in by_type.items()), key=lambda x: -x[1])
    return {"wall": float(np.median(walls)), "kernels": sum(t for _, t, _ in types),
            "types": types, "nodes": nodes}


def report(p: Dict[str, object], top: int = 10) -> List[str]:
    """Text lines: the op types by total time, then the slowest nodes with their shapes."""
    wall, kern = p["wall"], p["kernels"]
    lines = [f"onnxrun profile (median per node): {wall * 1e3:.1f} ms per run (median), "
             f"kernels {kern * 1e3:.1f} ms; executor and hooks about "
             f"{max(0.0, wall - kern) * 1e3:.1f} ms"]
    lines.append(f"  {'op type':28s} {'ms/run':>9s} {'share':>6s} {'nodes':>6s} {'us/node':>8s}")
    for k, t, n in p["types"][:top]:
        lines.append(f"  {k:28s} {t * 1e3:9.2f} {t / wall * 100:5.1f}% {n:6d} "
                     f"{t / max(n, 1) * 1e6:8.1f}")
    lines.append("  slowest nodes:")
    for k, name, sig, attrs, t in p["nodes"][:top]:
        lines.append(f"  {t * 1e3:8.2f} ms  {k} {name}  {sig}  {attrs}".rstrip())
    return lines
