"""Earning rules: points for each activity that fires a rule's trigger.

Activity is replayed in time order. For each activity, every enabled rule on its trigger is
checked (window, channels, limit, condition) and its points formula evaluated with the
activity, the customer and the customer's `stats` as they stood at that moment (the activity
itself included). Rules with `stacking: best` compete: of those that match the same activity,
only the one with the most points grants (ties: higher `priority`, then the earlier rule in the
file); `stacking: combine` rules always grant. Keys are `<rule>/<activity id>` (`<rule>/<year>`
for birthdays), so replaying history never grants twice.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from ruleengine.activity import Event, Order, Review
from ruleengine.decisions import Decision, DecisionStatus, Explanation, RewardGrant
from ruleengine.expr.compiler import bind, roots_of
from ruleengine.expr.runtime import EvalContext, EvaluationError
from ruleengine.limits import DEFAULT_LIMITS
from ruleengine.milestones import window_bounds
from ruleengine.models import EarningRule, LimitPeriod, Stacking
from ruleengine.ruleset import CompiledExpression, RuleSet
from ruleengine.snapshot import Snapshot
from ruleengine.timeline import Timeline, fully_refunded, refund_known, refunded_amount
from ruleengine.vocabulary import activity_name
from ruleengine.wording import day


@dataclass(frozen=True)
class Hit:
    """One occasion for a rule: an activity (or a birthday) with what the rule sees of it."""

    activity_id: str
    key: str  # the decision key's suffix: the activity id, or the birthday's year
    at: datetime
    kind: str  # activity type, for the total order of occasions
    record: dict[str, Any]  # the activity as the rule's expressions see it
    order: Order | None = None
    blocked: str | None = None  # why this occasion cannot earn (birthday set too recently)


@dataclass
class EarningOutcome:
    decisions: list[Decision] = field(default_factory=list)
    explanations: list[Explanation] = field(default_factory=list)


Report = Callable[[CompiledExpression, str, EvaluationError], None]


@dataclass(frozen=True)
class _Compiled:
    """An earning rule's expressions, bound for one evaluation, and what they read."""

    condition: CompiledExpression | None
    formula: CompiledExpression
    steps: tuple[tuple[CompiledExpression, Callable[[dict[str, Any]], Any]], ...]
    reads_stats: bool
    activity: str  # `order`, `review` or `event`
    contextual: bool  # reads `now()`/`today()`: bound to each activity's moment


@dataclass(frozen=True)
class _Candidate:
    index: int
    rule: EarningRule
    points: int


