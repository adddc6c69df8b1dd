"""format_table and Progress."""

import io

from onnxrun.tools.progress import Progress
from onnxrun.tools.table import format_table


def test_table_alignment():
    text = format_table([["Conv", 12.5, 3], ["Relu", 0.25, 10]], ["op", "ms", "count"])
    lines = text.splitlines()
    assert lines[0].split() == ["op", "ms", "count"] and set(lines[1]) <= {"-", " "}
    assert lines[2].endswith(" 3") and lines[3].endswith("10")
    assert len({len(ln) for ln in lines[2:]}) == 1  # right-aligned numbers: same width


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_only_on_tty():
    quiet = io.StringIO()
    with Progress(3, "x", stream=quiet) as p:
        for _ in range(3):
            p.update()
    assert quiet.getvalue() == ""
    tty = _Tty()
    p = Progress(4, "nodes", stream=tty)
    p.update(4)
    p.close()
    out = tty.getvalue()
    assert "nodes" in out and "4/4" in out and out.endswith("\n")
