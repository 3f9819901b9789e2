"""The evaluation loop: each customer of a source through one ruleset (backtest) or two (diff).

One pass over the data: a customer's snapshot data is read once, validated by each engine (the
rulesets may declare different attributes) and evaluated, and its results are added up and
written before the next customer is read. A customer whose data breaks the snapshot contract
stops the run with every problem located in the source (file, row, column): a backtest that
skipped customers would report wrong totals without a word.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Protocol, TextIO

from ruleengine.backtest.differ import Differ
from ruleengine.backtest.output import DecisionWriter
from ruleengine.backtest.sources import Customer, SourceError
from ruleengine.backtest.tally import Tally
from ruleengine.engine.decisions import EvaluationResult
from ruleengine.engine.engine import Engine
from ruleengine.engine.snapshot import Snapshot, SnapshotError
from ruleengine.progress import Progress


class Source(Protocol):
    name: str

    def count(self) -> int | None: ...

    def size(self) -> int | None: ...

    def batches(self, rows: int = ...) -> Iterator[list[Customer]]: ...


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


def reads_alike(old: Engine, new: Engine) -> bool:
    """Whether a snapshot validated by `old` is what `new` would make of the same data: a
    snapshot depends only on the ruleset's attributes, custom events and limits, which a rule
    change rarely touches, and validating costs about as much as evaluating."""
    return (
        old.ruleset.model.attributes == new.ruleset.model.attributes
        and old.ruleset.model.events == new.ruleset.model.events
        and old.limits == new.limits
    )


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


def _customers(source: Source, progress: CustomerProgress | None) -> Iterator[Customer]:
    for batch in source.batches():
        yield from batch
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
) -> None:
    """Evaluate every customer of `source` and add their decisions to `tally` (and `writer`)."""
    for customer in _customers(source, progress):
        result = engine.evaluate(read(engine, customer), now=now)
        tally.add(result)
        if writer is not None:
            writer.add("rules", customer.id, result.decisions)


def run_diff(
    old: Engine,
    new: Engine,
    source: Source,
    *,
    now: datetime,
    differ: Differ,
    writer: DecisionWriter | None = None,
    progress: CustomerProgress | None = None,
) -> None:
    """Evaluate both rulesets on each customer of `source`, in one pass over the data."""
    same_input = reads_alike(old, new)
    for customer in _customers(source, progress):
        snapshot = read(old, customer)
        before: EvaluationResult = old.evaluate(snapshot, now=now)
        after: EvaluationResult = new.evaluate(
            snapshot if same_input else read(new, customer), now=now
        )
        differ.add(customer.id, customer.data, before, after)
        if writer is not None:
            writer.add("old", customer.id, before.decisions)
            writer.add("new", customer.id, after.decisions)
