"""Two rulesets evaluated together on each snapshot (`ruleengine diff`), NEW reusing what
OLD worked out: `engine.reuse` says what and why that is exact. `backtest.parallel` pairs
each customer's evaluations through it, in one process and in the `--jobs N` workers alike.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from ruleengine.engine.decisions import EvaluationResult
from ruleengine.engine.engine import Engine
from ruleengine.engine.reuse import Pairing, Reuse, Trace
from ruleengine.engine.snapshot import Snapshot


def reads_alike(old: Engine, new: Engine) -> bool:
    """Whether a snapshot validated by `old` is what `new` would make of the same data: a
    snapshot depends only on the ruleset's attributes, custom events, tiers and limits
    (`Engine.reading`), which a rule change rarely touches, and validating costs about as
    much as evaluating. (`new` refuses a snapshot read for a reading unlike its own, RE670.)"""
    return old.reading == new.reading


class PairedEngines:
    """OLD and NEW, evaluated together on each snapshot (see the module's docstring)."""

    def __init__(self, old: Engine, new: Engine) -> None:
        self.old, self.new = old, new
        self.pairing = Pairing.of(old.ruleset, new.ruleset, old.limits, new.limits)

    def evaluate(
        self, snapshot: Snapshot, now: datetime
    ) -> tuple[EvaluationResult, EvaluationResult]:
        """Both results for one customer, whose snapshot both rulesets read alike
        (`reads_alike`: the caller reads it once for both, or evaluates them apart)."""
        trace = Trace()
        before = self.old.evaluate_sharing(snapshot, now=now, trace=trace)
        if self.pairing.identical and not before.problems:
            return before, before
        after = self.new.evaluate_sharing(snapshot, now=now, reuse=Reuse(self.pairing, trace))
        return before, after


@lru_cache(maxsize=8)
def paired_engines(old: Engine, new: Engine) -> PairedEngines:
    """The pairing of two engines, worked out once per process (a worker evaluates many
    chunks with the same engines, which `engine_for_text` caches)."""
    return PairedEngines(old, new)
