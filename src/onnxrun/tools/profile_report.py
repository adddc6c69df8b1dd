"""Profiles from tracing: time by op type, slowest nodes, as text, HTML (inline SVG) or PNG.

    from onnxrun.tools.profile_report import profile_model
    report = profile_model("model.onnx", runs=10)
    print(report.text())
    open("profile.html", "w").write(report.html())

Times are those of the kernels (the executor's per-node clock), averaged over the runs; the
first (warm-up) run is not counted unless ``warmup=0``.
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass, field
from typing import Dict, List, Optional

__all__ = ["ProfileReport", "OpTime", "NodeTime", "profile_model", "report_from_records"]


@dataclass
class OpTime:
    op_type: str
    total_ms: float  # per run
    count: int  # nodes of this type per run
    percent: float


@dataclass
class NodeTime:
    name: str
    op_type: str
    provider: str
    ms: float  # mean per run
    output_shapes: list


@dataclass
class ProfileReport:
    model: str
    runs: int
    by_op: List[OpTime]
    nodes: List[NodeTime]  # every main-graph node, slowest first
    wall_ms: List[float] = field(default_factory=list)  # each run's wall time
    top: int = 10

    @property
    def total_ms(self) -> float:
        return sum(o.total_ms for o in self.by_op)

    def text(self) -> str:
        """Two aligned tables: time by op type and the slowest nodes."""
        from .table import format_table
        lines = [f"model: {self.model}", f"runs: {self.runs}, kernel time per run: "
                 f"{self.total_ms:.3f} ms" + (f", wall time per run: {_mean(self.wall_ms):.3f} ms"
                                              if self.wall_ms else ""), ""]
        rows = [[o.op_type, f"{o.total_ms:.3f}", f"{o.percent:.1f}%", o.count,
                 f"{o.total_ms / max(o.count, 1):.3f}"] for o in self.by_op]
        lines.append("time by op type:")
        lines.append(format_table(rows, ["op", "total ms", "%", "count", "ms/node"],
                                  "lrrrr", "  "))
        lines.append("")
        lines.append(f"{min(self.top, len(self.nodes))} slowest nodes:")
        rows = [[n.name or "(unnamed)", n.op_type, n.provider, f"{n.ms:.3f}",
                 f"{100 * n.ms / self.total_ms:.1f}%" if self.total_ms else "-",
                 _shapes(n.output_shapes)] for n in self.nodes[:self.top]]
        lines.append(format_table(rows, ["node", "op", "provider", "ms", "%", "outputs"],
                                  "lllrrl", "  "))
        return "\n".join(lines)

    def svg(self, width: int = 720) -> str:
        """A horizontal bar chart of time by op type (standalone SVG markup)."""
        bar_h, gap, left, right, top = 20, 6, 170, 150, 30
        items = self.by_op
        height = top + len(items) * (bar_h + gap) + 20
        biggest = max([o.total_ms for o in items] + [1e-12])
        span = width - left - right
        esc = _html.escape
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                 f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
                 f'<text x="{left}" y="18" font-weight="bold">time per run by op type (ms)</text>']
        for i, o in enumerate(items):
            y = top + i * (bar_h + gap)
            w = max(1.0, span * o.total_ms / biggest)
            hue = (i * 47) % 360
            parts.append(f'<text x="{left - 8}" y="{y + bar_h * 0.7:.1f}" text-anchor="end">'
                         f'{esc(o.op_type)}</text>')
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                         f'fill="hsl({hue},55%,55%)"><title>{esc(o.op_type)}: '
                         f'{o.total_ms:.3f} ms, {o.count} nodes</title></rect>')
            parts.append(f'<text x="{left + w + 6:.1f}" y="{y + bar_h * 0.7:.1f}">'
                         f'{o.total_ms:.3f} ms ({o.percent:.1f}%, {o.count}x)</text>')
        parts.append("</svg>")
        return "\n".join(parts)

    def html(self) -> str:
        """A self-contained HTML page: summary, bar chart (inline SVG), tables. No scripts."""
        esc = _html.escape
        op_rows = "\n".join(
            f"<tr><td>{esc(o.op_type)}</td><td>{o.total_ms:.3f}</td><td>{o.percent:.1f}%</td>"
            f"<td>{o.count}</td></tr>" for o in self.by_op)
        node_rows = "\n".join(
            f"<tr><td>{esc(n.name or '(unnamed)')}</td><td>{esc(n.op_type)}</td>"
            f"<td>{esc(n.provider)}</td><td>{n.ms:.3f}</td>"
            f"<td>{esc(_shapes(n.output_shapes))}</td></tr>" for n in self.nodes[:self.top])
        wall = f", wall time per run {_mean(self.wall_ms):.3f} ms" if self.wall_ms else ""
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"/>
<title>onnxrun profile: {esc(self.model)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 2em; }}
th, td {{ border: 1px solid #ccc; padding: 3px 8px; }}
td:not(:first-child) {{ text-align: right; }}
th {{ background: #eee; }}
</style></head>
<body>
<h1>onnxrun profile</h1>
<p>model: <code>{esc(self.model)}</code><br/>
{self.runs} runs, kernel time per run {self.total_ms:.3f} ms{wall}</p>
{self.svg()}
<h2>Time by op type (per run)</h2>
<table><tr><th>op</th><th>total ms</th><th>%</th><th>count</th></tr>
{op_rows}
</table>
<h2>{min(self.top, len(self.nodes))} slowest nodes</h2>
<table><tr><th>node</th><th>op</th><th>provider</th><th>ms</th><th>outputs</th></tr>
{node_rows}
</table>
</body></html>
"""

    def png(self, path: str) -> None:
        """A bar chart PNG; needs matplotlib (ImportError with a clear message otherwise)."""
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError as exc:
            raise ImportError("--png needs matplotlib (pip install matplotlib); "
                              "use --html for a chart without it") from exc
        items = list(reversed(self.by_op))
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(items) + 1.2))
        ax.barh([o.op_type for o in items], [o.total_ms for o in items], color="#4a90c2")
        ax.set_xlabel("ms per run")
        ax.set_title(f"onnxrun: time by op type ({self.runs} runs)")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)


