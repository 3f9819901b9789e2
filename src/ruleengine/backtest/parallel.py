"""Evaluating customers, in this process or in `--jobs N` worker processes.

`evaluate_customer` puts one customer through every ruleset and `record` adds the results to
the run's aggregate (a `Tally` for a backtest, a `Differ` for a diff) and to `--out`'s
columns. With one job `run` calls both for each customer; with more, `evaluate_parallel`
sends chunks of customers (from tables, the JSON text DuckDB rendered, read in the worker:
`layout.Customer`) to workers through `ruleengine.engine.batch.ordered_map` (the pool
`eval --snapshots --jobs` uses: input order, a bounded number of chunks in flight, so memory
stays that of a few chunks whatever the history's size). A worker compiles the rulesets once
from their text (`engine_for_text` caches them per process; a forked worker finds the
parent's engines compiled), runs the same two functions on its chunk into a fresh aggregate,
and sends back only that aggregate (and the chunk's decisions as columns with `--out`):
results never travel one by one, since unpickling a customer's decisions costs about a third
of evaluating them. The parent merges the chunks in order. Aggregates are sums and counts of
whole numbers and exact decimals, and the diff's examples are the first customers by id, so
the report and `--out` are byte for byte those of `--jobs 1`.

Errors keep their place. A customer whose data breaks the snapshot contract ends its chunk
with its `SourceError`, and a source that fails while reading a batch puts its error after
the customers read before it: the parent raises whichever comes first in source order, the
error `--jobs 1` stops at.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from datetime import datetime
from functools import partial
from typing import cast

from ruleengine.backtest.differ import Differ
from ruleengine.backtest.layout import Customer, SourceError
from ruleengine.backtest.output import (
    DecisionColumns,
    DecisionWriter,
    held_signals,
    released_signals,
)
from ruleengine.backtest.tally import Tally
from ruleengine.engine.batch import _worker_context as worker_context
from ruleengine.engine.batch import ordered_map, source_of
from ruleengine.engine.decisions import EvaluationResult
from ruleengine.engine.engine import Engine, compile_engine, engine_for_text
from ruleengine.engine.paired import paired_engines, reads_alike
from ruleengine.engine.snapshot import Snapshot, SnapshotError

Results = tuple[EvaluationResult, ...]  # one per ruleset, in the order the rulesets were given
Aggregate = Tally | Differ
Chunk = tuple[int, Aggregate, DecisionColumns | None]  # customers, their aggregate, --out rows

CHUNK = 64
"""Customers per task: each is a millisecond or so of work, so a task is tens of
milliseconds, enough to make pickling and scheduling negligible while keeping every worker
busy to the end."""


class SnapshotDataError(SourceError):
    """A customer's data breaks the snapshot contract; one line per problem."""


def read(engine: Engine, customer: Customer) -> Snapshot:
    """The customer's snapshot for `engine`, or `SnapshotDataError` naming where in the
    source each problem is."""
    try:
        return engine.read_snapshot(customer.data, name=customer.id)
    except SnapshotError as error:
        lines = [
            f"{customer.origin.locate(p.path)}: error[{p.code}] {p.message}"
            + (f" (hint: {p.hint})" if p.hint else "")
            + f" [customer `{customer.id}`]"
            for p in error.problems
        ]
        raise SnapshotDataError("\n".join(lines)) from None


def evaluate_customer(
    engines: Sequence[Engine], customer: Customer, now: datetime, same_input: bool
) -> Results:
    """One customer through every ruleset: the snapshot is read once, by the first, and the
    others reuse it when `same_input` (see `reads_alike`)."""
    first = engines[0]
    snapshot = read(first, customer)
    if len(engines) == 2 and same_input:  # a diff: NEW reuses what OLD worked out
        return paired_engines(first, engines[1]).evaluate(snapshot, now)
    results = [first.evaluate(snapshot, now=now)]
    for engine in engines[1:]:
        own = snapshot if same_input else read(engine, customer)
        results.append(engine.evaluate(own, now=now))
    return tuple(results)


def record(
    aggregate: Aggregate,
    sink: DecisionWriter | DecisionColumns | None,
    customer: Customer,
    results: Results,
) -> None:
    """Add one customer's results to the aggregate and to `--out`'s decisions."""
    if isinstance(aggregate, Differ):
        before, after = results
        aggregate.add(customer.id, customer.data, before, after)
        if sink is not None:
            sink.add("old", customer.id, before.decisions)
            sink.add("new", customer.id, after.decisions)
        return
    (result,) = results
    aggregate.add(result)
    if sink is not None:
        sink.add("rules", customer.id, result.decisions)


