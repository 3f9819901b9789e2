"""The engine: a compiled ruleset + a customer snapshot + `now` -> decisions and progress.

`Engine` is immutable after construction and does no I/O, reads no clock and keeps no global
state, so one instance can serve many threads. (The one module-level state nearby is the
compiled-ruleset cache that `evaluate_many` and `engine_for_text` use: it lives in
`engine.batch`, behind a lock.) Evaluation is deterministic: the same ruleset,
snapshot and `now` always give the same decisions, in the same order, with the same keys.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, tzinfo
from typing import Any

from ruleengine.engine.activity import utc
from ruleengine.engine.decisions import (
    Decision,
    EvaluationResult,
    Explanation,
    Progress,
    RuntimeProblem,
    check_unique_keys,
    sort_decisions,
)
from ruleengine.engine.earning import EarningEvaluator
from ruleengine.engine.earning_plan import EarningPlan
from ruleengine.engine.ledger import replay_ledger
from ruleengine.engine.ledger_types import (
    LedgerOutcome,
    earning_award,
    milestone_award,
    own_points_of,
)
from ruleengine.engine.milestones.evaluate import evaluate_milestone
from ruleengine.engine.milestones.ledgers import OwnPoint
from ruleengine.engine.milestones.plan import MilestoneContext, milestone_plan
from ruleengine.engine.points_history import PointsHistory
from ruleengine.engine.redeeming import explain_program, redeemable_programs
from ruleengine.engine.snapshot import Snapshot, SnapshotError, read_snapshot, read_snapshot_text
from ruleengine.engine.tiers import replay_tiers, tier_contributions, tier_json
from ruleengine.engine.timeline import Timeline, window_bounds
from ruleengine.expr.ast import Expr, FieldAccess, child_nodes
from ruleengine.expr.checked import path_of
from ruleengine.expr.program import Env, roots_of
from ruleengine.expr.runtime import EvalContext, EvaluationError, check_now
from ruleengine.limits import DEFAULT_LIMITS, Limits
from ruleengine.rules.models import EarningRule
from ruleengine.rules.ruleset import CompiledExpression, RuleSet
from ruleengine.rules.vocabulary import customer_type


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
        # What the rules need from the ruleset alone, worked out once: earning rules in ready
        # form grouped by trigger; each milestone's steps, keys and window (in UTC).
        self._earning = EarningPlan(ruleset, self.zone)
        self._milestone_plans = tuple(
            milestone_plan(milestone, self.zone) for milestone in ruleset.model.milestones
        )
        self._hash = ruleset.hash

    def read_snapshot(self, data: Any, *, name: str = "<snapshot>") -> Snapshot:
        """Validate JSON-like data as a snapshot for this ruleset (raises `SnapshotError`)."""
        return read_snapshot(
            data,
            customer_type=self._customer_type,
            events=self.ruleset.model.events,
            name=name,
            limits=self.limits,
        )

    def read_snapshot_text(
        self, text: str, *, name: str = "<snapshot>", line: int | None = None
    ) -> Snapshot:
        """Parse JSON text and validate it as a snapshot for this ruleset, within the engine's
        limits (raises `SnapshotError`; JSON that does not parse is RE611 at its line and
        column). `line` is the line of a file the text starts on, for JSON Lines."""
        return read_snapshot_text(
            text,
            customer_type=self._customer_type,
            events=self.ruleset.model.events,
            name=name,
            line=line,
            limits=self.limits,
        )

    def evaluate(
        self, snapshot: Snapshot | Mapping[str, Any], *, now: datetime, explain: bool = False
    ) -> EvaluationResult:
        """Decide what to grant now. `now` must be timezone-aware; `explain` adds the reasons
        for every rule and step to the result."""
        check_now(now)
        if not isinstance(snapshot, Snapshot):
            snapshot = self.read_snapshot(snapshot)
        return _Evaluation(self, snapshot, now).run(explain)

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
        check_now(now)
        if not isinstance(snapshot, Snapshot):
            snapshot = self.read_snapshot(snapshot)
        evaluation = _Evaluation(self, snapshot, now)
        evaluation.run(False)
        ledger = evaluation.ledger
        return PointsHistory(
            self.ruleset.program,
            snapshot.customer_id,
            now,
            self.zone,
            tuple(ledger.entries),
            ledger.balance,
        )

    def explain(
        self, snapshot: Snapshot | Mapping[str, Any], *, now: datetime, rule: str | None = None
    ) -> list[Explanation]:
        """Why each rule and step did or did not grant (only `rule`'s, when given; an id
        the ruleset does not have raises `ValueError` naming the ids it has). Every rule asked
        about has at least one explanation: one that had nothing to decide says why (disabled,
        the customer excluded, not active yet, or no activity of its trigger before `now`)."""
        model = self.ruleset.model
        ids = (
            [r.id for r in model.earning]
            + [m.id for m in model.milestones]
            + [p.id for p in model.redeeming]
        )
        if rule is not None and rule not in ids:
            raise ValueError(f"no rule `{rule}`; the rules are {', '.join(f'`{i}`' for i in ids)}")
        if not isinstance(snapshot, Snapshot):
            snapshot = self.read_snapshot(snapshot)
        result = self.evaluate(snapshot, now=now, explain=True)
        explained = [e for e in result.explanations if rule is None or e.rule == rule]
        said = {e.rule for e in explained}
        for earning in model.earning:
            if (rule is None or earning.id == rule) and earning.id not in said:
                status, reason = _why_nothing(earning, snapshot, now, self.zone)
                explained.append(Explanation(earning.id, None, status, (reason,)))
        return explained


class _Evaluation:
    """The work of one `Engine.evaluate` call: state lives here, never on the engine."""

    def __init__(self, engine: Engine, snapshot: Snapshot, now: datetime) -> None:
        self.engine = engine
        self.ruleset = engine.ruleset
        self.snapshot = snapshot
        self.now = now  # as given, for the result
        # Internally `now` is in UTC, as every activity timestamp is: comparisons between
        # datetimes of one tzinfo are several times faster than across zones.
        self.ctx = EvalContext(utc(now), engine.zone)
        self.timeline = Timeline.build(snapshot, self.ctx.now, engine.zone)
        self.problems: list[RuntimeProblem] = []

    def run(self, explain: bool) -> EvaluationResult:
        decisions: list[Decision] = []
        progress: list[Progress] = []
        explanations: list[Explanation] = []
        excluded = bool(self.snapshot.customer.get("excluded"))
        shared = MilestoneContext(
            timeline=self.timeline,
            ctx=self.ctx,
            granted=self.snapshot.granted,
            excluded=excluded,
            currency=self.ruleset.model.currency,
            explain=explain,
        )
        now_variables: dict[str, Any] = {"customer": self.snapshot.customer}
        # Earning first: its points feed `points_earned` milestones and the ledger.
        earning = EarningEvaluator(
            self.engine._earning,
            self.snapshot,
            self.timeline,
            self.ctx,
            self.report,
            explain=explain,
            max_points=self.engine.limits.max_points,
        ).run(excluded)
        awards = [earning_award(d) for d in earning.awards]
        own_points = sorted(own_points_of(a) for a in awards if a.active_at <= self.ctx.now)
        for index, milestone in enumerate(self.ruleset.model.milestones):
            if not milestone.enabled:
                if explain:
                    explanations.append(
                        Explanation(
                            milestone.id,
                            None,
                            "disabled",
                            ("the rule is disabled (`enabled: false`)",),
                        )
                    )
                continue
            blockers: list[str] = []
            if excluded:
                blockers.append("the customer is excluded from the program")
            condition = self.ruleset.expression("milestones", index, "when")
            if condition is not None and not excluded:
                if "stats" not in now_variables and _reads_stats(condition):
                    now_variables["stats"] = self.timeline.stats_at(self.ctx.now)
                holds, reasons = self.condition(condition, milestone.id, now_variables, explain)
                if not holds:
                    blockers.extend(reasons)
            plan = self.engine._milestone_plans[index]
            if own_points:
                shared = dataclasses.replace(shared, own_points=tuple(own_points))
            outcome = evaluate_milestone(milestone, plan, shared, not blockers, blockers)
            decisions.extend(outcome.decisions)
            if outcome.progress is not None:
                progress.append(outcome.progress)
            explanations.extend(outcome.explanations)
            for decision, decided_at in outcome.awards:
                award = milestone_award(decision, decided_at)
                if award is not None:
                    awards.append(award)
                    if award.active_at <= self.ctx.now:
                        bisect.insort(own_points, own_points_of(award))
        decisions.extend(earning.decisions)
        check_unique_keys(decisions)
        explanations.extend(earning.explanations)
        self.ledger = replay_ledger(
            self.ruleset.model, awards, self.timeline, self.ctx, self.snapshot.granted
        )
        decisions.extend(self.ledger.decisions)
        self.problems.extend(self.ledger_problems(self.ledger))
        ledger_fields = self.ledger_json(self.ledger, now_variables)
        ledger_fields["tier"] = self.tier_json(own_points)
        if explain:
            explanations.extend(self.explain_redeeming(now_variables, excluded))
        return EvaluationResult(
            program=self.ruleset.program,
            ruleset_hash=self.engine._hash,
            customer=self.snapshot.customer_id,
            evaluated_at=self.now,
            decisions=sort_decisions(decisions),
            progress=tuple(progress),
            problems=tuple(self.problems),
            explanations=tuple(explanations) if explain else (),
            ledger=ledger_fields,
        )

    def tier_json(self, own_points: list[OwnPoint]) -> dict[str, Any] | None:
        """The result's `tier` (None without `tiers`): see `engine.tiers`."""
        tiers = self.ruleset.model.tiers
        if tiers is None:
            return None
        currency = self.ruleset.model.currency
        contributions = tier_contributions(tiers, self.timeline, currency, own_points)
        replay = replay_tiers(tiers, contributions, self.ctx.now, self.ctx.tz)
        return tier_json(tiers, replay, currency)

    def ledger_json(self, ledger: LedgerOutcome, variables: dict[str, Any]) -> dict[str, Any]:
        """The result's ledger fields; `redeemable` reads each program's `when` at `now`."""
        model = self.ruleset.model

        def allows(index: int) -> bool:
            return self.redeeming_allows(index, variables)

        excluded = bool(self.snapshot.customer.get("excluded"))
        redeemable = (
            []
            if excluded
            else redeemable_programs(
                model.redeeming,
                ledger.balance.active,
                self.timeline.redemptions,
                self.ctx,
                allows,
            )
        )
        return {
            "balance": ledger.balance.to_json(),
            "expiring": [e.to_json() for e in ledger.expiring],
            "redeemable": [r.to_json() for r in redeemable],
            "coupons": [c.to_json() for c in ledger.coupons],
        }

    def redeeming_allows(self, index: int, variables: dict[str, Any]) -> bool:
        """Whether redeeming program `index`'s `when` holds at `now` (True without one)."""
        condition = self.ruleset.expression("redeeming", index, "when")
        if condition is None:
            return True
        if "stats" not in variables:
            variables["stats"] = self.timeline.stats_at(self.ctx.now)
        program = self.ruleset.model.redeeming[index]
        holds, _ = self.condition(condition, program.id, variables, False)
        return holds

    def explain_redeeming(self, variables: dict[str, Any], excluded: bool) -> list[Explanation]:
        """Why the customer may or may not redeem each program now."""
        found = []
        for index, program in enumerate(self.ruleset.model.redeeming):
            if excluded:
                reasons: tuple[str, ...] = ("the customer is excluded from the program",)
                found.append(Explanation(program.id, None, "not_redeemable", reasons))
                continue
            status, reasons = explain_program(
                program,
                self.ledger.balance.active,
                self.timeline.redemptions,
                self.ctx,
                functools.partial(self.redeeming_allows, index, variables),
            )
            found.append(Explanation(program.id, None, status, reasons))
        return found

    def ledger_problems(self, ledger: LedgerOutcome) -> list[RuntimeProblem]:
        """The ledger's problems, located at the activity's JSON path in the snapshot."""
        if not ledger.problems:
            return []
        where: dict[str, int] = {}
        for index, entry in enumerate(self.snapshot.activity):
            if entry.type in ("redemption", "adjustment", "points_earned"):
                where.setdefault(entry.id, index)
        found = []
        for problem in ledger.problems:
            found_at = where.get(problem.subject)
            path = "$" if found_at is None else f"$.activity[{found_at}]"
            found.append(
                RuntimeProblem(
                    problem.code,
                    problem.subject,
                    problem.message,
                    "<snapshot>",
                    0,
                    0,
                    path,
                    problem.amount,
                )
            )
        return found

    def condition(
        self,
        condition: CompiledExpression,
        rule: str,
        variables: dict[str, Any],
        explain: bool,
    ) -> tuple[bool, list[str]]:
        """Evaluate a rule's `when`; when it does not hold, say so (with the values it read,
        when `explain`: only explanations show them)."""
        env = Env(self.ctx, variables)
        try:
            if condition.evaluate(env):
                return True, []
        except EvaluationError as error:
            self.report(condition, rule, error)
            return False, [f"the condition could not be evaluated: {error.message}"]
        text = " ".join(condition.text.split())
        if not explain:
            return False, [f"the condition `{text}` is false"]
        values = _field_values(condition.checked.root, env)
        detail = f" ({', '.join(values)})" if values else ""
        return False, [f"the condition `{text}` is false{detail}"]

    def report(self, expression: CompiledExpression, rule: str, error: EvaluationError) -> None:
        diagnostic = expression.report(error.span, error.code, error.message)
        self.problems.append(
            RuntimeProblem(
                error.code, rule, error.message, diagnostic.file, diagnostic.line, diagnostic.column
            )
        )


