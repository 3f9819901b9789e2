"""Milestone rules: which steps a customer has reached, which to decide now, and why.

A milestone's metric (orders, amount spent, reviews, ...) is a running total built from the
customer's activity as it happened. Each piece of activity is a `Contribution` at its own
moment; a refund is a negative contribution at the refund's moment. A step is *achieved* at
the first moment the total reaches its target, by the contribution that got it there (the
*qualifying* activity), and stays achieved. It is *decided* once every contribution counted for
it has passed its refund hold. Single-type milestones count one running total for all of their
steps; `mixed` journeys count each step from the moment the previous step was achieved.
Inactivity milestones count time since each order instead (one decision per spell).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from ruleengine.decisions import Decision, Explanation, Progress, RewardGrant
from ruleengine.expr.runtime import EvalContext, shift
from ruleengine.expr.values import Duration
from ruleengine.models import Milestone, MilestoneType, RewardLogic, RewardSpec, Step, Window
from ruleengine.timeline import Timeline, fully_refunded, refund_known, refunded_amount
from ruleengine.wording import count, day, money

ActivityKey = tuple[datetime, str, str]
Number = int | Decimal


@dataclass(frozen=True, slots=True)
class Contribution:
    """One change to a metric's running total, at `key` (moment, type, id)."""

    key: ActivityKey
    activity_id: str
    delta: Number
    confirm_at: datetime  # when its refund hold ends (its own moment when there is none)
    group: str | None = None  # subscription id, for subscription_cycles

    @property
    def at(self) -> datetime:
        return self.key[0]