def merge(aggregate: Aggregate, part: Aggregate) -> None:
    if isinstance(aggregate, Differ):
        assert isinstance(part, Differ)
        aggregate.merge(part)
    else:
        assert isinstance(part, Tally)
        aggregate.merge(part)


def default_jobs() -> int:
    """One worker per CPU this process may use (`--jobs 0`)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _evaluate_chunk(
    now: datetime,
    rules: tuple[tuple[str, str], ...],
    same_input: bool,
    fresh: Callable[[], Aggregate],
    out: bool,
    items: list[Customer | SourceError],
) -> list[Chunk | SourceError]:
    """In a worker: a chunk of customers into a fresh aggregate, until the first error."""
    engines = tuple(engine_for_text(text, name) for name, text in rules)
    aggregate = fresh()
    columns = DecisionColumns() if out else None
    count = 0
    for item in items:
        if isinstance(item, SourceError):
            return [(count, aggregate, columns), item]
        try:
            results = evaluate_customer(engines, item, now, same_input)
        except SourceError as error:
            return [(count, aggregate, columns), error.with_traceback(None)]
        record(aggregate, columns, item, results)
        count += 1
    return [(count, aggregate, columns)]


def _in_order(batches: Iterator[list[Customer]]) -> Iterator[Customer | SourceError]:
    """The source's customers one by one; a `SourceError` while reading ends the stream in
    its place. Signals, held while the pool takes a chunk (`evaluate_parallel`), are let
    through while the source is read, which the pool does not take part in."""
    try:
        while True:
            with released_signals():
                batch = next(batches, None)
            if batch is None:
                return
            yield from batch
    except SourceError as error:
        yield error


def start_workers_without_ctrl_c() -> None:
    """Start the fork server the workers come from (`engine.batch`) with SIGINT ignored,
    which it and its workers inherit (an ignored signal stays ignored across exec). Ctrl-C
    reaches the whole process group: the server, stopped while it imported the engine, and
    a worker stopped mid-chunk each printed a `KeyboardInterrupt` traceback. This process
    alone takes it (`output.interrupts`) and shuts the pool down. Here SIGINT is blocked
    while ignored, so one that comes meanwhile waits rather than being lost (a blocked
    signal is kept pending, not ignored). The mask is this thread's: the command calls this
    first, before DuckDB or pyarrow start threads that could take the signal and drop it.
    A server already running is left as it is."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set in the main thread
    if not hasattr(signal, "pthread_sigmask") or "forkserver" not in (
        multiprocessing.get_all_start_methods()
    ):
        return  # not on Linux or macOS: workers are spawned, not forked from a server
    from multiprocessing import forkserver, resource_tracker

    worker_context()  # the server's preload: workers start with the engine imported
    # The resource tracker, which the server needs, unblocks SIGINT once it has started
    # (Python 3.11-3.13): a SIGINT held then would meet SIG_IGN and be lost. Started
    # first, it is left running when the server starts.
    resource_tracker.ensure_running()
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, ())  # this thread's mask, unchanged
    handler = signal.getsignal(signal.SIGINT)
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a SIGINT held meanwhile comes now


def evaluate_parallel(
    engines: Sequence[Engine],
    batches: Iterator[list[Customer]],
    *,
    now: datetime,
    jobs: int,
    fresh: Callable[[], Aggregate],
    out: bool,
) -> Iterator[Chunk]:
    """The customers of `batches` evaluated in `jobs` worker processes: each chunk's count,
    aggregate and decisions (with `out`), in source order; raises the first error in source
    order."""
    rules = tuple((e.ruleset.source.name, e.ruleset.source.text) for e in engines)
    for engine in engines:  # cached here, so forked workers start with them compiled
        source_of(engine, compile_engine)
    same_input = all(reads_alike(engines[0], other) for other in engines[1:])
    work = partial(_evaluate_chunk, now, rules, same_input, fresh, out)
    chunks = cast(  # a generator function, so it can be closed
        Generator[list[Chunk | SourceError], None, None],
        ordered_map(
            work,
            _in_order(batches),
            jobs=jobs,
            source=source_of(engines[0], compile_engine),
            chunk=CHUNK,
        ),
    )
    try:
        while True:
            # SIGTERM or SIGINT waits for the next chunk (tens of milliseconds): raised in
            # the pool's code, it could stop a worker half-started, which then fails to
            # start (with a traceback) after this process is gone
            with held_signals():
                parts = next(chunks, None)
            if parts is None:
                break
            for part in parts:
                if isinstance(part, SourceError):
                    raise part
                yield part
    finally:
        with held_signals():
            chunks.close()  # stops the workers now, not when the generator is collected
