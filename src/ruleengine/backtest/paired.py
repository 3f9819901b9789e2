"""`ruleengine diff` in one process: OLD and NEW on each customer, NEW reusing what it can.

A diff evaluates two rulesets that usually differ in a rule or two. `PairedEngines` reads each
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
from ruleengine.backtest.parallel import read, reads_alike, record
from ruleengine.backtest.run import CustomerProgress, Source
from ruleengine.engine.decisions import EvaluationResult
from ruleengine.engine.engine import Engine
from ruleengine.engine.reuse import Pairing, Reuse, Trace
from ruleengine.engine.snapshot import Snapshot


class PairedEngines:
    """OLD and NEW, evaluated together on each snapshot (see the module's docstring)."""

    def __init__(self, old: Engine, new: Engine) -> None:
        self.old, self.new = old, new
        self.same_input = reads_alike(old, new)  # else NEW validates the data itself
        self.pairing = Pairing.of(old.ruleset, new.ruleset, old.limits, new.limits)

    def evaluate(
        self, snapshot: Snapshot, now: datetime, new_snapshot: Snapshot | None = None
    ) -> tuple[EvaluationResult, EvaluationResult]:
        """Both results for one customer; `new_snapshot` is NEW's own reading of the data
        when the rulesets do not read it alike (then nothing is shared)."""
        if new_snapshot is not None and new_snapshot is not snapshot:
            return self.old.evaluate(snapshot, now=now), self.new.evaluate(new_snapshot, now=now)
        trace = Trace()
        before = self.old.evaluate_sharing(snapshot, now=now, trace=trace)
        if self.pairing.identical and not before.problems:
            return before, before
        after = self.new.evaluate_sharing(snapshot, now=now, reuse=Reuse(self.pairing, trace))
        return before, after


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
