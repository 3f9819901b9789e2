"""A one-line progress report on stderr for the long-running commands (`eval --snapshots`,
`backtest`, `diff`): shown only on a terminal, so logs and pipes stay clean."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TextIO


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """A one-line progress report on a terminal: lines done, rate and, for a file, how far
    through it we are. Hand-written (a dozen lines) rather than a dependency; redrawn at most
    ten times a second so it costs nothing next to the work."""

    def __init__(self, stream: TextIO, size: int | None) -> None:
        self.stream = stream
        self.size = size  # of the input, in bytes, when it is a file
        self.lines = 0
        self.read = 0  # characters read so far (at most the bytes: the percentage stays honest)
        self.started = time.monotonic()
        self.drawn = 0.0

    def reading(self, lines: Iterable[str]) -> Iterator[str]:
        """`lines`, counting how much of the input has been read."""
        for line in lines:
            self.read += len(line)
            yield line

    def advance(self, lines: int = 1) -> None:
        self.lines += lines
        now = time.monotonic()
        if now - self.drawn >= 0.1:
            self.drawn = now
            self.draw(now)

    def draw(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        done = f"  {min(self.read / self.size, 1):4.0%}" if self.size else ""
        self.stream.write(
            f"\r\x1b[K{self.lines:,} customers{done}  {self.lines / elapsed:,.0f}/s  {elapsed:.0f}s"
        )
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r\x1b[K")

    def finish(self) -> None:
        self.draw(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()
