"""The evaluation loop: each customer of a source through one ruleset (backtest) or two (diff).

One pass over the data: a customer's snapshot data is read once, validated by each engine (the
rulesets may declare different attributes) and evaluated, and its results are added up and
written before the next customer is read. A customer whose data breaks the snapshot contract
stops the run with every problem located in the source (file, row, column): a backtest that
skipped customers would report wrong totals without a word.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import partial
from typing import Protocol, TextIO

from ruleengine.backtest.differ import Differ
from ruleengine.backtest.layout import Customer
from ruleengine.backtest.output import DecisionWriter
from ruleengine.backtest.parallel import (
    Aggregate,
    SnapshotDataError,
    evaluate_customer,
    evaluate_parallel,
    merge,
    read,
    record,
)
from ruleengine.backtest.tally import Tally
from ruleengine.engine.engine import Engine
from ruleengine.engine.paired import reads_alike
from ruleengine.progress import Progress


class Source(Protocol):
    name: str

    def count(self) -> int | None: ...

    def size(self) -> int | None: ...

    def batches(self, rows: int = ...) -> Iterator[list[Customer]]: ...


class CustomerProgress(Progress):
    """The batch progress line, counting customers, with an ETA when the total is known."""

    def __init__(self, stream: TextIO, total: int | None, size: int | None = None) -> None:
        super().__init__(stream, size)
        self.total = total

    def draw(self, now: float) -> None:
        if not self.total:
            super().draw(now)
            return
        elapsed = max(now - self.started, 1e-9)
        rate = self.lines / elapsed
        left = (self.total - self.lines) / rate if rate else 0.0
        self.stream.write(
            f"\r\x1b[K{self.lines:,}/{self.total:,} customers  {self.lines / self.total:4.0%}  "
            f"{rate:,.0f}/s  {elapsed:.0f}s  ETA {left:.0f}s"
        )
        self.stream.flush()


def progress_for(source: Source, stream: TextIO | None = None) -> CustomerProgress | None:
    """A progress line on `stream` (stderr) only when it is a terminal: logs stay clean."""
    stream = stream if stream is not None else sys.stderr
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):
        terminal = False
    if not terminal:
        return None
    return CustomerProgress(stream, source.count(), source.size())


def run(
    engines: Sequence[Engine],
    source: Source,
    *,
    now: datetime,
    aggregate: Aggregate,
    writer: DecisionWriter | None = None,
    progress: CustomerProgress | None = None,
    jobs: int = 1,
) -> None:
    """Every customer of `source` through each engine, added to `aggregate` (and `writer`)
    in source order; with `jobs > 1` in that many worker processes (`backtest.parallel`),
    with the same outcome."""
    batches = source.batches()
    if jobs > 1:
        by_month = aggregate.by_month
        fresh = (
            partial(Differ, by_month)
            if isinstance(aggregate, Differ)
            else partial(Tally, by_month=by_month)
        )
        for count, part, columns in evaluate_parallel(
            engines, batches, now=now, jobs=jobs, fresh=fresh, out=writer is not None
        ):
            merge(aggregate, part)
            if writer is not None and columns is not None:
                writer.extend(columns)
            if progress is not None:
                progress.advance(count)
    else:
        same_input = all(reads_alike(engines[0], other) for other in engines[1:])
        for batch in batches:
            for customer in batch:
                record(
                    aggregate,
                    writer,
                    customer,
                    evaluate_customer(engines, customer, now, same_input),
                )
            if progress is not None:
                progress.advance(len(batch))
    if progress is not None:
        progress.finish()


def run_backtest(
    engine: Engine,
    source: Source,
    *,
    now: datetime,
    tally: Tally,
    writer: DecisionWriter | None = None,
    progress: CustomerProgress | None = None,
    jobs: int = 1,
) -> None:
    """Evaluate every customer of `source` and add their decisions to `tally` (and `writer`)."""
    run((engine,), source, now=now, aggregate=tally, writer=writer, progress=progress, jobs=jobs)


def run_diff(
    old: Engine,
    new: Engine,
    source: Source,
    *,
    now: datetime,
    differ: Differ,
    writer: DecisionWriter | None = None,
    progress: CustomerProgress | None = None,
    jobs: int = 1,
) -> None:
    """Evaluate both rulesets on each customer of `source`, in one pass over the data."""
    run((old, new), source, now=now, aggregate=differ, writer=writer, progress=progress, jobs=jobs)


__all__ = ["SnapshotDataError", "read", "run", "run_backtest", "run_diff"]
