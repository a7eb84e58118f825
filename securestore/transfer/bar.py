"""The progress line the command line draws on a terminal: bytes in binary units (MiB, MiB/s,
labelled as such), fitted to the terminal's width on every redraw, so a narrow or resized
terminal never wraps it into a scroll of half-lines.

Only drawn when stderr is a terminal and neither ``--quiet`` nor ``--no-progress`` is given;
stdout stays for data (``-``) and ``--json``.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from typing import Callable, Optional, TextIO

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def format_bytes(size: float) -> str:
    """``1536`` -> ``1.5 KiB``: binary units, named as binary units."""
    value = float(size)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_rate(bytes_per_second: float) -> str:
    return f"{format_bytes(bytes_per_second)}/s"


def render(label: str, done: int, total: int, seconds: float, width: int) -> str:
    """One line of at most ``width - 1`` characters (the last column would wrap on some terminals)."""
    rate = done / seconds if seconds > 0 else 0.0
    percent = f"{100 * done / total:3.0f}%" if total else "100%"
    figures = f" {percent} {format_bytes(done)}/{format_bytes(total)} {format_rate(rate)}"
    room = max(width - 1, 1)
    if len(label) + len(figures) + 12 <= room:  # room for a bar of at least 10 cells
        cells = room - len(label) - len(figures) - 3
        filled = int(cells * done / total) if total else cells
        line = f"{label} [{'#' * filled}{'.' * (cells - filled)}]{figures}"
    else:
        line = f"{label}{figures}"
    return line[:room]


class TerminalBar:
    """A progress callback ``(done, total)`` drawing :func:`render` on ``stream``."""

    def __init__(self, label: str, total: int, stream: TextIO,
                 clock: Callable[[], float] = time.monotonic,
                 width: Callable[[], int] = lambda: shutil.get_terminal_size((80, 24)).columns) -> None:
        self.label, self.total, self.stream = label, total, stream
        self._clock, self._width = clock, width
        self._started = clock()
        self._done = 0
        self._lock = threading.Lock()
        self._closed = False

    def __call__(self, done: int, total: int) -> None:
        with self._lock:
            self._done, self.total = done, total or self.total
            self._draw()

    def advance(self, amount: int) -> None:
        with self._lock:
            self._done += amount
            self._draw()

    def _draw(self) -> None:
        if self._closed:
            return
        line = render(self.label, self._done, self.total, self._clock() - self._started, self._width())
        self.stream.write("\r\x1b[K" + line)
        self.stream.flush()

    def note(self, line: str) -> None:
        """Print ``line`` above the bar (a retry, a warning), then draw the bar again."""
        with self._lock:
            self.stream.write("\r\x1b[K" + line + "\n")
            self._draw()

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._draw()
                self.stream.write("\n")
                self.stream.flush()
                self._closed = True


def progress_bar(label: str, total: int, *, enabled: bool = True,
                 stream: Optional[TextIO] = None) -> Optional[TerminalBar]:
    stream = stream if stream is not None else sys.stderr
    if not enabled or not (hasattr(stream, "isatty") and stream.isatty()):
        return None
    return TerminalBar(label, total, stream)
