"""Many customers at once: `Engine.evaluate_many`, and the worker processes that
`ruleengine eval --snapshots --jobs N` (`ruleengine.cli.jsonl`) shares.

Evaluating one customer is pure CPU work that shares nothing with the next customer, so a batch
spreads over worker processes (threads would share one interpreter lock). The design:

* **Input order, always.** Results come back in the order the snapshots went in, and a
  snapshot that breaks the contract yields its `SnapshotError` *in its place* (for the command
  line: `{"line": N, "error": "invalid snapshot", "problems": [...]}` on stdout, and the same
  problems as text on stderr), so outputs stay aligned with inputs and one bad customer never
  stops the batch. Problems are data up to the edge: workers return them, and only the
  command line (`ruleengine.cli.jsonl`), in the parent, prints them.
* **Constant memory.** Snapshots are read lazily, sent to the workers in chunks, and at most
  `WINDOW_PER_JOB` chunks per worker are in flight; a million-line file streams through in the
  memory of a few hundred customers.
* **Identical results.** Every worker and the single-process path run the same function, so
  `--jobs 2` prints byte for byte what `--jobs 1` prints.
* **Workers load the ruleset once, from its text.** A worker receives the rule file's name
  and text and the engine's `Limits` (never a pickled engine) and compiles it on start;
  compiled rulesets are cached by content hash (`cached_engine`), so each worker compiles
  it once. Workers are forked from a fork server, never from the calling process, which may
  run threads (`_worker_context`). With one job, nothing is started: the same functions run
  in this process.

Results and `SnapshotError`s travel back from the workers as themselves (every ruleengine
error pickles; see `ruleengine.errors`).

**The cache is the one piece of module state**, and it lives here, in the batch layer, not in
`Engine` (which stays immutable and keeps no global state): `cached_engine` and
`evaluate_many` read and write it under a lock, so threads may share it. This module never
imports `Engine`: the engine module hands it a factory (`compile_engine`), so the two make
no import circle.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

from ruleengine.engine.snapshot import Snapshot, SnapshotError
from ruleengine.limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from ruleengine.engine.decisions import EvaluationResult
    from ruleengine.rules.ruleset import RuleSet


class BatchEngine(Protocol):
    """What this module needs of an engine. It never imports `Engine` (whose `evaluate_many`
    imports this module), so the two make no import circle."""

    ruleset: RuleSet
    limits: Limits

    def read_snapshot(self, data: Any, *, name: str = ...) -> Snapshot: ...

    def evaluate(
        self, snapshot: Snapshot | Mapping[str, Any], *, now: datetime, explain: bool = ...
    ) -> EvaluationResult: ...


Factory = Callable[[str, str, Limits], BatchEngine]
"""Compiles an engine from a rule file's text, name and limits (`engine.compile_engine`);
raises `RuleSetError` when the rules do not check."""

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
_ENGINES: OrderedDict[_Key, BatchEngine] = OrderedDict()
_LOCK = threading.Lock()  # guards _ENGINES: hosts may load rules from several threads
_WORKER: dict[str, Any] = {}  # in a worker process: the engine it evaluates with


# -- the compiled-ruleset cache ------------------------------------------------------------------


def content_key(name: str, text: str, limits: Limits = DEFAULT_LIMITS) -> _Key:
    """The cache key of a rule file: its display name (diagnostics and runtime problems name
    the file), the SHA-256 of its text, and the limits it is checked and run with."""
    return name, hashlib.sha256(text.encode("utf-8")).hexdigest(), limits


def cached_engine(factory: Factory, text: str, name: str, limits: Limits) -> BatchEngine:
    """The engine `factory` compiles from a rule file's text, compiled once per process and
    content (`engine.engine_for_text` is this with the `Engine` factory)."""
    key = content_key(name, text, limits)
    with _LOCK:
        engine = _ENGINES.get(key)
        if engine is not None:
            _ENGINES.move_to_end(key)
            return engine
    # Compiled outside the lock (milliseconds); two threads that race both compile, and the
    # second keeps the first's engine, so every caller of one key gets one engine.
    return _remember(key, factory(text, name, limits))


def _remember(key: _Key, engine: BatchEngine) -> BatchEngine:
    """Cache `engine` under `key` (unless an engine is already there) and return the cached
    one; the least recently used beyond `_CACHE_SIZE` are dropped."""
    with _LOCK:
        engine = _ENGINES.setdefault(key, engine)
        _ENGINES.move_to_end(key)
        while len(_ENGINES) > _CACHE_SIZE:
            _ENGINES.popitem(last=False)
        return engine


WorkerSource = tuple[Factory, str, str, Limits]
"""What a worker rebuilds its engine from: the factory, the rule file's text and name, and
the limits (never a pickled engine; the factory pickles by reference)."""


def source_of(engine: BatchEngine, factory: Factory) -> WorkerSource:
    """What workers rebuild `engine` from; the engine is cached under it, so workers forked
    from this process start with it compiled."""
    source = engine.ruleset.source
    key = content_key(source.name, source.text, engine.limits)
    with _LOCK:
        _ENGINES[key] = engine  # this engine, for the workers forked from here
    _remember(key, engine)
    return factory, source.text, source.name, engine.limits


def _start_worker(factory: Factory, text: str, name: str, limits: Limits) -> None:
    _WORKER["engine"] = cached_engine(factory, text, name, limits)


def worker_engine() -> BatchEngine:
    """In a worker process started by `ordered_map`: the engine it evaluates with."""
    engine: BatchEngine = _WORKER["engine"]
    return engine


# -- ordered, bounded parallel map -----------------------------------------------------------------


def _worker_context() -> multiprocessing.context.BaseContext:
    """Workers are forked from a fork server, never from this process: this process may run
    threads (DuckDB's and pyarrow's in a backtest, a host's own), and a child forked from a
    threaded process can inherit a lock or an allocator held mid-operation by another thread
    (a worker crashed in the garbage collector that way). The server is a fresh interpreter
    that imports the engine once; each worker forked from it compiles the ruleset from its
    text (`_start_worker`). Python 3.14 makes the same choice by default on Linux."""
    if "forkserver" not in multiprocessing.get_all_start_methods():  # not on Windows
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["ruleengine.engine.engine"])
    return context


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def ordered_map(
    function: Callable[[list[T]], list[R]],
    items: Iterable[T],
    *,
    jobs: int,
    source: WorkerSource,
    chunk: int = CHUNK,
) -> Iterator[list[R]]:
    """`function` over chunks of `items` in `jobs` worker processes, yielding each chunk's
    results in input order, with at most `jobs * WINDOW_PER_JOB` chunks in flight."""
    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=_worker_context(),
        initializer=_start_worker,
        initargs=source,
    )
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


Outcome: TypeAlias = "EvaluationResult | SnapshotError"


def _evaluate(engine: BatchEngine, index: int, snapshot: Any, now: datetime) -> Outcome:
    try:
        if not isinstance(snapshot, Snapshot):
            snapshot = engine.read_snapshot(snapshot, name=f"snapshots[{index}]")
    except SnapshotError as error:
        return error.with_traceback(None)  # in its place; it pickles, so workers return it
    return engine.evaluate(snapshot, now=now)


def _evaluate_chunk(now: datetime, items: list[tuple[int, Any]]) -> list[Outcome]:
    engine = worker_engine()
    return [_evaluate(engine, index, snapshot, now) for index, snapshot in items]


def evaluate_many(
    engine: BatchEngine,
    snapshots: Iterable[Snapshot | Mapping[str, Any]],
    *,
    now: datetime,
    jobs: int = 1,
    factory: Factory,
) -> Iterator[EvaluationResult | SnapshotError]:
    """See `Engine.evaluate_many`. Checks its arguments at once (not at the first `next`)."""
    from ruleengine.expr.runtime import check_now

    check_now(now)
    if jobs < 1:
        raise ValueError(f"`jobs` must be at least 1, not {jobs}")
    if jobs == 1:
        return (_evaluate(engine, i, s, now) for i, s in enumerate(snapshots))
    return _evaluate_parallel(engine, snapshots, now, jobs, factory)


def _evaluate_parallel(
    engine: BatchEngine, snapshots: Iterable[Any], now: datetime, jobs: int, factory: Factory
) -> Iterator[EvaluationResult | SnapshotError]:
    from functools import partial

    work = partial(_evaluate_chunk, now)
    source = source_of(engine, factory)
    for outcomes in ordered_map(work, enumerate(snapshots), jobs=jobs, source=source):
        yield from outcomes
