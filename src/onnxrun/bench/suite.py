"""The models of ``onnxrun bench --suite`` and the table it prints."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

#: targets the suite reports against (docs/benchmarks.md)
TARGET_GEOMEAN = 1.5
TARGET_MAX_RATIO = 3.0
TARGET_NODE_US = 2.0
TARGET_INIT_RATIO = 2.0
TARGET_MEMORY_RATIO = 1.5


@dataclass
class SuiteModel:
    """One suite entry: where its file comes from and how many timed runs it gets by default."""

    name: str
    path: Callable[[], str]
    runs: int
    kind: str  # "light" (the onnx package's light models) or "generated"
    per_node: bool = False  # report latency / node count (the overhead model)
    dims: Optional[Dict[str, int]] = None
    level: Optional[str] = None  # optimization level for both runtimes (None: --level)
    diagnostic: bool = False  # shown, but not in the means and targets


def _light(name: str) -> Callable[[], str]:
    def path() -> str:
        import onnx
        p = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light",
                         f"light_{name}.onnx")
        if not os.path.exists(p):
            raise FileNotFoundError(f"{p} (the installed onnx package has no light models)")
        return p
    return path


def _generated(name: str) -> Callable[[], str]:
    def path() -> str:
        from .models import ensure
        return ensure(name)
    return path


SUITE: List[SuiteModel] = [
    SuiteModel("resnet50", _light("resnet50"), 10, "light"),
    SuiteModel("vgg19", _light("vgg19"), 5, "light"),
    SuiteModel("densenet121", _light("densenet121"), 10, "light"),
    SuiteModel("inception_v1", _light("inception_v1"), 10, "light"),
    SuiteModel("inception_v2", _light("inception_v2"), 10, "light"),
    SuiteModel("squeezenet", _light("squeezenet"), 20, "light"),
    SuiteModel("shufflenet", _light("shufflenet"), 20, "light"),
    SuiteModel("bvlc_alexnet", _light("bvlc_alexnet"), 10, "light"),
    SuiteModel("zfnet512", _light("zfnet512"), 10, "light"),
    SuiteModel("bert_base", _generated("bert_base"), 10, "generated"),
    SuiteModel("gpt2_small", _generated("gpt2_small"), 5, "generated"),
    SuiteModel("mobilenet_v2", _generated("mobilenet_v2"), 20, "generated"),
    SuiteModel("lstm", _generated("lstm"), 20, "generated"),
    SuiteModel("detector", _generated("detector"), 20, "generated"),
    SuiteModel("elementwise_1000", _generated("elementwise_1000"), 50, "generated",
               per_node=True),
    # the same model with no graph optimization in either runtime: 1,000 nodes really run,
    # so latency / nodes is the executor's per-node overhead (the fused model above runs one
    # ElementwiseChain node)
    SuiteModel("elementwise_1000_unfused", _generated("elementwise_1000"), 50, "generated",
               per_node=True, level="disable", diagnostic=True),
    SuiteModel("random_forest", _generated("random_forest"), 10, "generated",
               dims={"N": 10_000}),
]


def select(only: Optional[List[str]]) -> List[SuiteModel]:
    if not only:
        return list(SUITE)
    known = {m.name: m for m in SUITE}
    unknown = [n for n in only if n not in known]
    if unknown:
        raise ValueError(f"--only: unknown suite models {unknown} (known: {sorted(known)})")
    return [known[n] for n in only]


def _ms(t: Optional[float]) -> str:
    return "-" if t is None else f"{t * 1e3:.1f}" if t < 10 else f"{t * 1e3:.0f}"


def _mb(b: Optional[int]) -> str:
    return "-" if b is None else f"{b / 2 ** 20:.0f}"


def _x(r: Optional[float]) -> str:
    return "-" if r is None else f"{r:.2f}"


def _diff(d: Optional[float]) -> str:
    return "-" if d is None else f"{d:.1e}"


HEADER = ["model", "runs", "onnxrun ms", "ort ms", "ratio", "init onnxrun ms", "init ort ms",
          "init ratio", "peak onnxrun MB", "peak ort MB", "mem ratio", "max abs diff"]


def row(r) -> List[str]:
    if r.error:
        return [r.name, str(len(r.ours)), "error", "", "", "", "", "", "", "", "", ""]
    return [r.name, str(len(r.ours)), _ms(r.median_ours), _ms(r.median_theirs), _x(r.ratio),
            _ms(r.init_ours), _ms(r.init_theirs), _x(r.init_ratio), _mb(r.peak_ours),
            _mb(r.peak_theirs), _x(r.memory_ratio), _diff(r.max_abs_diff)]


def table(rows: List[List[str]]) -> str:
    """A Markdown table (pastes into docs as is)."""
    widths = [max(len(str(x)) for x in col) for col in zip(HEADER, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(HEADER), sep] + [line(r) for r in rows])


def geomean(values: List[float]) -> Optional[float]:
    vals = [v for v in values if v and v > 0 and math.isfinite(v)]
    return math.exp(sum(math.log(v) for v in vals) / len(vals)) if vals else None


def summary(results, per_node_models, diagnostic=frozenset()) -> List[str]:
    """Geometric means, per-node overhead and the targets, one line each; ``diagnostic``
    models are left out of the means and targets."""
    measured = [r for r in results if not r.error]
    ok = [r for r in measured if r.name not in diagnostic]
    lines = []
    ratios = [r.ratio for r in ok if r.ratio]
    g = geomean(ratios)
    lines.append(f"geometric mean of latency ratios (onnxrun/onnxruntime) over {len(ratios)} "
                 f"models: {_x(g)}  (target <= {TARGET_GEOMEAN})")
    worst = max(ok, key=lambda r: r.ratio or 0, default=None)
    if worst is not None and worst.ratio:
        over = [r.name for r in ok if r.ratio and r.ratio > TARGET_MAX_RATIO]
        lines.append(f"worst ratio: {worst.name} {worst.ratio:.2f}  (target: none above "
                     f"{TARGET_MAX_RATIO}; above: {', '.join(over) or 'none'})")
    gi = geomean([r.init_ratio for r in ok if r.init_ratio])
    over = [r.name for r in ok if r.init_ratio and r.init_ratio > TARGET_INIT_RATIO]
    lines.append(f"init time ratio, geometric mean: {_x(gi)}  (target <= {TARGET_INIT_RATIO} "
                 f"per model; above: {', '.join(over) or 'none'})")
    gm = geomean([r.memory_ratio for r in ok if r.memory_ratio])
    over = [r.name for r in ok if r.memory_ratio and r.memory_ratio > TARGET_MEMORY_RATIO]
    lines.append(f"peak memory ratio, geometric mean: {_x(gm)}  (target <= "
                 f"{TARGET_MEMORY_RATIO} per model; above: {', '.join(over) or 'none'})")
    for r in measured:
        if r.name in per_node_models and r.nodes and r.median_ours:
            ours = r.median_ours / r.nodes * 1e6
            theirs = (r.median_theirs / r.nodes * 1e6) if r.median_theirs else None
            best = min(r.ours) / r.nodes * 1e6
            best_theirs = min(r.theirs) / r.nodes * 1e6 if r.theirs else None
            lines.append(f"per-node overhead ({r.name}, {r.nodes} nodes in the file, level "
                         f"{r.level}, latency / nodes): "
                         f"onnxrun {ours:.2f} us (fastest run {best:.2f}), onnxruntime "
                         f"{'-' if theirs is None else f'{theirs:.2f}'} us (fastest run "
                         f"{'-' if best_theirs is None else f'{best_theirs:.2f}'})  "
                         f"(target <= {TARGET_NODE_US} us)")
    bad = [r for r in measured if r.max_abs_diff is not None and r.max_abs_diff > 1e-2]
    if bad:
        lines.append("outputs disagree (max abs diff > 1e-2): "
                     + ", ".join(f"{r.name} {r.max_abs_diff:.3g}" for r in bad))
    for r in results:
        if r.error:
            lines.append(f"{r.name}: {r.error}")
        for n in r.notes:
            lines.append(f"{r.name}: {n}")
    return lines
