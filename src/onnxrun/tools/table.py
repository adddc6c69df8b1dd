"""A small aligned-table formatter shared by the ``onnxrun`` commands."""

from __future__ import annotations

from typing import Iterable, List, Optional, Sequence


def format_table(rows: Iterable[Sequence], headers: Optional[Sequence[str]] = None,
                 align: Optional[str] = None, indent: str = "") -> str:
    """Rows as text columns separated by two spaces.

    ``align`` has one letter per column, ``l`` or ``r``; by default numbers are right-aligned and
    everything else left-aligned. Floats are shown with 4 significant digits.
    """
    rows = [[_cell(c) for c in row] for row in rows]
    width_count = max([len(r) for r in rows] + [len(headers or [])])
    if align is None:
        align = ""
        for j in range(width_count):
            col = [r[j] for r in rows if j < len(r)]
            align += "r" if col and all(_numeric(c) for c in col) else "l"
    table: List[List[str]] = ([list(headers)] if headers else []) + rows
    widths = [0] * width_count
    for r in table:
        for j, c in enumerate(r):
            widths[j] = max(widths[j], len(c))
    lines = []
    for i, r in enumerate(table):
        cells = []
        for j in range(width_count):
            c = r[j] if j < len(r) else ""
            cells.append(c.rjust(widths[j]) if align[j] == "r" else c.ljust(widths[j]))
        lines.append(indent + "  ".join(cells).rstrip())
        if headers and i == 0:
            lines.append(indent + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(c) -> str:
    if isinstance(c, float):
        return f"{c:.4g}"
    return "" if c is None else str(c)


def _numeric(text: str) -> bool:
    t = text.rstrip("%").replace(",", "").strip()
    if t in ("", "-"):
        return True
    try:
        float(t)
        return True
    except ValueError:
        return False
