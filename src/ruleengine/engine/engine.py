"""The engine: a compiled ruleset + a customer snapshot + `now` -> decisions and progress.

`Engine` is immutable after construction and does no I/O, reads no clock and keeps no global
state, so one instance can serve many threads. (The one module-level state nearby is the
compiled-ruleset cache that `evaluate_many` and `engine_for_text` use: it lives in
`engine.batch`, behind a lock.) Evaluation is deterministic: the same ruleset,
snapshot and `now` always give the same decisions, in the same order, with the same keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ruleengine.engine.decisions import (
    EvaluationResult,
    Explanation,
)
from ruleengine.engine.evaluation import Evaluation, Prepared
from ruleengine.engine.snapshot import (
    Snapshot,
    SnapshotError,
    read_snapshot,
    read_snapshot_text,
)
from ruleengine.engine.snapshot_reading import SnapshotReading, read_for_another
from ruleengine.errors import UnknownRuleError
from ruleengine.expr.runtime import check_now
from ruleengine.limits import DEFAULT_LIMITS, Limits
from ruleengine.rules.models import TierBasis
from ruleengine.rules.ruleset import RuleSet
from ruleengine.rules.vocabulary import customer_type

if TYPE_CHECKING:
    from ruleengine.engine.points_history import PointsHistory
    from ruleengine.engine.reuse import Reuse, Trace  # `diff` only: loaded by engine.paired

# Loaded when used: the tiers and redeeming (a ruleset with them), explanations and the
# points history (their commands), so `ruleengine eval` of a ruleset without them skips them.


class Engine:
    """Evaluates one ruleset for any number of customers.

    >>> engine = Engine(load_ruleset("examples/rules/acme.yaml"))
    >>> result = engine.evaluate(snapshot_json, now=datetime(2026, 6, 1, tzinfo=UTC))
    >>> result.to_json()["decisions"]
    """

    def __init__(self, ruleset: RuleSet, *, limits: Limits = DEFAULT_LIMITS) -> None:
        self.ruleset = ruleset
        self.limits = limits
        self.zone = ruleset.timezone
        self._customer_type = customer_type(ruleset.model.attributes)
        self._prepared = Prepared.of(ruleset, limits)  # what every evaluation needs, once
        self._tier_ids = self._prepared.tier_ids
        tiers = ruleset.model.tiers
        self._whole_tier_points = tiers is not None and tiers.basis is not TierBasis.AMOUNT_SPENT
        # What its snapshots are read for: a `Snapshot` read for another reading is refused.
        self.reading = SnapshotReading.of(
            self._customer_type,
            ruleset.model.events,
            self._tier_ids if tiers else None,
            self._whole_tier_points,
            limits,
            ruleset.program,
        )

    def read_snapshot(self, data: Any, *, name: str = "<snapshot>") -> Snapshot:
        """Validate JSON-like data as a snapshot for this ruleset (raises `SnapshotError`)."""
        return read_snapshot(
            data,
            customer_type=self._customer_type,
            events=self.ruleset.model.events,
            name=name,
            limits=self.limits,
            tiers=self._tier_ids if self.ruleset.model.tiers else None,
            whole_tier_points=self._whole_tier_points,
            reading=self.reading,
        )

    def read_snapshot_text(
        self, text: str | bytes, *, name: str = "<snapshot>", line: int | None = None
    ) -> Snapshot:
        """Parse JSON text (or UTF-8 bytes) and validate it as a snapshot for this ruleset,
        within the engine's limits (raises `SnapshotError`; JSON that does not parse, or bytes
        that are not UTF-8, are RE611 at their line and column). `line` is the line of a file
        the text starts on, for JSON Lines."""
        return read_snapshot_text(
            text,
            customer_type=self._customer_type,
            events=self.ruleset.model.events,
            name=name,
            line=line,
            limits=self.limits,
            tiers=self._tier_ids if self.ruleset.model.tiers else None,
            whole_tier_points=self._whole_tier_points,
            reading=self.reading,
        )

    def evaluate(
        self, snapshot: Snapshot | Mapping[str, Any], *, now: datetime, explain: bool = False
    ) -> EvaluationResult:
        """Decide what to grant now. `now` must be timezone-aware; `explain` adds the reasons
        for every rule and step to the result."""
        check_now(now)
        snapshot = self._own(snapshot)
        return Evaluation(self._prepared, snapshot, now).run(explain)

    def _own(self, snapshot: Snapshot | Mapping[str, Any]) -> Snapshot:
        """`snapshot` as this engine reads it: data is read (`read_snapshot`); a `Snapshot`
        read for a ruleset that reads snapshots differently (other attributes, custom events,
        tiers or limits) raises `SnapshotError` RE670, as its data was never checked against
        this ruleset and may lack what its rules read."""
        if not isinstance(snapshot, Snapshot):
            return self.read_snapshot(snapshot)
        reading = snapshot.reading
        if reading is not self.reading and reading is not None and reading != self.reading:
            raise read_for_another(reading, self.reading)
        return snapshot

    def evaluate_sharing(
        self,
        snapshot: Snapshot,
        *,
        now: datetime,
        trace: Trace | None = None,
        reuse: Reuse | None = None,
    ) -> EvaluationResult:
        """`evaluate` (no explanations) for two rulesets on one snapshot at one `now`
        (`ruleengine diff`): the first records in `trace` what the second may take, and the
        second takes from `reuse` what its pairing allows (`engine.reuse` says what and why)."""
        check_now(now)
        snapshot = self._own(snapshot)
        return Evaluation(self._prepared, snapshot, now, trace=trace, reuse=reuse).run(False)

    def evaluate_many(
        self,
        snapshots: Iterable[Snapshot | Mapping[str, Any]],
        *,
        now: datetime,
        jobs: int = 1,
    ) -> Iterator[EvaluationResult | SnapshotError]:
        """Evaluate many customers at one `now`, lazily, in input order.

        A snapshot that breaks the contract does not stop the batch: its `SnapshotError` is
        *yielded in its place* (named `snapshots[i]`, its 0-based position), so results stay
        aligned with inputs; check with `isinstance(item, SnapshotError)`. Any other failure
        raises. With `jobs > 1` the work runs in that many worker processes that compile this
        ruleset once from its text; at most a few chunks per worker are in flight, so memory
        stays constant however long `snapshots` is, and the results are exactly those of
        `evaluate` one by one. See `ruleengine.engine.batch`.
        """
        from ruleengine.engine.batch import evaluate_many  # the process pool loads only when used

        return evaluate_many(self, snapshots, now=now, jobs=jobs, factory=compile_engine)

    def timeline(self, snapshot: Snapshot | Mapping[str, Any], *, now: datetime) -> PointsHistory:
        """The customer's points history at `now`: every ledger entry in time order (earned,
        pending, became active, reversed, redeemed, revoked, adjusted, expired), with the
        points and the balance after each, in words a support agent can paste."""
        from ruleengine.engine.points_history import PointsHistory
        from ruleengine.engine.tier_decisions import tier_entries

        check_now(now)
        snapshot = self._own(snapshot)
        evaluation = Evaluation(self._prepared, snapshot, now, entries=True)
        evaluation.run(False)
        ledger = evaluation.ledger
        entries = ledger.entries
        tiers, replay = self.ruleset.model.tiers, evaluation.tier_replay
        if tiers is not None and replay is not None:
            entries = tier_entries(tiers, replay, entries, self.ruleset.model.currency)
        return PointsHistory(
            self.ruleset.program,
            snapshot.customer_id,
            now,
            self.zone,
            tuple(entries),
            ledger.balance,
        )

    def explainable_rules(self) -> list[str]:
        """The ids `explain(rule=...)` takes, in rule-file order: earning rules, milestones,
        redeeming options, and `tiers` when the ruleset has them."""
        model = self.ruleset.model
        return (
            [r.id for r in model.earning]
            + [m.id for m in model.milestones]
            + [p.id for p in model.redeeming]
            + (["tiers"] if model.tiers is not None else [])
        )

    def explain(
        self, snapshot: Snapshot | Mapping[str, Any], *, now: datetime, rule: str | None = None
    ) -> list[Explanation]:
        """Why each rule and step did or did not grant (only `rule`'s, when given; `tiers`
        asks why the customer is at their VIP level and not the next; an id
        the ruleset does not have raises `UnknownRuleError`, a `RuleEngineError` and `ValueError`,
        naming the ids it has and the closest one). Every rule asked
        about has at least one explanation: one that had nothing to decide says why (disabled,
        the customer excluded, not active yet, or no activity of its trigger before `now`)."""
        from ruleengine.engine.reasons import why_nothing

        model = self.ruleset.model
        ids = self.explainable_rules()
        if rule is not None and (not isinstance(rule, str) or rule not in ids):
            raise UnknownRuleError(rule, tuple(ids))
        snapshot = self._own(snapshot)
        result = self.evaluate(snapshot, now=now, explain=True)
        explained = [e for e in result.explanations if rule is None or e.rule == rule]
        said = {e.rule for e in explained}
        for earning in model.earning:
            if (rule is None or earning.id == rule) and earning.id not in said:
                status, reason = why_nothing(earning, snapshot, now, self.zone)
                explained.append(Explanation(earning.id, None, status, (reason,)))
        return explained


def compile_engine(text: str, name: str = "<string>", limits: Limits = DEFAULT_LIMITS) -> Engine:
    """Check and compile a rule file's text into an `Engine` (no cache). Raises `RuleSetError`
    with every diagnostic when the rules do not check. What batch workers compile with."""
    from ruleengine.diagnostics.diagnostic import RuleSetError
    from ruleengine.diagnostics.source import SourceFile
    from ruleengine.rules.ruleset import check_source

    result = check_source(SourceFile(name, text), limits=limits)
    if result.ruleset is None:
        raise RuleSetError(result.diagnostics)
    return Engine(result.ruleset, limits=limits)


def engine_for_text(text: str, name: str = "<string>", limits: Limits = DEFAULT_LIMITS) -> Engine:
    """The engine for a rule file's text, compiled once per process and content: parsing and
    compiling a ruleset costs milliseconds, evaluating a customer a fraction of one, so repeated
    loads of the same rules (worker start-up, a server reloading unchanged files) reuse it.
    Raises `RuleSetError` with every diagnostic when the rules do not check."""
    from ruleengine.engine.batch import cached_engine

    engine = cached_engine(compile_engine, text, name, limits)
    assert isinstance(engine, Engine)
    return engine
