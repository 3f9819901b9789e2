"""`ruleengine eval --snapshots FILE.jsonl`: JSON Lines in, JSON Lines out, in input order.

Each input line is read by the same snapshot reader as `--snapshot FILE`
(`Engine.read_snapshot_text`), so problems are worded, and limits applied, alike. A line that
is not a valid snapshot gives `{"line": N, "error": "invalid snapshot", "problems": [...]}`,
and the same problems as text on stderr. Problems are data up to here: workers return them,
and only `eval_lines`, in the parent, prints them. With `--jobs N` the lines go to the worker
processes of `ruleengine.engine.batch` in chunks, and each chunk's output comes back as one
text.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from ruleengine.engine.batch import ordered_map, source_of, worker_engine
from ruleengine.engine.engine import Engine, compile_engine
from ruleengine.engine.json_text import dumps_line
from ruleengine.engine.snapshot import SnapshotError, SnapshotProblem, render_snapshot_problem
from ruleengine.engine.snapshot_json import undecodable_byte
from ruleengine.progress import Progress, is_terminal


@dataclass(frozen=True, slots=True)
class Line:
    """What one non-blank input line gives: its output line and, for a line that is not a
    valid snapshot, the problems (data, so workers send them back and the parent prints)."""

    number: int  # 1-based, in the input
    output: str  # the result, or `{"line": N, "error": "invalid snapshot", "problems": [...]}`
    problems: tuple[SnapshotProblem, ...] = ()
    runtime_problems: bool = False  # the result has `problems` (for `eval --strict`)


def evaluate_line(engine: Engine, text: str, name: str, number: int, now: datetime) -> Line | None:
    """One input line -> its output line; None for a blank line, which has no output. The
    line is read by the same snapshot reader as `--snapshot FILE`
    (`Engine.read_snapshot_text`), so problems are worded, and limits applied, alike."""
    if not text.strip():
        return None
    undecodable = undecodable_byte(text)
    if undecodable is not None:  # a line of a batch that is not UTF-8 is that line's problem
        column, byte = undecodable
        problem = SnapshotProblem(
            "RE611",
            "$",
            f"the line is not UTF-8 text: byte 0x{byte:02X} at column {column}",
            "save the file as UTF-8",
            line=1,
            column=column,
        )
        return Line(number, invalid_line(number, [problem]), (problem,))
    try:
        snapshot = engine.read_snapshot_text(text, name=name, line=number)
    except SnapshotError as error:
        return Line(number, invalid_line(number, error.problems), tuple(error.problems))
    result = engine.evaluate(snapshot, now=now)
    return Line(number, result.dumps(indent=None), runtime_problems=bool(result.problems))


def invalid_line(number: int, problems: Iterable[SnapshotProblem]) -> str:
    """The output line for input line `number` when it is not a valid snapshot: `error` says
    so (as it always has), `problems` says why, in the shape `SnapshotProblem.to_json` gives."""
    return dumps_line(  # `json.dumps(..., ensure_ascii=False)`, with its encoder made once
        {
            "line": number,
            "error": "invalid snapshot",
            "problems": [problem.to_json() for problem in problems],
        }
    )


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


@dataclass(frozen=True, slots=True)
class Output:
    """What some input lines give: their output lines, joined, how many there are, the
    problems of each invalid snapshot among them, by line number, for the parent to print,
    and how many results have runtime problems."""

    text: str
    count: int
    invalid: tuple[tuple[int, tuple[SnapshotProblem, ...]], ...]
    with_problems: int


def _output(lines: Iterable[Line | None]) -> Output:
    outputs: list[str] = []
    invalid: list[tuple[int, tuple[SnapshotProblem, ...]]] = []
    with_problems = 0
    for line in lines:
        if line is None:
            continue
        outputs.append(line.output + "\n")
        if line.problems:
            invalid.append((line.number, line.problems))
        with_problems += line.runtime_problems
    return Output("".join(outputs), len(outputs), tuple(invalid), with_problems)


@dataclass(frozen=True, slots=True)
class Counts:
    """What a JSON Lines run gave: output lines, lines that were not valid snapshots, and
    results with runtime problems (valid results, which `eval --strict` fails on)."""

    lines: int = 0
    invalid: int = 0
    with_problems: int = 0


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
) -> Counts:
    """Evaluate a JSON Lines stream and write one line per non-blank input line to `out`
    (the problems of invalid lines also to `err`, one line each: this is the edge that prints
    them), in input order; returns how many lines there were, were invalid, and had results
    with runtime problems. `size` (bytes,
    when the input is a file) lets the progress bar show a percentage; the bar is drawn only
    when `err` is a terminal."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    progress = Progress(err, size) if is_terminal(err) else None
    numbered = enumerate(stream if progress is None else progress.reading(stream), start=1)
    outputs: Iterator[list[Output]]
    if jobs == 1:  # a line at a time: a host piping snapshots in gets each result at once
        outputs = ([_output([evaluate_line(engine, text, name, n, now)])] for n, text in numbered)
    else:
        from functools import partial

        work = partial(_lines_chunk, name, now)
        outputs = ordered_map(work, numbered, jobs=jobs, source=source_of(engine, compile_engine))
    lines = invalid = with_problems = 0
    for (output,) in outputs:
        if output.invalid:
            if progress is not None:
                progress.clear()
            err.write(
                "".join(
                    render_snapshot_problem(problem, name, number) + "\n"
                    for number, problems in output.invalid
                    for problem in problems
                )
            )
            invalid += len(output.invalid)
        lines += output.count
        with_problems += output.with_problems
        if output.text:
            out.write(output.text)
            if progress is not None:
                progress.advance(output.count)
    if progress is not None:
        progress.finish()
    return Counts(lines, invalid, with_problems)


def default_jobs() -> int:
    """One worker per CPU this process may use (`--jobs 0`)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
