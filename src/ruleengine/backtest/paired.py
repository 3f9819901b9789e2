"""`ruleengine diff` in one process: OLD and NEW on each customer, NEW reusing what it can.

A diff evaluates two rulesets that usually differ in a rule or two. `PairedEngines`
(`engine.paired`, shared with the `--jobs N` workers of `backtest.parallel`) reads each
customer's snapshot once, evaluates OLD recording what NEW may reuse (the activity index, the
earning rules' outcome, milestones that did not change: `engine.reuse` says when each is exact)
and then evaluates NEW on the same snapshot, taking those parts instead of working them out
again; when both rulesets have the same content NEW's result is OLD's. The report is exactly
the one two independent evaluations give (`tests/test_backtest_paired.py` checks it against
two `Engine.evaluate` calls per customer on generated histories and rule changes).
"""

from __future__ import annotations

from datetime import datetime

from ruleengine.backtest.differ import Differ
from ruleengine.backtest.output import DecisionWriter
from ruleengine.backtest.parallel import read, record
from ruleengine.backtest.run import CustomerProgress, Source
from ruleengine.engine.engine import Engine
from ruleengine.engine.paired import PairedEngines

__all__ = ["PairedEngines", "run_paired_diff"]


def run_paired_diff(
    old: Engine,
    new: Engine,
    source: Source,
    *,
    now: datetime,
    differ: Differ,
    writer: DecisionWriter | None = None,
    progress: CustomerProgress | None = None,
) -> None:
    """Every customer of `source` through OLD and NEW, in one pass, added to `differ` (and
    `writer`) in source order: `run.run_diff` with `jobs=1`, sharing work between the two."""
    engines = PairedEngines(old, new)
    for batch in source.batches():
        for customer in batch:
            snapshot = read(old, customer)
            own = None if engines.same_input else read(new, customer)
            record(differ, writer, customer, engines.evaluate(snapshot, now, own))
        if progress is not None:
            progress.advance(len(batch))
    if progress is not None:
        progress.finish()