@dataclass
class Ledger:
    """A metric's contributions in time order, and notes on activity that did not count."""

    contributions: list[Contribution] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CountingRules:
    """What counts toward a milestone: the window and the order requirements."""

    start: datetime | None
    end: datetime | None  # exclusive: the start of the day after `until`
    min_subtotal: Decimal | None
    hold: timedelta

    def in_window(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (
            self.end is None or moment < self.end
        )


def counting_rules(milestone: Milestone, zone: tzinfo) -> CountingRules:
    requirements = milestone.order_requirements
    start, end = window_bounds(milestone.active, zone)
    return CountingRules(
        start=start,
        end=end,
        min_subtotal=requirements.min_subtotal if requirements else None,
        hold=timedelta(days=requirements.refund_hold_days if requirements else 0),
    )


def window_bounds(window: Window | None, zone: tzinfo) -> tuple[datetime | None, datetime | None]:
    """A window's days as moments: from the start of `from` to the end of `until`."""
    if window is None:
        return None, None
    start = datetime.combine(window.from_, time(0), zone) if window.from_ else None
    end = (
        datetime.combine(window.until + timedelta(days=1), time(0), zone) if window.until else None
    )
    return start, end


# -- ledgers ---------------------------------------------------------------------------------------


def build_ledger(
    metric: MilestoneType, timeline: Timeline, rules: CountingRules, currency: str
) -> Ledger:
    """The contributions of `metric`, with notes on orders that did not count and why."""
    ledger = Ledger()
    if metric in (MilestoneType.ORDERS_COUNT, MilestoneType.AMOUNT_SPENT):
        for order in timeline.orders:
            _add_order(ledger, metric, order, rules, timeline.now, currency, timeline.zone)
    else:
        ledger.contributions.extend(
            c for c in _activity_contributions(metric, timeline) if rules.in_window(c.at)
        )
    ledger.contributions.sort(key=lambda c: c.key)
    return ledger


def _activity_contributions(metric: MilestoneType, timeline: Timeline) -> Iterator[Contribution]:
    """Reviews, converted referrals (at their conversion), points and billings, unfiltered."""
    if metric is MilestoneType.REVIEWS_COUNT:
        for review in timeline.reviews:
            yield Contribution((review.at, "review", review.id), review.id, 1, review.at)
    elif metric is MilestoneType.REFERRALS_COUNT:
        for referral in timeline.referrals:
            converted = referral.converted_at
            assert converted is not None  # the timeline keeps converted referrals only
            yield Contribution((converted, "referral", referral.id), referral.id, 1, converted)
    elif metric is MilestoneType.POINTS_EARNED:
        for entry in timeline.points:
            yield Contribution(
                (entry.at, "points_earned", entry.id), entry.id, entry.points, entry.at
            )
    elif metric is MilestoneType.SUBSCRIPTION_CYCLES:
        for billing in timeline.billings:
            yield Contribution(
                (billing.at, "subscription_billing", billing.id),
                billing.id,
                1,
                billing.at,
                billing.subscription_id,
            )


def _add_order(
    ledger: Ledger,
    metric: MilestoneType,
    order: Any,
    rules: CountingRules,
    now: datetime,
    currency: str,
    zone: tzinfo,
) -> None:
    if not rules.in_window(order.at):
        return
    if rules.min_subtotal is not None and order.subtotal < rules.min_subtotal:
        ledger.notes.append(
            f"order {order.id} ({money(order.subtotal, currency)}) is below the "
            f"{money(rules.min_subtotal, currency)} minimum and does not count"
        )
        return
    refunded_at = refund_known(order, now)
    full = refunded_at is not None and fully_refunded(order, now)  # no refund: not refunded
    if rules.hold and refunded_at is not None and full and refunded_at <= order.at + rules.hold:
        ledger.notes.append(
            f"order {order.id} was refunded on {day(refunded_at, zone)}, within its "
            f"{rules.hold.days}-day refund hold, and does not count"
        )
        return
    confirm_at = order.at + rules.hold if rules.hold else order.at  # the same moment for no hold
    amount: Number = 1 if metric is MilestoneType.ORDERS_COUNT else order.subtotal
    ledger.contributions.append(
        Contribution((order.at, "order", order.id), order.id, amount, confirm_at)
    )
    if refunded_at is None:
        return
    if metric is MilestoneType.ORDERS_COUNT:
        if full:
            ledger.contributions.append(
                Contribution((refunded_at, "refund", order.id), order.id, -1, refunded_at)
            )
            ledger.notes.append(
                f"order {order.id} was refunded on {day(refunded_at, zone)} and no longer counts"
            )
    else:
        back = refunded_amount(order, now)
        ledger.contributions.append(
            Contribution((refunded_at, "refund", order.id), order.id, -back, refunded_at)
        )
        ledger.notes.append(
            f"{money(back, currency)} of order {order.id} was refunded on "
            f"{day(refunded_at, zone)} and no longer counts"
        )


# -- steps ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepState:
    """Where one step stands at `now`."""

    achieved: Contribution | None  # the qualifying contribution, once the target was reached
    confirm_at: datetime | None  # when every contribution counted for it has passed its hold
    current: Number  # counted and past its hold
    pending: Number  # counted but still within a refund hold


class _Total:
    """A running total; per group (subscription) when `grouped`, reading the largest group."""

    def __init__(self, grouped: bool) -> None:
        self.grouped = grouped
        self.groups: dict[str | None, Number] = {}

    def add(self, contribution: Contribution) -> None:
        group = contribution.group if self.grouped else None
        self.groups[group] = self.groups.get(group, 0) + contribution.delta

    @property
    def value(self) -> Number:
        if not self.grouped:  # one total: the same answer without a `max` per contribution
            return self.groups.get(None, 0)
        return max(self.groups.values(), default=0)


def step_state(
    ledger: Ledger, after: ActivityKey | None, target: Number, now: datetime, grouped: bool
) -> StepState:
    """Sweep the contributions after `after` until the total reaches `target`."""
    total, confirmed, pending = _Total(grouped), _Total(grouped), _Total(grouped)
    latest_confirm: datetime | None = None
    achieved: Contribution | None = None
    for contribution in ledger.contributions:
        if after is not None and contribution.key <= after:
            continue
        total.add(contribution)
        if contribution.confirm_at <= now or contribution.delta < 0:
            confirmed.add(contribution)
        else:
            pending.add(contribution)
        if contribution.delta > 0 and (
            latest_confirm is None or contribution.confirm_at > latest_confirm
        ):
            latest_confirm = contribution.confirm_at
        if total.value >= target:
            achieved = contribution
            break
    return StepState(
        achieved=achieved,
        confirm_at=latest_confirm if achieved else None,
        current=max(confirmed.value, 0),
        pending=max(pending.value, 0),
    )


# -- evaluating a milestone ------------------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneContext:
    """What every milestone of one evaluation shares."""

    timeline: Timeline
    ctx: EvalContext
    granted: frozenset[str]
    excluded: bool
    currency: str
    explain: bool = True  # build explanations (only when the caller asked for them)


@dataclass
class MilestoneOutcome:
    decisions: list[Decision] = field(default_factory=list)
    progress: Progress | None = None
    explanations: list[Explanation] = field(default_factory=list)


def rewards_of(spec: RewardSpec) -> tuple[RewardGrant, ...]:
    grants = []
    for reward in spec.rewards:
        kind = reward.type
        if reward.free_gift is not None:
            grants.append(RewardGrant(kind, product=reward.free_gift.product))
        elif reward.free_shipping:
            grants.append(RewardGrant(kind))
        else:
            grants.append(RewardGrant(kind, value=getattr(reward, kind)))
    return tuple(grants)


def make_decision(
    key: str, rule: str, step: int, spec: RewardSpec, achieved_at: datetime, qualifying: str | None
) -> Decision:
    picks = spec.logic is RewardLogic.CUSTOMER_PICKS
    return Decision(
        key=key,
        rule=rule,
        step=step,
        logic=spec.logic.value,
        pick=spec.pick if picks else None,
        rewards=rewards_of(spec),
        achieved_at=achieved_at,
        qualifying=qualifying,
    )


@dataclass(frozen=True)
class _PlannedStep:
    number: int  # 1-based
    metric: MilestoneType
    target: Number | Duration
    spec: RewardSpec
    description: str | None


def planned_steps(milestone: Milestone) -> list[_PlannedStep]:
    """A milestone's steps, normalised: a single target and reward is one step."""
    if milestone.steps is None:
        assert milestone.target is not None and milestone.reward is not None
        return [
            _PlannedStep(
                1,
                milestone.type,
                _target(milestone.type, milestone.target),
                milestone.reward,
                milestone.description,
            )
        ]
    return [
        _PlannedStep(
            index + 1,
            step.type or milestone.type,
            _target(step.type or milestone.type, step.target),
            step.reward,
            _describe(step),
        )
        for index, step in enumerate(milestone.steps)
    ]


def _describe(step: Step) -> str | None:
    return step.description or step.name


def _target(metric: MilestoneType, target: int | Decimal | str) -> Number | Duration:
    if metric is MilestoneType.INACTIVITY:
        assert isinstance(target, str)
        return Duration.parse(target)
    if metric is MilestoneType.AMOUNT_SPENT:
        return Decimal(target)
    assert isinstance(target, int)
    return target


def evaluate_milestone(
    milestone: Milestone,
    shared: MilestoneContext,
    eligible: bool,
    blockers: Sequence[str],
) -> MilestoneOutcome:
    """Decide and explain one milestone. `eligible` is False when the customer is excluded or
    the rule's condition does not hold; `blockers` says why, for the explanations."""
    steps = planned_steps(milestone)
    if milestone.type is MilestoneType.INACTIVITY:
        return _evaluate_inactivity(milestone, steps, shared, eligible, blockers)
    zone = shared.ctx.tz
    rules = counting_rules(milestone, zone)
    ledgers: dict[MilestoneType, Ledger] = {}
    outcome = MilestoneOutcome()
    after: ActivityKey | None = None
    decided_until: datetime | None = None  # every earlier step confirmed by this moment
    blocked = False  # an earlier step of a journey is not achieved yet
    for step in steps:
        ledger = ledgers.get(step.metric)
        if ledger is None:
            ledger = ledgers[step.metric] = build_ledger(
                step.metric, shared.timeline, rules, shared.currency
            )
        assert not isinstance(step.target, Duration)
        grouped = step.metric is MilestoneType.SUBSCRIPTION_CYCLES
        if blocked:
            state = StepState(None, None, 0, 0)
        else:
            state = step_state(ledger, after, step.target, shared.ctx.now, grouped)
        key = f"{milestone.id}/{step.number}"
        # A step is decided once it and every step before it have passed their refund holds.
        if step.number == 1:
            confirm = state.confirm_at
        elif decided_until is None or state.confirm_at is None:
            confirm = None
        else:
            confirm = max(decided_until, state.confirm_at)
        is_decided = (
            state.achieved is not None and confirm is not None and confirm <= shared.ctx.now
        )
        if shared.explain:
            explanation = _explain_step(
                milestone,
                step,
                state,
                is_decided,
                key,
                shared,
                eligible,
                blockers,
                ledger,
                blocked,
                rules,
                confirm,
            )
            outcome.explanations.append(explanation)
        if is_decided and eligible and key not in shared.granted:
            assert state.achieved is not None
            outcome.decisions.append(
                make_decision(
                    key,
                    milestone.id,
                    step.number,
                    step.spec,
                    state.achieved.at,
                    state.achieved.activity_id,
                )
            )
        if outcome.progress is None and not is_decided:
            outcome.progress = _progress(milestone, step, len(steps), state, shared)
        if state.achieved is None:
            blocked = blocked or milestone.type is MilestoneType.MIXED
        if milestone.type is MilestoneType.MIXED:
            after = state.achieved.key if state.achieved else after
        decided_until = confirm
    if outcome.progress is None:  # every step decided: report the last one as completed
        last = steps[-1]
        assert not isinstance(last.target, Duration)
        outcome.progress = Progress(
            milestone.id,
            last.number,
            len(steps),
            last.metric.value,
            last.target,
            0,
            last.target,
            True,
            last.description,
            None,
        )
    return outcome


def _progress(
    milestone: Milestone,
    step: _PlannedStep,
    steps: int,
    state: StepState,
    shared: MilestoneContext,
) -> Progress:
    assert not isinstance(step.target, Duration)
    remaining_amount = step.target - state.current - state.pending
    remaining = (
        remaining_text(step.metric, remaining_amount, shared.currency)
        if remaining_amount > 0
        else None
    )
    return Progress(
        milestone.id,
        step.number,
        steps,
        step.metric.value,
        state.current,
        state.pending,
        step.target,
        False,
        step.description,
        remaining,
    )


_NOUNS: dict[MilestoneType, tuple[str, str]] = {
    MilestoneType.ORDERS_COUNT: ("order", "orders"),
    MilestoneType.REVIEWS_COUNT: ("review", "reviews"),
    MilestoneType.REFERRALS_COUNT: ("referral", "referrals"),
    MilestoneType.SUBSCRIPTION_CYCLES: ("billing cycle", "billing cycles"),
    MilestoneType.POINTS_EARNED: ("point", "points"),
}


def remaining_text(metric: MilestoneType, amount: Number, currency: str) -> str:
    """What is left, in words a support agent can paste: "2 more reviews", "spend $37.50 more"."""
    if metric is MilestoneType.AMOUNT_SPENT:
        return f"spend {money(Decimal(amount), currency)} more"
    singular, plural = _NOUNS[metric]
    text = count(amount, f"more {singular}", f"more {plural}")
    if metric is MilestoneType.POINTS_EARNED:
        return f"earn {text}"
    if metric is MilestoneType.REFERRALS_COUNT:  # only friends who buy count
        return text + (" (a friend who buys)" if amount == 1 else " (friends who buy)")
    return text


def _explain_step(
    milestone: Milestone,
    step: _PlannedStep,
    state: StepState,
    is_decided: bool,
    key: str,
    shared: MilestoneContext,
    eligible: bool,
    blockers: Sequence[str],
    ledger: Ledger,
    blocked: bool,
    rules: CountingRules,
    confirm: datetime | None,
) -> Explanation:
    zone = shared.ctx.tz
    reasons: list[str] = []
    target_text = _target_text(step, shared.currency)
    if state.achieved is not None:
        reasons.append(
            f"reached {target_text} on {day(state.achieved.at, zone)} "
            f"({state.achieved.activity_id})"
        )
    if is_decided:
        if key in shared.granted:
            status = "already_granted"
            reasons.append(f"already granted (`{key}` is in the snapshot's `granted`)")
        elif not eligible:
            status = "not_eligible"
            reasons.extend(blockers)
        else:
            status = "granted"
    elif state.achieved is not None:
        status = "pending"
        if confirm is not None:
            reasons.append(f"waiting for the refund hold to end on {day(confirm, zone)}")
    elif blocked:
        status = "waiting"
        reasons.append("waiting for the previous step of the journey")
    else:
        status = "in_progress"
        assert not isinstance(step.target, Duration)
        progress_text = (
            f"{money(Decimal(state.current), shared.currency)} of {target_text}"
            if step.metric is MilestoneType.AMOUNT_SPENT
            else f"{state.current} of {target_text}"
        )
        if state.pending:
            progress_text += (
                f", {_amount_text(step, state.pending, shared.currency)} within the refund hold"
            )
        reasons.append(progress_text)
        left = step.target - state.current - state.pending
        if left > 0:
            reasons.append(remaining_text(step.metric, left, shared.currency))
        if not eligible:
            reasons.extend(blockers)
    if status in ("in_progress", "pending"):
        reasons.extend(ledger.notes)  # why some activity did not count

    if rules.start is not None and shared.ctx.now < rules.start:
        reasons.append(f"the program starts on {day(rules.start, zone)}")
    return Explanation(milestone.id, step.number, status, tuple(reasons))


def _target_text(step: _PlannedStep, currency: str) -> str:
    assert not isinstance(step.target, Duration)
    return _amount_text(step, step.target, currency)


def _amount_text(step: _PlannedStep, amount: Number, currency: str) -> str:
    if step.metric is MilestoneType.AMOUNT_SPENT:
        return f"{money(Decimal(amount), currency)} spent"
    singular, plural = _NOUNS[step.metric]
    return count(amount, singular, plural)


# -- inactivity ------------------------------------------------------------------------------------


def _evaluate_inactivity(
    milestone: Milestone,
    steps: list[_PlannedStep],
    shared: MilestoneContext,
    eligible: bool,
    blockers: Sequence[str],
) -> MilestoneOutcome:
    """Each order starts a spell; a spell's step completes when no order followed within the
    step's duration. One decision per step and spell, keyed `<rule>/<step>/<order id>`."""
    outcome = MilestoneOutcome()
    ctx = shared.ctx
    rules = counting_rules(milestone, ctx.tz)
    orders = shared.timeline.orders
    for index, order in enumerate(orders):
        following = orders[index + 1].at if index + 1 < len(orders) else None
        for step in steps:
            assert isinstance(step.target, Duration)
            completes = _shift(order.at, step.target, ctx)
            if completes > ctx.now or (following is not None and following <= completes):
                continue
            if not rules.in_window(completes):
                continue
            key = f"{milestone.id}/{step.number}/{order.id}"
            if key in shared.granted:
                outcome.explanations.append(
                    Explanation(
                        milestone.id,
                        step.number,
                        "already_granted",
                        (
                            f"no order for {step.target} after order {order.id}",
                            f"already granted (`{key}` is in the snapshot's `granted`)",
                        ),
                    )
                )
                continue
            if not eligible:
                outcome.explanations.append(
                    Explanation(milestone.id, step.number, "not_eligible", tuple(blockers))
                )
                continue
            outcome.decisions.append(
                make_decision(key, milestone.id, step.number, step.spec, completes, order.id)
            )
            outcome.explanations.append(
                Explanation(
                    milestone.id,
                    step.number,
                    "granted",
                    (
                        f"no order for {step.target} after order {order.id} "
                        f"({day(order.at, ctx.tz)})",
                    ),
                )
            )
    outcome.progress = _inactivity_progress(milestone, steps, shared)
    if not outcome.explanations:
        progress = outcome.progress
        reason = (
            "the customer has not ordered yet, so no spell of inactivity has started"
            if not orders
            else f"{progress.current} of {progress.target} days without an order"
        )
        outcome.explanations.append(
            Explanation(milestone.id, progress.step, "in_progress", (reason, *blockers))
        )
    return outcome


def _shift(moment: datetime, duration: Duration, ctx: EvalContext) -> datetime:
    shifted = shift(moment, duration, 1, ctx)
    assert isinstance(shifted, datetime)
    return shifted


def _inactivity_progress(
    milestone: Milestone, steps: list[_PlannedStep], shared: MilestoneContext
) -> Progress:
    ctx = shared.ctx
    orders = shared.timeline.orders
    last = orders[-1] if orders else None
    for step in steps:
        assert isinstance(step.target, Duration)
        if last is None:
            return Progress(
                milestone.id,
                step.number,
                len(steps),
                "inactivity",
                0,
                0,
                _days(ctx.now, step.target, ctx),
                False,
                step.description,
                None,
            )
        completes = _shift(last.at, step.target, ctx)
        target_days = (ctx.local_date(completes) - ctx.local_date(last.at)).days
        current = (ctx.local_date(ctx.now) - ctx.local_date(last.at)).days
        if completes > ctx.now:
            left = target_days - current
            return Progress(
                milestone.id,
                step.number,
                len(steps),
                "inactivity",
                current,
                0,
                target_days,
                False,
                step.description,
                count(left, "more day", "more days") + " without an order",
            )
    final = steps[-1]
    assert isinstance(final.target, Duration) and last is not None
    target_days = (
        ctx.local_date(_shift(last.at, final.target, ctx)) - ctx.local_date(last.at)
    ).days
    current = (ctx.local_date(ctx.now) - ctx.local_date(last.at)).days
    return Progress(
        milestone.id,
        final.number,
        len(steps),
        "inactivity",
        current,
        0,
        target_days,
        True,
        final.description,
        None,
    )


def _days(moment: datetime, duration: Duration, ctx: EvalContext) -> int:
    return (ctx.local_date(_shift(moment, duration, ctx)) - ctx.local_date(moment)).days