def _mean(xs) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def _shapes(shapes) -> str:
    return " ".join("[" + ",".join(map(str, s)) + "]" if s is not None else "-" for s in shapes)


def report_from_records(records, runs: int, model: str = "", top: int = 10,
                        wall_ms: Optional[List[float]] = None) -> ProfileReport:
    """Aggregate :class:`onnxrun.tools.tracing.TraceRecord` s of ``runs`` runs (main graph only;
    subgraph nodes are inside their If/Loop/Scan node's time)."""
    runs = max(int(runs), 1)
    ops: Dict[str, List[float]] = {}
    per_node: Dict[tuple, NodeTime] = {}
    for r in records:
        if r.depth:
            continue
        t = ops.setdefault(r.op_type, [0.0, 0])
        t[0] += r.duration
        t[1] += 1
        key = (r.name, r.op_type, tuple(r.output_names))
        nt = per_node.get(key)
        if nt is None:
            per_node[key] = NodeTime(r.name, r.op_type, r.provider, r.duration * 1e3 / runs,
                                     list(r.output_shapes))
        else:
            nt.ms += r.duration * 1e3 / runs
    total = sum(t for t, _ in ops.values()) or 1e-12
    by_op = sorted((OpTime(k, t * 1e3 / runs, round(c / runs), 100.0 * t / total)
                    for k, (t, c) in ops.items()), key=lambda o: -o.total_ms)
    nodes = sorted(per_node.values(), key=lambda n: -n.ms)
    return ProfileReport(model, runs, by_op, nodes, list(wall_ms or []), top)


def profile_model(model, runs: int = 10, warmup: int = 1, feeds=None, dims=None, seed: int = 0,
                  level: str = "all", session_options=None, top: int = 10) -> ProfileReport:
    """Run ``model`` (path, bytes, ModelProto or an InferenceSession) ``warmup + runs`` times
    with a :class:`~onnxrun.tools.tracing.Tracer` and aggregate the timed runs."""
    import time

    import onnxrun
    from ..cli.inputs import make_feeds
    from .tracing import Tracer
    if isinstance(model, onnxrun.InferenceSession):
        sess, name = model, "(session)"
    else:
        name = model if isinstance(model, str) else "(in memory)"
        if not isinstance(model, (str, bytes, bytearray)):
            model = model.SerializeToString()
        opts = session_options or onnxrun.SessionOptions()
        if session_options is None:
            opts.graph_optimization_level = {"disable": 0, "basic": 1, "extended": 2,
                                             "all": 99}[level]
        sess = onnxrun.InferenceSession(model, opts)
    given = dict(feeds or {})
    all_feeds = {**make_feeds(_Missing(sess, given), {}, dict(dims or {}), seed), **given}
    for _ in range(max(int(warmup), 0)):
        sess.run(None, all_feeds)
    tracer = Tracer(include_subgraphs=False)
    ro = onnxrun.RunOptions()
    ro.hooks.append(tracer)
    walls = []
    for _ in range(max(int(runs), 1)):
        t0 = time.perf_counter()
        sess.run(None, all_feeds, ro)
        walls.append((time.perf_counter() - t0) * 1e3)
    return report_from_records(tracer.records, max(int(runs), 1), name, top, walls)


class _Missing:
    def __init__(self, sess, given) -> None:
        self._inputs = [a for a in sess.get_inputs() if a.name not in given]

    def get_inputs(self):
        return self._inputs
