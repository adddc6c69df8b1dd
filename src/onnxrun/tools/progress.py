"""A progress bar on stderr, drawn only when stderr is a terminal (silent otherwise)."""

from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


class Progress:
    """``Progress(total, label)``; call ``update(n=1)`` as work is done and ``close()`` at the end.

    Usable as a context manager. Nothing is written unless the stream is a TTY, so logs and
    captured output stay clean. Redraws at most ~20 times a second.
    """

    def __init__(self, total: int, label: str = "", stream: Optional[TextIO] = None,
                 width: int = 30, enabled: Optional[bool] = None) -> None:
        self.total = max(int(total), 0)
        self.label = label
        self.count = 0
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self._start = time.perf_counter()
        self._last = 0.0
        self._closed = False

    def update(self, n: int = 1) -> None:
        """Advance by ``n`` steps."""
        self.count = min(self.count + n, self.total) if self.total else self.count + n
        now = time.perf_counter()
        if self.enabled and (now - self._last >= 0.05 or self.count >= self.total):
            self._last = now
            self._draw()

    def _draw(self) -> None:
        if self.total:
            frac = self.count / self.total
            filled = int(frac * self.width)
            bar = "#" * filled + "-" * (self.width - filled)
            text = f"{self.label} [{bar}] {self.count}/{self.total} {frac * 100:3.0f}%"
        else:
            text = f"{self.label} {self.count}"
        elapsed = time.perf_counter() - self._start
        self.stream.write(f"\r{text} {elapsed:5.1f}s")
        self.stream.flush()

    def close(self) -> None:
        """Finish the line (if anything was drawn)."""
        if self._closed:
            return
        self._closed = True
        if self.enabled:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
