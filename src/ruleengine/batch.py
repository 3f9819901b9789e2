"""Many customers at once: `Engine.evaluate_many` and `ruleengine eval --snapshots --jobs N`.

Evaluating one customer is pure CPU work that shares nothing with the next customer, so a batch
spreads over worker processes (threads would share one interpreter lock). The design:

* **Input order, always.** Results come back in the order the snapshots went in, and a
  snapshot that breaks the contract yields its `SnapshotError` *in its place* (for the command
  line: `{"line": N, "error": "invalid snapshot", "problems": [...]}` on stdout, and the same
  problems as text on stderr), so outputs stay aligned with inputs and one bad customer never
  stops the batch. Problems are data up to the edge: workers return them, and only
  `eval_lines`, in the parent, prints them.
* **Constant memory.** Snapshots are read lazily, sent to the workers in chunks, and at most
  `WINDOW_PER_JOB` chunks per worker are in flight; a million-line file streams through in the
  memory of a few hundred customers.
* **Identical results.** Every worker and the single-process path run the same function, so
  `--jobs 2` prints byte for byte what `--jobs 1` prints.
* **Workers load the ruleset once, from its text.** A worker receives the rule file's name
  and text and the engine's `Limits` (never a pickled engine) and compiles it on start;
  compiled rulesets are cached by content hash (`engine_for_text`), so a forked worker finds
  the parent's engine already compiled and a spawned one compiles it once. With one job,
  nothing is started: the same functions run in this process.

`SnapshotError` pickles with its problems, so a worker returns it like a result.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from ruleengine.limits import DEFAULT_LIMITS, Limits
from ruleengine.render import render_snapshot_problem
from ruleengine.snapshot import Snapshot, SnapshotError, SnapshotProblem

if TYPE_CHECKING:
    from ruleengine.decisions import EvaluationResult
    from ruleengine.engine import Engine

T = TypeVar("T")
R = TypeVar("R")

CHUNK = 128
"""Snapshots per task: large enough that pickling and scheduling cost next to nothing (a task
is tens of milliseconds of work; with 32 the parent, whose CPU time the workers share on a
small machine, spent ~30% more), small enough to keep every worker busy to the end."""

WINDOW_PER_JOB = 4
"""Tasks in flight per worker: enough that a worker never waits for the parent to write, and
a bound on memory whatever the input's length."""

_CACHE_SIZE = 8
_Key = tuple[str, str, Limits]  # rule file name, text (its hash in the cache), limits
_ENGINES: OrderedDict[_Key, Engine] = OrderedDict()
_WORKER: dict[str, Any] = {}  # in a worker process: the engine it evaluates with


# -- the compiled-ruleset cache ------------------------------------------------------------------


def content_key(name: str, text: str, limits: Limits = DEFAULT_LIMITS) -> _Key:
    """The cache key of a rule file: its display name (diagnostics and runtime problems name
    the file), the SHA-256 of its text, and the limits it is checked and run with."""
    return name, hashlib.sha256(text.encode("utf-8")).hexdigest(), limits


def engine_for_text(text: str, name: str = "<string>", limits: Limits = DEFAULT_LIMITS) -> Engine:
    """The engine for a rule file's text, compiled once per process and content: parsing and
    compiling a ruleset costs milliseconds, evaluating a customer a fraction of one, so repeated
    loads of the same rules (worker start-up, a server reloading unchanged files) reuse it.
    Raises `RuleSetError` with every diagnostic when the rules do not check."""
    from ruleengine.diagnostics import RuleSetError
    from ruleengine.engine import Engine
    from ruleengine.ruleset import check_source
    from ruleengine.source import SourceFile

    key = content_key(name, text, limits)
    engine = _ENGINES.get(key)
    if engine is not None:
        _ENGINES.move_to_end(key)
        return engine
    result = check_source(SourceFile(name, text), limits=limits)
    if result.ruleset is None:
        raise RuleSetError(result.diagnostics)
    engine = Engine(result.ruleset, limits=limits)
    _remember(key, engine)
    return engine


def _remember(key: _Key, engine: Engine) -> None:
    _ENGINES[key] = engine
    _ENGINES.move_to_end(key)
    while len(_ENGINES) > _CACHE_SIZE:
        _ENGINES.popitem(last=False)


