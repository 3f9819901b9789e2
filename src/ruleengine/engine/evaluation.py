"""One evaluation: the replay of one customer's snapshot at `now` for one `Engine`.

`Evaluation` holds the state of one `Engine.evaluate` (or `timeline`, or one side of a diff)
call and never outlives it, so the engine itself stays immutable and shareable between
threads. Its order of work: the activity index (`timeline`), then earning and milestones in
rounds until the VIP tier settles (`decide_with_tiers`), the points ledger, redeeming, and the
result with its decisions sorted and their keys checked unique.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

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
from ruleengine.engine.earning_plan import EarningOutcome, EarningPlan
from ruleengine.engine.ledger import replay_ledger
from ruleengine.engine.ledger_types import (
    Award,
    LedgerOutcome,
    earning_award,
    milestone_award,
    own_points_of,
)
from ruleengine.engine.milestones.evaluate import evaluate_milestone
from ruleengine.engine.milestones.ledgers import OwnPoint
from ruleengine.engine.milestones.plan import (
    MilestoneContext,
    MilestoneOutcome,
    MilestonePlan,
    milestone_plan,
)
from ruleengine.engine.snapshot import Snapshot
from ruleengine.engine.timeline import Timeline
from ruleengine.expr.program import Env, roots_of
from ruleengine.expr.runtime import EvalContext, EvaluationError
from ruleengine.limits import Limits
from ruleengine.rules.models import MilestoneType, TierBasis, Tiers
from ruleengine.rules.ruleset import CompiledExpression, RuleSet

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from ruleengine.engine.redeeming import Redeemable
    from ruleengine.engine.reuse import Reuse, Trace  # `diff` only: loaded by engine.paired
    from ruleengine.engine.tiers import TierReplay

# Loaded when used: the tiers and redeeming (a ruleset with them), explanations and the
# points history (their commands), so `ruleengine eval` of a ruleset without them skips them.


class Prepared(msgspec.Struct, frozen=True):
    """What every evaluation needs from a ruleset, worked out once by `Engine` (immutable, so
    shared by every thread's evaluations): earning rules in ready form grouped by trigger,
    each milestone's steps, keys and window (in UTC), and what the tiers ask for."""

    ruleset: RuleSet
    limits: Limits
    zone: ZoneInfo
    hash: str
    earning: EarningPlan
    milestone_plans: tuple[MilestonePlan, ...]
    # Whether anything counts the ruleset's own points (a `points_earned` step, or tiers on
    # points earned): only then are they collected, in time order, as milestones decide.
    counts_points: bool
    # Whether any expression may read `customer.tier` (by its text: a cheap, safe over-
    # estimate): only then can the tier change the points (`decide_with_tiers`).
    reads_tier: bool
    tier_ids: tuple[str, ...]

    @classmethod
    def of(cls, ruleset: RuleSet, limits: Limits) -> Prepared:
        zone = ruleset.timezone
        plans = tuple(milestone_plan(milestone, zone) for milestone in ruleset.model.milestones)
        tiers = ruleset.model.tiers
        counts_points = any(
            step.metric is MilestoneType.POINTS_EARNED for plan in plans for step in plan.steps
        ) or (tiers is not None and tiers.basis is TierBasis.POINTS_EARNED)
        return cls(
            ruleset,
            limits,
            zone,
            ruleset.hash,
            EarningPlan(ruleset, zone),
            plans,
            counts_points,
            any("tier" in e.text for e in ruleset.expressions.values()),
            tuple(level.id for level in tiers.levels) if tiers else (),
        )

    def tier_customers(self, customer: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The customer record at each tier level: what `customer.tier` reads then."""
        return [{**customer, "tier": level} for level in self.tier_ids]


class _Outcome(msgspec.Struct):
    """What one round of earning and milestones decided (`Evaluation.decide`)."""

    variables: dict[str, Any]  # what `when` conditions at `now` read: `customer`, `stats`
    decisions: list[Decision] = msgspec.field(default_factory=list)
    progress: list[Progress] = msgspec.field(default_factory=list)
    explanations: list[Explanation] = msgspec.field(default_factory=list)
    # The earning decisions with points, and the other awards (milestones', tiers'): the
    # ledger reads the decisions' points as they are (`replay_ledger`'s `earning`), so a plain
    # evaluation makes no `Award` for each (see `every_award`).
    earning: list[Decision] = msgspec.field(default_factory=list)
    awards: list[Award] = msgspec.field(default_factory=list)
    own_points: list[OwnPoint] = msgspec.field(default_factory=list)

    def every_award(self) -> list[Award]:
        """Every award in order: the earning decisions' (`earning_award`), then the rest."""
        return [*map(earning_award, self.earning), *self.awards]


class Evaluation:
    """The work of one `Engine.evaluate` call: state lives here, never on the engine."""

    def __init__(
        self,
        engine: Prepared,
        snapshot: Snapshot,
        now: datetime,
        *,
        entries: bool = False,
        trace: Trace | None = None,
        reuse: Reuse | None = None,
    ) -> None:
        self.engine = engine
        self.entries = entries  # the ledger's entries, in words: only `Engine.timeline` reads them
        self.ruleset = engine.ruleset
        self.snapshot = snapshot
        self.now = now  # as given, for the result
        # Internally `now` is in UTC, as every activity timestamp is: comparisons between
        # datetimes of one tzinfo are several times faster than across zones.
        self.ctx = EvalContext(utc(now), engine.zone)
        self.trace, self.reuse = trace, reuse  # see `Engine.evaluate_sharing`
        shared = reuse.timeline() if reuse is not None else None
        self.timeline = shared or Timeline.build(snapshot, self.ctx.now, engine.zone)
        if trace is not None:
            trace.timeline = self.timeline
        self.problems: list[RuntimeProblem] = []
        self.tier_replay: TierReplay | None = None

    def run(self, explain: bool) -> EvaluationResult:
        excluded = bool(self.snapshot.customer.get("excluded"))
        tiers = self.ruleset.model.tiers
        replay: TierReplay | None = None
        if tiers is None:
            outcome = self.decide(explain, excluded, None)
        else:
            outcome, replay = self.decide_with_tiers(tiers, explain, excluded)
        decisions, awards = outcome.decisions, outcome.awards
        explanations = outcome.explanations
        if tiers is not None and replay is not None:
            from ruleengine.engine.tier_decisions import tier_decisions

            changes, entry_awards = tier_decisions(tiers, replay, self.snapshot.granted, excluded)
            decisions.extend(changes)
            awards.extend(entry_awards)
        self.tier_replay = replay
        self.ledger = replay_ledger(
            self.ruleset.model,
            awards,
            self.timeline,
            self.ctx,
            self.snapshot.granted,
            entries=self.entries,
            earning=outcome.earning,
        )
        decisions.extend(self.ledger.decisions)
        check_unique_keys(decisions)  # the rules' and the ledger's
        self.problems.extend(self.ledger_problems(self.ledger))
        ledger_fields = self.ledger_json(self.ledger, outcome.variables)
        ledger_fields["tier"] = None
        if tiers is not None and replay is not None:
            from ruleengine.engine.tiers import tier_json

            currency = self.ruleset.model.currency
            ledger_fields["tier"] = tier_json(tiers, replay, currency)
            if explain:
                explanations.append(self.explain_tier(tiers, replay, outcome.every_award()))
        if explain:
            explanations.extend(self.explain_redeeming(outcome.variables, excluded))
        return EvaluationResult(
            program=self.ruleset.program,
            ruleset_hash=self.engine.hash,
            customer=self.snapshot.customer_id,
            evaluated_at=self.now,
            decisions=sort_decisions(decisions),
            progress=tuple(outcome.progress),
            problems=tuple(self.problems),
            explanations=tuple(explanations) if explain else (),
            ledger=ledger_fields,
        )

    def decide_with_tiers(
        self, tiers: Tiers, explain: bool, excluded: bool
    ) -> tuple[_Outcome, TierReplay]:
        """Earning and milestones with `customer.tier` as it happened, and the tier replay.

        Orders-based tiers do not depend on the rules' points, so their replay comes first.
        A `points_earned` tier does, and the points may depend on the tier (a gold rate): the
        evaluation runs with the tier of the previous round until the tier changes agree with
        the points that made them. Each round is right up to one more change than the last
        (everything before a moment depends only on earlier activity), so this ends; a ruleset
        whose expressions never read the tier needs a single round."""
        from ruleengine.engine.tier_decisions import tier_actions
        from ruleengine.engine.tiers import replay_tiers, tier_contributions

        currency, now, zone = self.ruleset.model.currency, self.ctx.now, self.ctx.tz
        actions = tier_actions(tiers, self.timeline)
        contributions = tier_contributions(tiers, self.timeline, currency, ())
        replay = replay_tiers(tiers, contributions, now, zone, actions)
        if tiers.basis is not TierBasis.POINTS_EARNED:
            return self.decide(explain, excluded, replay), replay
        rounds = 2 * len(self.snapshot.activity) + 8  # a guard: each round fixes one change
        while True:
            outcome = self.decide(explain, excluded, replay)
            contributions = tier_contributions(tiers, self.timeline, currency, outcome.own_points)
            final = replay_tiers(tiers, contributions, now, zone, actions)
            rounds -= 1
            if not self.engine.reads_tier or final.changes == replay.changes or not rounds:
                return outcome, final
            replay = final

    def decide(self, explain: bool, excluded: bool, replay: TierReplay | None) -> _Outcome:
        """Earning, then milestones: decisions, progress, explanations and awards. With
        `replay`, `customer.tier` is the tier as it stood at each moment."""
        self.problems = []
        customer, customer_at = self.customer_with_tier(replay)
        result = _Outcome(variables={"customer": customer})
        decisions, progress, explanations = result.decisions, result.progress, result.explanations
        shared = MilestoneContext(
            timeline=self.timeline,
            ctx=self.ctx,
            granted=self.snapshot.granted,
            excluded=excluded,
            currency=self.ruleset.model.currency,
            explain=explain,
        )
        now_variables = result.variables
        # Earning first: its points feed `points_earned` milestones and the ledger.
        earning = self.earn(explain, excluded, customer_at)
        awards = result.awards
        result.earning = earning.awards
        counts_points = self.engine.counts_points
        own_points = (
            sorted(own_points_of(a) for a in result.every_award() if a.active_at <= self.ctx.now)
            if counts_points
            else []
        )
        counted = 0  # how many of `own_points` the shared context holds
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
            plan = self.engine.milestone_plans[index]
            if len(own_points) != counted:  # the list only grows
                shared = msgspec.structs.replace(shared, own_points=tuple(own_points))
                counted = len(own_points)
            outcome = self.milestone(index, plan, shared, blockers)
            decisions.extend(outcome.decisions)
            if outcome.progress is not None:
                progress.append(outcome.progress)
            explanations.extend(outcome.explanations)
            for decision, decided_at in outcome.awards:
                award = milestone_award(decision, decided_at)
                if award is not None:
                    awards.append(award)
                    if counts_points and award.active_at <= self.ctx.now:
                        bisect.insort(own_points, own_points_of(award))
        decisions.extend(earning.decisions)
        explanations.extend(earning.explanations)
        result.own_points = own_points
        return result

    def earn(
        self,
        explain: bool,
        excluded: bool,
        customer_at: Callable[[datetime], dict[str, Any]] | None,
    ) -> EarningOutcome:
        """The earning rules' decisions and awards (a first ruleset's, when `reuse` has them)."""
        earning = self.reuse.earning() if self.reuse is not None else None
        if earning is None:
            earning = EarningEvaluator(
                self.engine.earning,
                self.snapshot,
                self.timeline,
                self.ctx,
                self.report,
                explain=explain,
                max_points=self.engine.limits.max_points,
                customer_at=customer_at,
            ).run(excluded)
        if self.trace is not None:  # problems name this ruleset's file: not to be reused
            self.trace.earning = None if self.problems else earning
        return earning

    def milestone(
        self, index: int, plan: MilestonePlan, shared: MilestoneContext, blockers: list[str]
    ) -> MilestoneOutcome:
        """Milestone `index` decided (a first ruleset's outcome, when `reuse` allows)."""
        outcome = self.reuse.milestone(index, blockers) if self.reuse is not None else None
        if outcome is None:
            milestone = self.ruleset.model.milestones[index]
            outcome = evaluate_milestone(milestone, plan, shared, not blockers, blockers)
        if self.trace is not None:
            self.trace.milestones[index] = (tuple(blockers), outcome)
        return outcome

    def customer_with_tier(
        self, replay: TierReplay | None
    ) -> tuple[Mapping[str, Any], Callable[[datetime], dict[str, Any]] | None]:
        """The customer record at `now`, and at any moment of the replay (None without
        tiers: the host's record throughout)."""
        customer = self.snapshot.customer
        if replay is None:
            return customer, None
        customers = self.engine.tier_customers(customer)
        if not self.engine.reads_tier:  # no expression reads it: no lookup per activity
            return customers[replay.state.level], None
        level_at = replay.level_at

        def customer_at(moment: datetime) -> dict[str, Any]:
            return customers[level_at(moment)]

        return customers[replay.state.level], customer_at

    def explain_tier(self, tiers: Tiers, replay: TierReplay, awards: list[Award]) -> Explanation:
        """Why the customer is not at the next level: see `tier_decisions.explain_tier`."""
        from ruleengine.engine.tier_decisions import (
            explain_tier,
            pending_orders,
            pending_points,
            unticked_adjustments,
        )
        from ruleengine.engine.tiers import tier_notes

        timeline, now, zone = self.timeline, self.ctx.now, self.ctx.tz
        currency = self.ruleset.model.currency
        notes: list[tuple[datetime, str]] = []
        if tiers.basis is TierBasis.POINTS_EARNED:
            pending = pending_points(awards, now, zone) + unticked_adjustments(timeline)
        else:
            notes = tier_notes(tiers, timeline, currency)
            hold = tiers.order_requirements.refund_hold_days if tiers.order_requirements else 0
            pending = pending_orders(timeline.orders, hold, now, zone)
        manual = [c for c in replay.changes if c.kind == "manual"]
        store = manual[-1] if manual else None
        return explain_tier(tiers, replay.state, timeline, currency, notes, pending, store)

    def ledger_json(self, ledger: LedgerOutcome, variables: dict[str, Any]) -> dict[str, Any]:
        """The result's ledger fields; `redeemable` reads each program's `when` at `now`."""
        model = self.ruleset.model

        def allows(index: int) -> bool:
            return self.redeeming_allows(index, variables)

        excluded = bool(self.snapshot.customer.get("excluded"))
        redeemable: list[Redeemable] = []
        if model.redeeming and not excluded:
            from ruleengine.engine.redeeming import redeemable_programs

            redeemable = redeemable_programs(
                model.redeeming,
                ledger.balance.active,
                self.timeline.redemptions,
                self.ctx,
                allows,
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
        from ruleengine.engine.redeeming import explain_program

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
        from ruleengine.engine.reasons import field_values

        values = field_values(condition.checked.root, env)
        detail = f" ({', '.join(values)})" if values else ""
        return False, [f"the condition `{text}` is false{detail}"]

    def report(self, expression: CompiledExpression, rule: str, error: EvaluationError) -> None:
        diagnostic = expression.report(error.span, error.code, error.message)
        self.problems.append(
            RuntimeProblem(
                error.code, rule, error.message, diagnostic.file, diagnostic.line, diagnostic.column
            )
        )


def _reads_stats(expression: CompiledExpression) -> bool:
    """Whether an expression reads `stats` (assumed when its compiled form cannot say)."""
    roots = roots_of(expression.evaluate)
    return roots is None or "stats" in roots