def _why_nothing(
    rule: EarningRule, snapshot: Snapshot, now: datetime, zone: tzinfo
) -> tuple[str, str]:
    """Why an earning rule had nothing to decide for this customer: a status and a reason."""
    if not rule.enabled:
        return "disabled", "the rule is disabled (`enabled: false`)"
    if snapshot.customer.get("excluded"):
        return "not_eligible", "the customer is excluded from the program"
    start, end = window_bounds(rule.active, zone)
    if start is not None and now < start:
        assert rule.active is not None
        return "inactive", f"not active until {rule.active.from_}"
    if rule.on == "birthday":
        if snapshot.customer.get("birthday") is None:
            return "no_activity", "the customer has no `birthday` in the snapshot"
        return "no_activity", "no birthday of the customer's is due for a reward before now"
    kind = {"subscription_order": "order", "referral_converted": "referral"}.get(rule.on, rule.on)
    moment = utc(now)
    if end is not None and end <= moment:
        assert rule.active is not None
        ended = f" (the rule ended on {rule.active.until})"
    else:
        ended = ""
    if not any(a.type == kind and a.at <= moment for a in snapshot.activity):
        return "no_activity", f"no `{kind}` activity in the snapshot before now{ended}"
    return "no_activity", f"no `{kind}` activity gave the rule anything to decide{ended}"


def _reads_stats(expression: CompiledExpression) -> bool:
    """Whether an expression reads `stats` (assumed when its compiled form cannot say)."""
    roots = roots_of(expression.evaluate)
    return roots is None or "stats" in roots


def _field_values(root: Expr, env: Env) -> list[str]:
    """`customer.tags = ["wholesale"]` for each field path a condition reads."""
    seen: dict[str, str] = {}
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, FieldAccess):
            path = path_of(node)
            if path is not None and "[" not in path:  # plain field paths only
                value = _read(env.variables, path)
                seen.setdefault(path, _show(value))
                continue
        stack.extend(child_nodes(node))
    return [f"{path} = {value}" for path, value in sorted(seen.items())]


def _read(variables: Mapping[str, Any], path: str) -> Any:
    root, *fields = path.split(".")
    value: Any = variables.get(root)
    for name in fields:
        value = value.get(name) if isinstance(value, Mapping) else None
    return value


def _show(value: Any) -> str:
    import json
    from datetime import date
    from decimal import Decimal

    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return repr(value)


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
