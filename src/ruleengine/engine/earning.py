"""Earning rules: points for each activity that fires a rule's trigger.

Activity is replayed in time order. For each activity, every enabled rule on its trigger is
checked (window, channels, limit, condition) and its points formula evaluated with the
activity, the customer and the customer's `stats` as they stood at that moment (the activity
itself included). Rules with `stacking: best` compete: of those that match the same activity,
only the one with the most points grants (ties: higher `priority`, then the earlier rule in the
file); `stacking: combine` rules always grant. Keys are `<rule>/<activity id>` (`<rule>/<year>`
for birthdays), so replaying history never grants twice. `signup` and `newsletter_signup` rules
without a `limit` earn once per customer. With `pending_days`, a refund made before the points
become available lowers the award itself; a later one is reversed.

How it runs: each enabled rule is prepared once per `Engine` (`earning_plan.PreparedRule`: its
bound expressions and what they read, its window, channels and stacking), and the rules are
grouped by trigger (`RuleGroup`). Each activity is then visited once, in the total order of
occasions (time, type, id), with the group of rules on its trigger, in file order; that order
is what `limit` and `stacking` see. Nothing is built per occasion and rule beyond what a
decision needs.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from ruleengine.engine.activity import Order, Referral
from ruleengine.engine.decisions import (
    Decision,
    DecisionStatus,
    Explanation,
    RewardGrant,
    key_part,
)
from ruleengine.engine.earning_plan import (
    EarningOutcome,
    EarningPlan,
    Hit,
    PreparedRule,
    Report,
    RuleGroup,
)
from ruleengine.engine.granted_keys import LimitSlots, TakenBack, share
from ruleengine.engine.snapshot import Snapshot
from ruleengine.engine.timeline import (
    Timeline,
    fully_refunded,
    refund_known,
    refunded_amount,
)
from ruleengine.engine.wording import count, day
from ruleengine.expr.program import bind
from ruleengine.expr.runtime import EvalContext, EvaluationError
from ruleengine.limits import DEFAULT_LIMITS
from ruleengine.rules.models import EarningRule, LimitPeriod

_Occasion = tuple[datetime, str, str, str, Order | None, dict[str, Any], RuleGroup]
"""An activity (or a birthday) to decide: its moment, type and id (the total order of
occasions), the decision key's suffix, the order (for orders), the record the rules read, and
the rules on its trigger. A plain tuple: one is made per activity."""


def _rank(candidate: tuple[PreparedRule, int]) -> tuple[int, int, int]:
    """How a `stacking: best` candidate competes: most points, then higher `priority`, then
    the earlier rule in the file."""
    rule, points = candidate
    return points, rule.rule.priority, -rule.index


class EarningEvaluator:
    """Replays one customer's activity through the ruleset's earning rules (`plan`)."""

    def __init__(
        self,
        plan: EarningPlan,
        snapshot: Snapshot,
        timeline: Timeline,
        ctx: EvalContext,
        report: Report,
        *,
        explain: bool = True,
        max_points: int = DEFAULT_LIMITS.max_points,
        customer_at: Callable[[datetime], dict[str, Any]] | None = None,
    ) -> None:
        self.plan = plan
        # With VIP tiers, the customer record as it stood at a moment (`customer.tier` then).
        self.customer_at = customer_at
        self.max_points = max_points
        self.snapshot = snapshot
        self.timeline = timeline
        self.ctx = ctx
        self.report = report
        self.customer = snapshot.customer
        self.granted = snapshot.granted
        self.taken_back = TakenBack(snapshot.granted)
        self.slots = LimitSlots()  # what `limit` counts
        self.outcome = EarningOutcome()
        self.decisions = self.outcome.decisions
        # Explanations are only built when asked for: most evaluations never show them.
        self.explaining = explain

    def run(self, excluded: bool) -> EarningOutcome:
        if self.explaining:
            for rule_id in self.plan.disabled:
                self.outcome.explanations.append(
                    Explanation(
                        rule_id, None, "disabled", ("the rule is disabled (`enabled: false`)",)
                    )
                )
        occasions = self.occasions()
        if self.granted and self.plan.limited:
            self.hold_slots(occasions)
        for occasion in occasions:
            self.decide(occasion, excluded)
        return self.outcome

    def hold_slots(self, occasions: list[_Occasion]) -> None:
        """The occasions whose decision the host has carried out (in `granted`) hold a slot
        of their rule's `limit`, so activity that arrives late, dated before them, cannot
        take it a second time."""
        granted, slots = self.granted, self.slots
        for at, _, _, key, _, _, group in occasions:
            for rule, _ in group.entries:
                if rule.limit is not None:
                    decision_key = f"{rule.id}/{key_part(key)}"
                    if decision_key in granted:
                        slots.hold(rule.index, at, decision_key)

    # -- occasions --------------------------------------------------------------------------

    def occasions(self) -> list[_Occasion]:
        """Every activity with a rule on its trigger, and the birthdays, in the total order of
        occasions: time, then type, then id.

        Each kind of activity comes from the timeline in that order already. A validated
        snapshot has one activity per type and id (RE612), so no two activities share an
        occasion (and sorting never compares more than moment, type and id); the birthday
        rules' occasions are grouped by moment in `birthdays`.
        """
        plan, timeline = self.plan, self.timeline
        occasions: list[_Occasion] = []
        if plan.renewal is not None:  # some rule on orders (or on subscription orders)
            one_off, renewal = plan.one_off, plan.renewal
            for order in timeline.orders:
                group = one_off if order.subscription_id is None else renewal
                if group is not None:
                    occasions.append(
                        (order.at, "order", order.id, order.id, order, order.record, group)
                    )
        on_review = plan.reviews
        if on_review is not None:
            for review in timeline.reviews:
                occasions.append(
                    (review.at, "review", review.id, review.id, None, review.record, on_review)
                )
        on_event = plan.events
        if on_event:
            for event in timeline.events:
                group = on_event.get(event.type)
                if group is not None:
                    occasions.append(
                        (event.at, event.type, event.id, event.id, None, event.record, group)
                    )
        if on_event and ("referral" in on_event or "referral_converted" in on_event):
            occasions.extend(self.referrals(on_event))
        if plan.birthday_rules:
            occasions.extend(self.birthdays(plan.birthday_rules))
        occasions.sort()
        return occasions

    def referrals(self, on_event: dict[str, RuleGroup]) -> Iterator[_Occasion]:
        """`on: referral` fires when the friend registered (the referral's `at`),
        `on: referral_converted` when they first bought (`converted_at`), each by `now`."""
        now = self.ctx.now
        registered, converted = on_event.get("referral"), on_event.get("referral_converted")
        for entry in self.snapshot.activity:
            if type(entry) is not Referral or entry.at > now:
                continue
            record = {"id": entry.id, "at": entry.at, "converted_at": entry.converted_at}
            if registered is not None:
                yield entry.at, "referral", entry.id, entry.id, None, record, registered
            moment = entry.converted_at
            if converted is not None and moment is not None and moment <= now:
                at_purchase = {**record, "at": moment}
                yield moment, "referral_converted", entry.id, entry.id, None, at_purchase, converted

    def birthdays(self, rules: tuple[PreparedRule, ...]) -> Iterator[_Occasion]:
        """The birthday occasions of the birthday rules: rules whose earning periods start
        at the same moment share the occasion (and compete, with `stacking: best`)."""
        by_moment: dict[tuple[datetime, str], list[tuple[PreparedRule, Hit]]] = {}
        for rule in rules:
            for hit in self.birthday_hits(rule.rule):
                by_moment.setdefault((hit.at, hit.activity_id), []).append((rule, hit))
        for (at, activity_id), hits in by_moment.items():
            first = hits[0][1]  # the same key and record for every rule of the occasion
            group = RuleGroup.of(
                "birthday", [rule for rule, _ in hits], [h.blocked for _, h in hits]
            )
            yield at, "birthday", activity_id, first.key, None, first.record, group

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

    def decide(self, occasion: _Occasion, excluded: bool) -> None:
        """Run every rule of the occasion, then grant: all `stacking: combine` rules that
        give points, and of the `stacking: best` ones only the best."""
        at, _, activity_id, key, order, record, group = occasion
        candidates: list[tuple[PreparedRule, int]] = []
        variables: dict[str, Any] | None = None  # what the expressions read, made when needed
        for rule, blocked in group.entries:
            if excluded or blocked is not None or rule.restricted:
                reason = self.ineligible(rule, at, activity_id, key, order, blocked, excluded)
                if reason is not None:
                    self.explain(rule.id, activity_id, "not_eligible", (reason,))
                    continue
            if variables is None:
                customer = self.customer if self.customer_at is None else self.customer_at(at)
                variables = {"customer": customer, group.activity: record}
                if group.reads_stats:  # `stats` costs a lookup per activity: only when read
                    variables["stats"] = self.timeline.stats_at(at)
            points = self.evaluate_points(rule, at, activity_id, variables)
            if points is not None:
                candidates.append((rule, points))
        if len(candidates) == 1:  # the usual case: nothing to compete with
            rule, points = candidates[0]
            self.grant(rule, at, activity_id, key, order, points)
        elif candidates:
            self.grant_stacked(candidates, at, activity_id, key, order)

    def grant_stacked(
        self,
        candidates: list[tuple[PreparedRule, int]],
        at: datetime,
        activity_id: str,
        key: str,
        order: Order | None,
    ) -> None:
        """Grant the candidates of one occasion in file order, only the best of the
        `stacking: best` ones."""
        winner = max((c for c in candidates if c[0].best), key=_rank, default=None)
        for candidate in candidates:
            rule, points = candidate
            if rule.best and candidate is not winner:
                assert winner is not None
                if self.explaining:
                    self.explain(
                        rule.id,
                        activity_id,
                        "not_applied",
                        (
                            f"{count(points, 'point')}, but `{winner[0].id}` gives {winner[1]} "
                            "and only the best `stacking: best` rule applies",
                        ),
                    )
                continue
            self.grant(rule, at, activity_id, key, order, points)

    def ineligible(
        self,
        rule: PreparedRule,
        at: datetime,
        activity_id: str,
        key: str,
        order: Order | None,
        blocked: str | None,
        excluded: bool,
    ) -> str | None:
        """Why the rule cannot apply to this occasion (`key`: its decision key's suffix)
        before its expressions run, or None. The reason is worded only when explaining
        (otherwise any text will do)."""
        if excluded:
            return "the customer is excluded from the program"
        if blocked is not None:
            return blocked
        start, end = rule.window
        if (start is not None and at < start) or (end is not None and at >= end):
            if not self.explaining:
                return "outside the active window"
            return f"{activity_id} on {day(at, self.ctx.tz)} is outside the rule's active window"
        channels = rule.channels
        if channels is not None and order is not None and order.channel not in channels:
            if not self.explaining:
                return "not from the rule's channels"
            channel = f"channel `{order.channel}`" if order.channel else "no channel"
            allowed = ", ".join(f"`{c}`" for c in rule.rule.channels or ())
            return f"the order has {channel}, not {allowed}"
        if rule.limit is None:
            return None
        return self.limit_reached(rule, at, key)

    def evaluate_points(
        self, rule: PreparedRule, at: datetime, activity_id: str, variables: dict[str, Any]
    ) -> int | None:
        """Run the rule's condition and points formula for the occasion."""
        # As it happened: `now()`, `today()` and `days_since` see the activity's moment, so the
        # same history evaluated at any later `now` gives the same points.
        moment = EvalContext(at, self.ctx.tz) if rule.contextual else None
        value: Any = None
        for expression, function in rule.steps:
            call = function if moment is None else bind(expression.evaluate, moment)
            assert call is not None  # a step without a function makes the rule contextual
            try:
                value = call(variables)
            except EvaluationError as error:
                self.report(expression, rule.id, error)
                self.explain(
                    rule.id,
                    activity_id,
                    "failed",
                    (f"the rule could not be evaluated: {error.message}",),
                )
                return None
            if expression is rule.condition and not value:
                if self.explaining:
                    text = " ".join(expression.text.split())
                    self.explain(
                        rule.id, activity_id, "not_eligible", (f"the condition `{text}` is false",)
                    )
                return None
        points = value
        if points < 0:
            negative = EvaluationError(
                "RE603",
                f"the points formula gave {points} for {activity_id}; points cannot be negative",
                rule.formula.checked.root.span,
            )
            self.report(rule.formula, rule.id, negative)
            self.explain(rule.id, activity_id, "failed", (negative.message,))
            return None
        if points > self.max_points:
            huge = EvaluationError(
                "RE602",
                f"the points formula gave {points} for "
                f"{activity_id}, more than the limit of "
                f"{self.max_points:,} points per decision",
                rule.formula.checked.root.span,
            )
            self.report(rule.formula, rule.id, huge)
            self.explain(rule.id, activity_id, "failed", (huge.message,))
            return None
        if points == 0:
            self.explain(rule.id, activity_id, "not_applied", ("the points formula gave 0 points",))
            return None
        return int(points)

    def limit_reached(self, rule: PreparedRule, moment: datetime, key: str) -> str | None:
        """Why the occasion at `moment` (`key`: its decision key's suffix) gets no slot of
        the rule's `limit`, or None. One whose decision is in `granted` holds its own; another
        gets one only if the period has one left after the held ones and those granted
        earlier in this run (earliest first)."""
        limit = rule.limit
        assert limit is not None
        period = limit.per
        if rule.index in self.slots.held:  # only with `granted`: most evaluations skip this
            if f"{rule.id}/{key_part(key)}" in self.granted:
                return None  # the host paid it: it holds its slot
            start, end = period_bounds(moment, period, self.ctx)
        else:
            start, end = period_start(moment, period, self.ctx), None
        users = self.slots.users(rule.index, limit.times, start, end)
        if users is None:
            return None
        if not self.explaining:
            return "the limit was reached"
        if rule.once_by_default:
            reason = (
                f"a `{rule.rule.on}` rule earns once per customer unless its `limit` allows "
                "more; it was already earned"
            )
        else:
            where = "in total" if period is LimitPeriod.LIFETIME else f"per {period.value}"
            reason = f"the limit of {limit.times} {where} was already reached"
        held, taken = users
        if held:
            reason += ": used by " + ", ".join(f"`{key}`" for key in held) + ", already granted"
            if taken:
                reason += " and by " + ", ".join(f"`{key}`" for key in taken)
        return reason

    def grant(
        self,
        rule: PreparedRule,
        at: datetime,
        activity_id: str,
        key: str,
        order: Order | None,
        points: int,
    ) -> None:
        status: DecisionStatus = "granted"
        available_at = None
        detail = ""  # the explanation's words, written only when explaining
        # A refund known at `now` that falls in the pending period: the award is net of it.
        refunded_in_period = False
        if order is not None and rule.pending_days:
            now = self.ctx.now
            available_at = order.at + timedelta(days=rule.pending_days)
            refunded_at = refund_known(order, now)
            refunded_in_period = refunded_at is not None and refunded_at <= available_at
            if refunded_at is not None and refunded_in_period and fully_refunded(order, now):
                if self.explaining:
                    self.explain(
                        rule.id,
                        activity_id,
                        "cancelled",
                        (
                            f"order {order.id} was refunded on {day(refunded_at, self.ctx.tz)} "
                            f"during its {rule.pending_days}-day pending period",
                        ),
                    )
                return
            if refunded_at is not None and refunded_in_period:
                # A partial refund before the points became available lowers the award itself
                # (by what a reversal would take back), so neither the pending figure nor the
                # points that become available count the refunded share, and no reversal is
                # dated before the points were available. `granted` is only ever the net award.
                taken = refunded_points(points, order, now)
                if taken and self.explaining:
                    detail = (
                        f"{count(points - taken, 'point')}: {points} less {taken} for the "
                        f"refund of order {order.id} on {day(refunded_at, self.ctx.tz)}"
                    )
                if taken:
                    points -= taken
            if available_at > now:
                status = "pending"
        decision_key = f"{rule.id}/{key_part(key)}"  # ids may hold `/`: escaped
        # Only grants that stand use up the rule's limit; one cancelled by a refund does not.
        # One in `granted` holds its slot already (`hold_slots`).
        if rule.limit is not None and decision_key not in self.granted:
            self.slots.take(rule.index, at, decision_key)
        decision = _points_decision(
            decision_key, rule, points, at, activity_id, status, available_at
        )
        self.outcome.awards.append(decision)
        if decision_key in self.granted:
            self.already_granted(rule, activity_id, decision_key, points)
        else:
            self.decisions.append(decision)
            if self.explaining:
                detail = detail or count(points, "point")
                if status == "pending" and available_at is not None:
                    detail += f", pending until {day(available_at, self.ctx.tz)}"
                self.explain(rule.id, activity_id, status, (detail,))
        if (
            order is not None
            and status == "granted"
            and order.refunded_at is not None
            and not refunded_in_period
        ):
            self.reverse_refund(rule, key, order, points)

    def reverse_refund(self, rule: PreparedRule, key: str, order: Order, points: int) -> None:
        """Take back the refunded share of the order's `points`, less what the host's
        reversals of this award took back already (`granted_keys`): a snapshot carries one
        cumulative refund per order, so a refund that grows is reversed step by step."""
        now = self.ctx.now
        refunded_at = refund_known(order, now)
        if refunded_at is None:
            return
        target = refunded_points(points, order, now)
        if target <= 0:
            return
        amount = None if target >= points else refunded_amount(order, now)
        award_key = f"{rule.id}/{key_part(key)}"
        plan = self.taken_back.reversal(award_key, points, target, amount, order.subtotal)
        counted = _points_decision(
            plan.ledger_key, rule, -plan.total, refunded_at, order.id, "reversed"
        )
        self.outcome.awards.append(counted)
        taken, taken_key = plan.taken, plan.taken_key
        if not plan.points:
            if self.explaining and taken_key is not None:
                every = ", a reversal key without an amount: every point" if plan.legacy else ""
                text = (
                    f"{count(-target, 'point')} for the refund of order {order.id}; already "
                    f"taken back (`{taken_key}` is in `granted`{every})"
                )
                self.explain(rule.id, order.id, "already_granted", (text,))
            return
        if plan.key == plan.ledger_key and plan.points == plan.total:
            self.decisions.append(counted)  # the whole reversal, decided now (most of them)
        else:
            self.decisions.append(
                _points_decision(plan.key, rule, -plan.points, refunded_at, order.id, "reversed")
            )
        if self.explaining:
            detail = f"{count(plan.points, 'point')} reversed: order {order.id} was refunded"
            if taken:
                detail += (
                    f"; {target} of its {points} points are taken back in total, "
                    f"{taken} already were (`{taken_key}` is in `granted`)"
                )
            self.explain(rule.id, order.id, "reversed", (detail,))

    def already_granted(self, rule: PreparedRule, activity_id: str, key: str, points: int) -> None:
        """The host has carried this decision out already (its key is in `granted`)."""
        if self.explaining:
            self.explain(
                rule.id,
                activity_id,
                "already_granted",
                (f"{count(points, 'point')}; already granted (`{key}` is in `granted`)",),
            )

    def explain(self, rule: str, activity_id: str, status: str, reasons: tuple[str, ...]) -> None:
        if not self.explaining:
            return
        self.outcome.explanations.append(
            Explanation(rule, None, status, reasons, activity=activity_id)
        )


def _points_decision(
    key: str,
    rule: PreparedRule,
    points: int,
    at: datetime,
    activity_id: str,
    status: DecisionStatus,
    available_at: datetime | None = None,
) -> Decision:
    """An earning decision: `points` (negative for a reversal) from `rule` for an activity."""
    rewards = (RewardGrant("points", points),)
    return Decision(
        key, rule.id, None, "grant_all", None, rewards, at, activity_id, status, available_at
    )


def refunded_points(points: int, order: Order, now: datetime) -> int:
    """The share of an order's `points` its refund known at `now` takes back: all of them for
    a full refund, `floor(points * refunded / subtotal)` for a partial one (the customer keeps
    the rounding), none without a refund."""
    if refund_known(order, now) is None:
        return 0
    if fully_refunded(order, now) or order.subtotal == 0:
        return points
    return share(points, refunded_amount(order, now), order.subtotal)


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


def period_bounds(
    moment: datetime, period: LimitPeriod, ctx: EvalContext
) -> tuple[datetime | None, datetime | None]:
    """The start and end (exclusive) of the calendar period containing `moment`, in the
    ruleset's zone (weeks start on Monday); None and None for `lifetime`."""
    start = period_start(moment, period, ctx)
    if start is None:
        return None, None
    first = start.date()  # local: `start` is midnight in the ruleset's zone
    if period is LimitPeriod.DAY:
        after = first + timedelta(days=1)
    elif period is LimitPeriod.WEEK:
        after = first + timedelta(days=7)
    elif period is LimitPeriod.MONTH:
        after = (first + timedelta(days=32)).replace(day=1)
    else:  # activity and `now` lie in the years 1900 to 9000: no overflow
        after = first.replace(year=first.year + 1)
    return start, datetime.combine(after, time(0), ctx.tz)