def _source_of(engine: Engine) -> _Key:
    """What workers rebuild `engine` from: the rule file's name and text, and the engine's
    limits; the engine is cached under it, so workers forked from this process start with it
    compiled."""
    source = engine.ruleset.source
    key = content_key(source.name, source.text, engine.limits)
    if _ENGINES.get(key) is not engine:
        _remember(key, engine)
    return source.name, source.text, engine.limits


def _start_worker(name: str, text: str, limits: Limits) -> None:
    _WORKER["engine"] = engine_for_text(text, name, limits)


# -- ordered, bounded parallel map -----------------------------------------------------------------


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _ordered_map(
    function: Callable[[list[T]], list[R]],
    items: Iterable[T],
    *,
    jobs: int,
    source: _Key,
    chunk: int = CHUNK,
) -> Iterator[list[R]]:
    """`function` over chunks of `items` in `jobs` worker processes, yielding each chunk's
    results in input order, with at most `jobs * WINDOW_PER_JOB` chunks in flight."""
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_start_worker, initargs=source)
    pending: deque[Future[list[R]]] = deque()
    try:
        for part in _chunks(items, chunk):
            pending.append(pool.submit(function, part))
            if len(pending) >= jobs * WINDOW_PER_JOB:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# -- Engine.evaluate_many -----------------------------------------------------------------------


def _evaluate(
    engine: Engine, index: int, snapshot: Any, now: datetime
) -> EvaluationResult | SnapshotError:
    try:
        if not isinstance(snapshot, Snapshot):
            snapshot = engine.read_snapshot(snapshot, name=f"snapshots[{index}]")
    except SnapshotError as error:
        return error.with_traceback(None)  # in its place; it pickles, so workers return it
    return engine.evaluate(snapshot, now=now)


def _evaluate_chunk(
    now: datetime, items: list[tuple[int, Any]]
) -> list[EvaluationResult | SnapshotError]:
    engine: Engine = _WORKER["engine"]
    return [_evaluate(engine, index, snapshot, now) for index, snapshot in items]


def evaluate_many(
    engine: Engine,
    snapshots: Iterable[Snapshot | Mapping[str, Any]],
    *,
    now: datetime,
    jobs: int = 1,
) -> Iterator[EvaluationResult | SnapshotError]:
    """See `Engine.evaluate_many`. Checks its arguments at once (not at the first `next`)."""
    from ruleengine.expr.runtime import check_now

    check_now(now)
    if jobs < 1:
        raise ValueError(f"`jobs` must be at least 1, not {jobs}")
    if jobs == 1:
        return (_evaluate(engine, i, s, now) for i, s in enumerate(snapshots))
    return _evaluate_parallel(engine, snapshots, now, jobs)


def _evaluate_parallel(
    engine: Engine, snapshots: Iterable[Any], now: datetime, jobs: int
) -> Iterator[EvaluationResult | SnapshotError]:
    from functools import partial

    work = partial(_evaluate_chunk, now)
    for outcomes in _ordered_map(work, enumerate(snapshots), jobs=jobs, source=_source_of(engine)):
        yield from outcomes


# -- the command line: JSON Lines in, JSON Lines out --------------------------------------------


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
    try:
        snapshot = engine.read_snapshot_text(text, name=name, line=number)
    except SnapshotError as error:
        return Line(number, invalid_line(number, error.problems), tuple(error.problems))
    result = engine.evaluate(snapshot, now=now)
    return Line(number, result.dumps(indent=None), runtime_problems=bool(result.problems))


def invalid_line(number: int, problems: Iterable[SnapshotProblem]) -> str:
    """The output line for input line `number` when it is not a valid snapshot: `error` says
    so (as it always has), `problems` says why, in the shape `SnapshotProblem.to_json` gives."""
    return json.dumps(
        {
            "line": number,
            "error": "invalid snapshot",
            "problems": [problem.to_json() for problem in problems],
        },
        ensure_ascii=False,
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
    engine: Engine = _WORKER["engine"]
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
    progress = Progress(err, size) if _is_terminal(err) else None
    numbered = enumerate(stream if progress is None else progress.reading(stream), start=1)
    outputs: Iterator[list[Output]]
    if jobs == 1:  # a line at a time: a host piping snapshots in gets each result at once
        outputs = ([_output([evaluate_line(engine, text, name, n, now)])] for n, text in numbered)
    else:
        from functools import partial

        work = partial(_lines_chunk, name, now)
        outputs = _ordered_map(work, numbered, jobs=jobs, source=_source_of(engine))
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
        self.stream.flush()
