"""The suite's table (latency per thread setting, init, memory, agreement) and its summary
against each group's targets. Every timing column names the thread setting it was taken at."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from .suite import TARGETS, SuiteModel


@dataclass
class Entry:
    """One suite model's results, by thread setting (0: each runtime's default)."""

    model: SuiteModel
    results: Dict[int, object] = field(default_factory=dict)
    skipped: Optional[str] = None  # why it was not run (e.g. the model file is missing)


def setting_name(threads: int) -> str:
    if threads == 0:
        return "default threads"
    return "1 thread" if threads == 1 else f"{threads} threads"


def tag(threads: int) -> str:
    """The short form in column headers: ``@default``, ``@1 thread``, ``@N threads``."""
    return "@" + ("default" if threads == 0 else setting_name(threads))


def legend(settings: List[int]) -> str:
    """What the column tags mean."""
    parts = [f"{tag(t)}: " + ("no intra_op_num_threads set on either runtime (each "
                              "runtime's default)" if t == 0 else
                              f"intra_op_num_threads={t} on both") for t in settings]
    return "; ".join(parts)


def geomean(values: List[float]) -> Optional[float]:
    vals = [v for v in values if v and v > 0 and math.isfinite(v)]
    return math.exp(sum(math.log(v) for v in vals) / len(vals)) if vals else None


def _ms(t: Optional[float]) -> str:
    return "-" if t is None else f"{t * 1e3:.2f}" if t < 1e-2 else f"{t * 1e3:.1f}" \
        if t < 10 else f"{t * 1e3:.0f}"


def _mb(b: Optional[int]) -> str:
    return "-" if b is None else f"{b / 2 ** 20:.0f}"


def _x(r: Optional[float]) -> str:
    return "-" if r is None else f"{r:.2f}"


def _diff(d: Optional[float]) -> str:
    return "-" if d is None else f"{d:.1e}"


def header(settings: List[int]) -> List[str]:
    cols = ["model", "runs"]
    for t in settings:
        s = tag(t)
        cols += [f"onnxrun ms {s}", f"ort ms {s}", f"ratio {s}"]
    s = tag(settings[0])
    return cols + [f"init onnxrun ms {s}", f"init ort ms {s}", "init ratio",
                   f"peak onnxrun MB {s}", f"peak ort MB {s}", "mem ratio", "max abs diff"]


def row(entry: Entry, settings: List[int]) -> List[str]:
    m = entry.model
    width = len(header(settings)) - 1
    if entry.skipped:
        return [m.name, "skipped"] + [""] * (width - 1)
    first = entry.results.get(settings[0])
    runs = len(first.ours) if first is not None else 0
    cells = [m.name, f"{runs} calls" if m.stream else str(runs)]
    for t in settings:
        r = entry.results.get(t)
        if r is None or r.error:
            cells += ["fails (expected)" if m.expect_fail else "error", "", ""]
        else:
            cells += [_ms(r.median_ours), _ms(r.median_theirs), _x(r.ratio)]
    if first is None or first.error:
        return cells + [""] * 7
    return cells + [_ms(first.init_ours), _ms(first.init_theirs), _x(first.init_ratio),
                    _mb(first.peak_ours), _mb(first.peak_theirs), _x(first.memory_ratio),
                    _diff(first.max_abs_diff)]


def table(head: List[str], rows: List[List[str]]) -> str:
    """A Markdown table (pastes into docs as is)."""
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), sep] + [line(r) for r in rows])


def suite_table(entries: List[Entry], settings: List[int]) -> str:
    return table(header(settings), [row(e, settings) for e in entries])


def single_table(r) -> str:
    """The one-model table of ``onnxrun bench MODEL``."""
    m = SuiteModel(r.name, lambda log=None: r.model, len(r.ours), "file")
    return suite_table([Entry(m, {r.threads: r})], [r.threads])


def _over(pairs, limit) -> str:
    return ", ".join(f"{n} {v:.2f}" for n, v in pairs if v > limit) or "none"


def _counted(entries: List[Entry]) -> List[Entry]:
    return [e for e in entries if not e.skipped and not e.model.diagnostic]


def summary(entries: List[Entry], settings: List[int]) -> List[str]:
    """Per group and thread setting: geometric mean and worst latency ratio against the
    targets; per group: init and memory ratios (first setting) and per-node overhead; then
    skipped models, errors and notes."""
    lines = []
    groups = [g for g in TARGETS if any(e.model.group == g for e in entries)]
    for g in groups:
        tg = TARGETS[g]
        mine = [e for e in _counted(entries) if e.model.group == g]
        for t in settings:
            ok = [(e.model, e.results[t]) for e in mine
                  if t in e.results and not e.results[t].error and e.results[t].ratio]
            label = f"[{g}, {setting_name(t)}]"
            gm = geomean([r.ratio for _, r in ok])
            lines.append(f"{label} geometric mean of latency ratios (onnxrun/onnxruntime) over "
                         f"{len(ok)} models: {_x(gm)}  (target <= {tg.geomean}: "
                         f"{'met' if gm is not None and gm <= tg.geomean else 'not met'})")
            plain = [(m.name, r.ratio) for m, r in ok if not m.stream]
            if plain:
                worst = max(plain, key=lambda p: p[1])
                lines.append(f"{label} worst ratio: {worst[0]} {worst[1]:.2f}  (target: none "
                             f"above {tg.max_ratio}; above: {_over(plain, tg.max_ratio)})")
            streams = [(m.name, r.ratio) for m, r in ok if m.stream]
            if streams and tg.stream:
                lines.append(f"{label} per-call ratio of stream models: "
                             + ", ".join(f"{n} {v:.2f}" for n, v in streams)
                             + f"  (target <= {tg.stream}; above: {_over(streams, tg.stream)})")
        first = [(e.model, e.results.get(settings[0])) for e in mine]
        first = [(m, r) for m, r in first if r is not None and not r.error]
        s = setting_name(settings[0])
        inits = [(m.name, r.init_ratio) for m, r in first if r.init_ratio]
        lines.append(f"[{g}] init time ratio ({s}), geometric mean: "
                     f"{_x(geomean([v for _, v in inits]))}  (target <= {tg.init} per model; "
                     f"above: {_over(inits, tg.init)})")
        mems = [(m.name, r.memory_ratio) for m, r in first if r.memory_ratio]
        if mems:
            lines.append(f"[{g}] peak memory ratio ({s}), geometric mean: "
                         f"{_x(geomean([v for _, v in mems]))}  (target <= {tg.memory} per "
                         f"model; above: {_over(mems, tg.memory)})")
        if tg.node_us:
            lines += _per_node([e for e in entries if e.model.group == g], settings, tg.node_us)
    lines += _problems(entries, settings)
    return lines


def _per_node(entries: List[Entry], settings: List[int], target: float) -> List[str]:
    lines = []
    for e in entries:
        if not e.model.per_node:
            continue
        for t in settings:
            r = e.results.get(t)
            if r is None or r.error or not r.nodes or not r.median_ours:
                continue
            us = lambda v: f"{v / r.nodes * 1e6:.2f}"  # noqa: E731
            theirs = (f"{us(r.median_theirs)} us (fastest run {us(min(r.theirs))})"
                      if r.theirs else "-")
            lines.append(f"per-node overhead ({r.name}, {setting_name(t)}, {r.nodes} nodes in "
                         f"the file, level {r.level}, latency / nodes): onnxrun "
                         f"{us(r.median_ours)} us (fastest run {us(min(r.ours))}), onnxruntime "
                         f"{theirs}  (target <= {target} us)")
    return lines


def _problems(entries: List[Entry], settings: List[int]) -> List[str]:
    lines = []
    for e in entries:
        name = e.model.name
        if e.skipped:
            lines.append(f"{name}: skipped: {e.skipped}")
            continue
        for t in settings:
            r = e.results.get(t)
            if r is None:
                continue
            if r.error:
                expected = f" (expected: {e.model.expect_fail})" if e.model.expect_fail else ""
                lines.append(f"{name} ({setting_name(t)}): {r.error}{expected}")
            elif r.max_abs_diff is not None and r.max_abs_diff > e.model.tolerance:
                lines.append(f"{name} ({setting_name(t)}): outputs disagree, max abs diff "
                             f"{r.max_abs_diff:.3g} (tolerance {e.model.tolerance:g})")
            for n in r.notes:
                lines.append(f"{name} ({setting_name(t)}): {n}")
    return lines