class EarningEvaluator:
    """Replays one customer's activity through the ruleset's earning rules."""

    def __init__(
        self,
        ruleset: RuleSet,
        snapshot: Snapshot,
        timeline: Timeline,
        ctx: EvalContext,
        report: Report,
        *,
        explain: bool = True,
        max_points: int = DEFAULT_LIMITS.max_points,
    ) -> None:
        self.ruleset = ruleset
        self.max_points = max_points
        self.snapshot = snapshot
        self.timeline = timeline
        self.ctx = ctx
        self.report = report
        self.granted = snapshot.granted
        self.grants: dict[str, list[datetime]] = {}  # rule id -> moments it granted (limits)
        self.outcome = EarningOutcome()
        # Explanations are only built when asked for: most evaluations never show them.
        self.explaining = explain
        self._rules: dict[int, _Compiled] = {}

    def run(self, excluded: bool) -> EarningOutcome:
        for rule in self.ruleset.model.earning:
            if not rule.enabled:
                self.outcome.explanations.append(
                    Explanation(
                        rule.id, None, "disabled", ("the rule is disabled (`enabled: false`)",)
                    )
                )
        rules = [(i, r) for i, r in enumerate(self.ruleset.model.earning) if r.enabled]
        occasions: dict[tuple[datetime, str, str], list[tuple[int, EarningRule, Hit]]] = {}
        for index, rule in rules:
            for hit in self.hits(rule):
                occasions.setdefault((hit.at, hit.kind, hit.activity_id), []).append(
                    (index, rule, hit)
                )
        for moment in sorted(occasions):
            self.decide_occasion(occasions[moment], excluded)
        return self.outcome

    # -- occasions --------------------------------------------------------------------------

    def hits(self, rule: EarningRule) -> Iterator[Hit]:
        trigger = rule.on
        timeline = self.timeline
        if trigger in ("order", "subscription_order"):
            for order in timeline.orders:
                if trigger == "order" or order.subscription_id is not None:
                    yield Hit(order.id, order.id, order.at, "order", self.record(order), order)
        elif trigger == "review":
            for review in timeline.reviews:
                yield Hit(review.id, review.id, review.at, "review", self.record(review))
        elif trigger == "birthday":
            yield from self.birthday_hits(rule)
        else:
            for event in timeline.events:
                if event.type == trigger:
                    yield Hit(event.id, event.id, event.at, event.type, self.record(event))

    def record(self, activity: Order | Review | Event) -> dict[str, Any]:
        """The activity as rules see it (a custom event with its declared fields), made when
        the snapshot was read and shared by every rule on its trigger: expressions only read
        records."""
        return activity.record

    def birthday_hits(self, rule: EarningRule) -> Iterator[Hit]:
        """The birthday whose earning period contains `now`, if any (one per year)."""
        birthday = self.snapshot.customer.get("birthday")
        if not isinstance(birthday, date):
            return
        options = rule.birthday
        before = options.days_before if options else 0
        after = options.days_after if options else 30
        guard = options.min_days_since_set if options else 30
        zone = self.ctx.tz
        set_at = self.snapshot.birthday_set_at
        for year in (self.ctx.today.year - 1, self.ctx.today.year, self.ctx.today.year + 1):
            occurs = birthday_in(year, birthday)
            start = datetime.combine(occurs - timedelta(days=before), time(0), zone)
            end = datetime.combine(occurs + timedelta(days=after + 1), time(0), zone)
            if not start <= self.ctx.now < end:
                continue
            blocked = None
            birthday_starts = datetime.combine(occurs, time(0), zone)
            if set_at is not None and birthday_starts - set_at < timedelta(days=guard):
                blocked = (
                    f"the birthday was set on {day(set_at, zone)}, less than {guard} "
                    f"days before the {year} birthday (abuse guard)"
                )
            record = {"id": f"birthday-{year}", "at": start}
            yield Hit(f"birthday-{year}", str(year), start, "birthday", record, blocked=blocked)

    # -- deciding ---------------------------------------------------------------------------

    def decide_occasion(self, entries: list[tuple[int, EarningRule, Hit]], excluded: bool) -> None:
        candidates: list[_Candidate] = []
        for index, rule, hit in entries:
            points = self.points_for(index, rule, hit, excluded)
            if points is not None:
                candidates.append(_Candidate(index, rule, points))
        best = [c for c in candidates if c.rule.stacking is Stacking.BEST]
        winner = max(best, key=lambda c: (c.points, c.rule.priority, -c.index), default=None)
        hit = entries[0][2]
        for candidate in candidates:
            if candidate.rule.stacking is Stacking.BEST and candidate is not winner:
                assert winner is not None
                self.explain(
                    candidate.rule,
                    hit,
                    "not_applied",
                    (
                        f"{candidate.points} points, but `{winner.rule.id}` gives {winner.points} "
                        "and only the best `stacking: best` rule applies",
                    ),
                )
                continue
            self.grant(candidate.rule, hit, candidate.points)

    def points_for(self, index: int, rule: EarningRule, hit: Hit, excluded: bool) -> int | None:
        """The points the rule gives for this occasion, or None (explained) when it gives none."""
        reason = self.ineligible(rule, hit, excluded)
        if reason is not None:
            self.explain(rule, hit, "not_eligible", (reason,))
            return None
        return self.evaluate_points(index, rule, hit)

    def ineligible(self, rule: EarningRule, hit: Hit, excluded: bool) -> str | None:
        """Why the rule cannot apply to this occasion before its expressions run, or None."""
        if excluded:
            return "the customer is excluded from the program"
        if hit.blocked is not None:
            return hit.blocked
        start, end = window_bounds(rule.active, self.ctx.tz)
        if (start is not None and hit.at < start) or (end is not None and hit.at >= end):
            return (
                f"{hit.activity_id} on {day(hit.at, self.ctx.tz)} is outside the rule's "
                "active window"
            )
        order = hit.order
        if rule.channels is not None and order is not None and order.channel not in rule.channels:
            channel = f"channel `{order.channel}`" if order.channel else "no channel"
            allowed = ", ".join(f"`{c}`" for c in rule.channels)
            return f"the order has {channel}, not {allowed}"
        return self.limit_reached(rule, hit.at)

    def evaluate_points(self, index: int, rule: EarningRule, hit: Hit) -> int | None:
        """Run the rule's condition and points formula for the occasion."""
        compiled = self.compiled(index, rule)
        condition, formula = compiled.condition, compiled.formula
        variables = {"customer": self.snapshot.customer, compiled.activity: hit.record}
        if compiled.reads_stats:  # `stats` costs a lookup per activity: only when read
            variables["stats"] = self.timeline.stats_at(hit.at)
        # As it happened: `now()`, `today()` and `days_since` see the activity's moment, so the
        # same history evaluated at any later `now` gives the same points.
        moment = EvalContext(hit.at, self.ctx.tz)
        for expression, function in compiled.steps:
            if compiled.contextual:
                function = bind(expression.evaluate, moment)
            try:
                value = function(variables)
            except EvaluationError as error:
                self.report(expression, rule.id, error)
                self.explain(
                    rule, hit, "failed", (f"the rule could not be evaluated: {error.message}",)
                )
                return None
            if expression is condition and not value:
                if self.explaining:
                    text = " ".join(expression.text.split())
                    self.explain(rule, hit, "not_eligible", (f"the condition `{text}` is false",))
                return None
        points = value
        if points < 0:
            negative = EvaluationError(
                "RE603",
                f"the points formula gave {points} for "
                f"{hit.activity_id}; points cannot be negative",
                formula.checked.root.span,
            )
            self.report(formula, rule.id, negative)
            self.explain(rule, hit, "failed", (negative.message,))
            return None
        if points > self.max_points:
            huge = EvaluationError(
                "RE602",
                f"the points formula gave {points} for "
                f"{hit.activity_id}, more than the limit of "
                f"{self.max_points:,} points per decision",
                formula.checked.root.span,
            )
            self.report(formula, rule.id, huge)
            self.explain(rule, hit, "failed", (huge.message,))
            return None
        if points == 0:
            self.explain(rule, hit, "not_applied", ("the points formula gave 0 points",))
            return None
        return int(points)

    def compiled(self, index: int, rule: EarningRule) -> _Compiled:
        """The rule's expressions bound to this evaluation's context, once per rule."""
        compiled = self._rules.get(index)
        if compiled is None:
            condition = self.ruleset.expression("earning", index, "when")
            formula = self.ruleset.expression("earning", index, "points")
            assert formula is not None
            expressions = [e for e in (condition, formula) if e is not None]
            roots = [roots_of(e.evaluate) for e in expressions]
            compiled = self._rules[index] = _Compiled(
                condition,
                formula,
                tuple((e, bind(e.evaluate, self.ctx)) for e in expressions),
                any(r is None or "stats" in r for r in roots),
                activity_name(rule.on),
                any(getattr(e.evaluate, "contextual", True) for e in expressions),
            )
        return compiled

    def limit_reached(self, rule: EarningRule, moment: datetime) -> str | None:
        if rule.limit is None:
            return None
        period = rule.limit.per
        start = period_start(moment, period, self.ctx)
        used = sum(1 for at in self.grants.get(rule.id, []) if start is None or at >= start)
        if used < rule.limit.times:
            return None
        where = "in total" if period is LimitPeriod.LIFETIME else f"per {period.value}"
        return f"the limit of {rule.limit.times} {where} was already reached"

    def grant(self, rule: EarningRule, hit: Hit, points: int) -> None:
        key = f"{rule.id}/{hit.key}"
        order = hit.order
        now = self.ctx.now
        status: DecisionStatus = "granted"
        available_at = None
        if order is not None and rule.pending_days:
            available_at = order.at + timedelta(days=rule.pending_days)
            refunded_at = refund_known(order, now)
            if (
                fully_refunded(order, now)
                and refunded_at is not None
                and (refunded_at <= available_at)
            ):
                self.explain(
                    rule,
                    hit,
                    "cancelled",
                    (
                        f"order {order.id} was refunded on {day(refunded_at, self.ctx.tz)} during "
                        f"its {rule.pending_days}-day pending period",
                    ),
                )
                return
            if available_at > now:
                status = "pending"
        # Only grants that stand use up the rule's limit; one cancelled by a refund does not.
        self.grants.setdefault(rule.id, []).append(hit.at)
        self.emit(
            Decision(
                key,
                rule.id,
                None,
                "grant_all",
                None,
                (RewardGrant("points", points),),
                hit.at,
                hit.activity_id,
                status,
                available_at,
            ),
            rule,
            hit,
            points,
        )
        if order is not None and status == "granted":
            self.reverse_refund(rule, hit, order, points)

    def reverse_refund(self, rule: EarningRule, hit: Hit, order: Order, points: int) -> None:
        refunded_at = refund_known(order, self.ctx.now)
        if refunded_at is None:
            return
        back = refunded_amount(order, self.ctx.now)
        if fully_refunded(order, self.ctx.now) or order.subtotal == 0:
            reversed_points = points
        else:
            share = Decimal(points) * back / order.subtotal
            reversed_points = int(share.to_integral_value(rounding=ROUND_FLOOR))
        if reversed_points <= 0:
            return
        decision = Decision(
            f"{rule.id}/{hit.key}/reversal",
            rule.id,
            None,
            "grant_all",
            None,
            (RewardGrant("points", -reversed_points),),
            refunded_at,
            order.id,
            "reversed",
        )
        self.emit(decision, rule, hit, -reversed_points)

    def emit(self, decision: Decision, rule: EarningRule, hit: Hit, points: int) -> None:
        if decision.key in self.granted:
            self.explain(
                rule,
                hit,
                "already_granted",
                (f"{points} points; already granted (`{decision.key}` is in `granted`)",),
            )
            return
        self.outcome.decisions.append(decision)
        if not self.explaining:
            return
        detail = f"{points} points"
        if decision.status == "pending" and decision.available_at is not None:
            detail += f", pending until {day(decision.available_at, self.ctx.tz)}"
        if decision.status == "reversed":
            detail = f"{-points} points reversed: order {hit.activity_id} was refunded"
        self.explain(rule, hit, decision.status, (detail,))

    def explain(self, rule: EarningRule, hit: Hit, status: str, reasons: tuple[str, ...]) -> None:
        if not self.explaining:
            return
        self.outcome.explanations.append(
            Explanation(rule.id, None, status, reasons, activity=hit.activity_id)
        )


def birthday_in(year: int, birthday: date) -> date:
    """The day a birthday is celebrated in `year`: 29 February is 28 February in common years."""
    if birthday.month == 2 and birthday.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return birthday.replace(year=year)


def period_start(moment: datetime, period: LimitPeriod, ctx: EvalContext) -> datetime | None:
    """The start of the calendar period containing `moment`, in the ruleset's zone (weeks
    start on Monday); None for `lifetime`."""
    local = ctx.local_date(moment)
    if period is LimitPeriod.DAY:
        first = local
    elif period is LimitPeriod.WEEK:
        first = local - timedelta(days=local.weekday())
    elif period is LimitPeriod.MONTH:
        first = local.replace(day=1)
    elif period is LimitPeriod.YEAR:
        first = local.replace(month=1, day=1)
    else:
        return None
    return datetime.combine(first, time(0), ctx.tz)
