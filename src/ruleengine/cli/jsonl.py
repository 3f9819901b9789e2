"""`ruleengine eval --snapshots FILE.jsonl`: JSON Lines in, JSON Lines out, in input order.

Each input line is read by the same snapshot reader as `--snapshot FILE` (`snapshot_input`),
so problems are worded, and limits applied, alike; its problems come back as data and are
printed here, once. With `--jobs N` the lines go to the worker processes of
`ruleengine.engine.batch` in chunks, and each chunk's output comes back as one text.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TextIO

from ruleengine.cli.snapshot_input import problems_text, read_snapshot_text
from ruleengine.engine.batch import ordered_map, source_of, worker_engine
from ruleengine.engine.engine import Engine, compile_engine

Line = tuple[str, str | None] | None  # (stdout line, stderr text or None); None: a blank line


def evaluate_line(engine: Engine, text: str, name: str, number: int, now: datetime) -> Line:
    """One input line -> its output line, and the problems to report on stderr; None for a
    blank line, which has no output. The line is read by the command line's own snapshot
    reader, so problems are worded (and limits applied) exactly as for `--snapshot FILE`."""
    if not text.strip():
        return None
    snapshot = read_snapshot_text(engine, text, name, number)
    if isinstance(snapshot, list):
        return json.dumps({"line": number, "error": "invalid snapshot"}), problems_text(snapshot)
    return engine.evaluate(snapshot, now=now).dumps(indent=None), None


def bounded_lines(stream: TextIO, limit: int) -> Iterator[str]:
    """The lines of `stream`, none longer than `limit + 1` characters: a longer line is cut
    there and the rest of it skipped, unread into memory. The cut line is still longer than
    `limit` (characters, so at least as many bytes), which the snapshot reader refuses as too
    large, so one giant line cannot exhaust memory and the lines after it are unaffected."""
    while line := stream.readline(limit + 1):
        if len(line) > limit and not line.endswith("\n"):
            while (rest := stream.readline(limit + 1)) and not rest.endswith("\n"):
                pass  # the rest of the oversized line
        yield line


Output = tuple[str, str, int, int]
"""What some input lines give: their results (a line each), the problems to print on stderr,
how many lines were invalid, and how many results there are."""


def _output(lines: Iterable[Line]) -> Output:
    results: list[str] = []
    problems: list[str] = []
    for line in lines:
        if line is None:
            continue
        result, problem = line
        results.append(result + "\n")
        if problem is not None:
            problems.append(problem)
    return "".join(results), "".join(problems), len(problems), len(results)


def _lines_chunk(name: str, now: datetime, items: list[tuple[int, str]]) -> list[Output]:
    """A worker's task: the output of a chunk of lines, joined, so that the parent (whose CPU
    the workers share) handles one piece of text per chunk rather than a line at a time."""
    engine = worker_engine()
    assert isinstance(engine, Engine)  # the workers `eval_lines` starts compile an `Engine`
    return [_output(evaluate_line(engine, text, name, number, now) for number, text in items)]


def eval_lines(
    engine: Engine,
    stream: Iterable[str],
    *,
    name: str,
    now: datetime,
    jobs: int = 1,
    out: TextIO | None = None,
    err: TextIO | None = None,
    size: int | None = None,
) -> int:
    """Evaluate a JSON Lines stream and write one line per non-blank input line to `out`
    (problems to `err`), in input order; returns the number of invalid lines. `size` (bytes,
    when the input is a file) lets the progress bar show a percentage; the bar is drawn only
    when `err` is a terminal."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    progress = Progress(err, size) if _is_terminal(err) else None
    numbered = enumerate(stream if progress is None else progress.reading(stream), start=1)
    outputs: Iterator[list[Output]]
    if jobs == 1:  # a line at a time: a host piping snapshots in gets each result at once
        outputs = ([_output([evaluate_line(engine, text, name, n, now)])] for n, text in numbered)
    else:
        from functools import partial

        work = partial(_lines_chunk, name, now)
        outputs = ordered_map(work, numbered, jobs=jobs, source=source_of(engine, compile_engine))
    failed = 0
    for ((results, problems, invalid, count),) in outputs:
        if problems:
            if progress is not None:
                progress.clear()
            err.write(problems)
        failed += invalid
        if results:
            out.write(results)
            if progress is not None:
                progress.advance(count)
    if progress is not None:
        progress.finish()
    return failed


def default_jobs() -> int:
    """One worker per CPU this process may use (`--jobs 0`)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _is_terminal(stream: TextIO) -> bool:
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
