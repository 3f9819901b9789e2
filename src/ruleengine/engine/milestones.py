"""Milestone rules: which steps a customer has reached, which to decide now, and why.

A milestone's metric (orders, amount spent, reviews, ...) is a running total built from the
customer's activity as it happened. Each piece of activity is a `Contribution` at its own
moment; a refund is a negative contribution at the refund's moment, tied to the order it
refunds: it lowers only a step that order counted for. A step is *achieved* at
the first moment the total reaches its target, by the contribution that got it there (the
*qualifying* activity), and stays achieved. It is *decided* once every contribution counted for
it has passed its refund hold. Single-type milestones count one running total for all of their
steps; `mixed` journeys count each step from the moment the previous step was achieved.
Inactivity milestones count time since each order instead (one decision per spell).

This runs for every milestone of every evaluation, so the hot path is kept lean: what depends
only on the ruleset (steps, window, order requirements) is worked out once per milestone (a
`MilestonePlan`), contributions are plain tuples, and the notes on activity that did not count
are written only when explanations are asked for.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from itertools import islice
from operator import attrgetter, itemgetter
from typing import TypeVar

from ruleengine.engine.activity import Order, optional_utc
from ruleengine.engine.decisions import Decision, Explanation, Progress, RewardGrant
from ruleengine.engine.timeline import Timeline, refund_known, refunded_amount
from ruleengine.engine.wording import count, day, money
from ruleengine.expr.runtime import EvalContext, shift
from ruleengine.expr.values import Duration
from ruleengine.rules.models import Milestone, MilestoneType, RewardLogic, RewardSpec, Step, Window

A = TypeVar("A")
ActivityKey = tuple[datetime, str, str]  # (moment, type, id): the total order of activity
Number = int | Decimal

# One change to a metric's running total, as a plain tuple (one is made per order and metric):
# (key, activity id, delta, confirm_at, group, source). `confirm_at` is when its refund hold
# ends (its own moment when there is none); `group` is the subscription id, for
# subscription_cycles; `source` is the key of the activity the change belongs to: its own key,
# or for a refund the key of the order it refunds. A journey step counts a change only when its
# source came after the step began, so a refund can only lower a step its order counted for.
Contribution = tuple[ActivityKey, str, Number, datetime, str | None, ActivityKey]
_KEY = itemgetter(0)
_AT = attrgetter("at")
_CONVERTED_AT = attrgetter("converted_at")


@dataclass(slots=True)
class Ledger:
    """A metric's contributions in key order, and notes on activity that did not count (written
    only when explaining: nothing else reads them), each with the key of the activity it is
    about, so that a journey step lists only notes on activity after it began."""

    contributions: list[Contribution] = field(default_factory=list)
    notes: list[tuple[ActivityKey, str]] = field(default_factory=list)

    def notes_after(self, after: ActivityKey | None) -> list[str]:
        """The notes on activity after `after` (all of them for None)."""
        return [text for source, text in self.notes if after is None or source > after]


@dataclass(frozen=True)
class CountingRules:
    """What counts toward a milestone: the window and the order requirements.

    The window's bounds are kept in UTC: the same moments as in the ruleset's zone, but
    compared faster with activity timestamps, which are UTC too."""

    start: datetime | None
    end: datetime | None  # exclusive: the start of the day after `until`
    min_subtotal: Decimal | None
    min_items: int | None
    hold: timedelta

    def in_window(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (
            self.end is None or moment < self.end
        )


def counting_rules(milestone: Milestone, zone: tzinfo) -> CountingRules:
    requirements = milestone.order_requirements
    start, end = window_bounds(milestone.active, zone)
    return CountingRules(
        start=optional_utc(start),
        end=optional_utc(end),
        min_subtotal=requirements.min_subtotal if requirements else None,
        min_items=requirements.min_items if requirements else None,
        hold=timedelta(days=requirements.refund_hold_days if requirements else 0),
    )


def window_bounds(window: Window | None, zone: tzinfo) -> tuple[datetime | None, datetime | None]:
    """A window's days as moments: from the start of `from` to the end of `until`."""
    if window is None:
        return None, None
    start = datetime.combine(window.from_, time(0), zone) if window.from_ else None
    end = None  # no end, or `until: 9999-12-31`: the calendar has no day after it
    if window.until is not None and window.until < date.max:
        end = datetime.combine(window.until + timedelta(days=1), time(0), zone)
    return start, end


def _in_window(
    items: Sequence[A], moment: Callable[[A], datetime], rules: CountingRules
) -> Sequence[A]:
    """The items whose `moment` is in the window, for items in order of that moment."""
    if rules.start is None and rules.end is None:
        return items
    first = 0 if rules.start is None else bisect_left(items, rules.start, key=moment)
    stop = len(items) if rules.end is None else bisect_left(items, rules.end, key=moment)
    return items[first:stop]


# -- ledgers ---------------------------------------------------------------------------------------


def build_ledger(
    metric: MilestoneType,
    timeline: Timeline,
    rules: CountingRules,
    currency: str,
    explain: bool = True,
) -> Ledger:
    """The contributions of `metric` in the window, in key order; with `explain`, notes on
    orders that did not count and why."""
    if metric is MilestoneType.ORDERS_COUNT or metric is MilestoneType.AMOUNT_SPENT:
        return _order_ledger(metric, timeline, rules, currency, explain)
    return Ledger(_activity_contributions(metric, timeline, rules))


def _activity_contributions(
    metric: MilestoneType, timeline: Timeline, rules: CountingRules
) -> list[Contribution]:
    """Reviews, converted referrals (at their conversion), points and billings in the window.

    The timeline keeps each kind sorted by time, type and id (referrals by conversion and id),
    which is the contributions' key order, so there is nothing to sort."""
    contributions: list[Contribution] = []
    if metric is MilestoneType.REVIEWS_COUNT:
        for review in _in_window(timeline.reviews, _AT, rules):
            key = (review.at, "review", review.id)
            contributions.append((key, review.id, 1, review.at, None, key))
        return contributions
    if metric is MilestoneType.REFERRALS_COUNT:
        for referral in _in_window(timeline.referrals, _CONVERTED_AT, rules):
            converted = referral.converted_at
            assert converted is not None  # the timeline keeps converted referrals only
            key = (converted, "referral", referral.id)
            contributions.append((key, referral.id, 1, converted, None, key))
        return contributions
    if metric is MilestoneType.POINTS_EARNED:
        for entry in _in_window(timeline.points, _AT, rules):
            key = (entry.at, "points_earned", entry.id)
            contributions.append((key, entry.id, entry.points, entry.at, None, key))
        return contributions
    if metric is MilestoneType.SUBSCRIPTION_CYCLES:
        for billing in _in_window(timeline.billings, _AT, rules):
            key = (billing.at, "subscription_billing", billing.id)
            contributions.append((key, billing.id, 1, billing.at, billing.subscription_id, key))
        return contributions
    return contributions


def item_count(order: Order) -> int:
    """How many items the order has: the sum of its lines' `quantity` (the snapshot makes a
    line without one a single item). An order that lists no items has none."""
    return sum(item["quantity"] for item in order.record.get("items") or ())


def _unmet_requirement(order: Order, rules: CountingRules, currency: str) -> str | None:
    """Why the order does not meet the order requirements and does not count, or None."""
    min_subtotal, min_items = rules.min_subtotal, rules.min_items
    if min_subtotal is not None and order.subtotal < min_subtotal:
        return (
            f"order {order.id} ({money(order.subtotal, currency)}) is below the "
            f"{money(min_subtotal, currency)} minimum and does not count"
        )
    if min_items is not None:
        items = item_count(order)
        if items < min_items:
            return (
                f"order {order.id} has {count(items, 'item')}, fewer than {min_items}, "
                "and does not count"
            )
    return None


def _order_ledger(
    metric: MilestoneType, timeline: Timeline, rules: CountingRules, currency: str, explain: bool
) -> Ledger:
    """Orders in the window as contributions: one each, unless below the minimum subtotal, with
    fewer items than the minimum, or fully refunded within the refund hold, and a negative one
    at each refund known by `now` (full refunds only, when counting orders)."""
    now, zone = timeline.now, timeline.zone
    ledger = Ledger()
    contributions, notes = ledger.contributions, ledger.notes
    counting_orders = metric is MilestoneType.ORDERS_COUNT
    requirements = rules.min_subtotal is not None or rules.min_items is not None
    hold = rules.hold
    refunds = False
    for order in _in_window(timeline.orders, _AT, rules):
        at, subtotal = order.at, order.subtotal
        key = (at, "order", order.id)
        if requirements:
            unmet = _unmet_requirement(order, rules, currency)
            if unmet is not None:
                if explain:
                    notes.append((key, unmet))
                continue
        confirm_at = at + hold if hold else at  # the same moment for no hold
        amount: Number = 1 if counting_orders else subtotal
        # Most orders have no refund at all: skip the call for them.
        refunded_at = None if order.refunded_at is None else refund_known(order, now)
        if refunded_at is None:
            contributions.append((key, order.id, amount, confirm_at, None, key))
            continue
        back = refunded_amount(order, now)
        full = back >= subtotal
        if hold and full and refunded_at <= confirm_at:
            if explain:
                notes.append(
                    (
                        key,
                        f"order {order.id} was refunded on {day(refunded_at, zone)}, within "
                        f"its {hold.days}-day refund hold, and does not count",
                    )
                )
            continue
        contributions.append((key, order.id, amount, confirm_at, None, key))
        if counting_orders and not full:
            continue  # a partial refund leaves the order counted
        refunds = True
        # The refund happens at its own moment, but belongs to the order (`source`): it takes
        # back what the order gave, and only from a step the order counted for.
        refund_key = (refunded_at, "refund", order.id)
        if counting_orders:
            contributions.append((refund_key, order.id, -1, refunded_at, None, key))
            if explain:
                notes.append(
                    (
                        key,
                        f"order {order.id} was refunded on {day(refunded_at, zone)} "
                        "and no longer counts",
                    )
                )
        else:
            contributions.append((refund_key, order.id, -back, refunded_at, None, key))
            if explain:
                notes.append(
                    (
                        key,
                        f"{money(back, currency)} of order {order.id} was refunded on "
                        f"{day(refunded_at, zone)} and no longer counts",
                    )
                )
    if refunds:  # the orders came in key order: only refunds need moving into place
        contributions.sort(key=_KEY)
    return ledger


# -- steps ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class StepState:
    """Where one step stands at `now`."""

    achieved: ActivityKey | None  # the qualifying contribution's key, once the target was reached
    qualifying: str | None  # its activity id
    confirm_at: datetime | None  # when every contribution counted for it has passed its hold
    current: Number  # counted and past its hold
    pending: Number  # counted but still within a refund hold


def step_state(
    ledger: Ledger, after: ActivityKey | None, target: Number, now: datetime, grouped: bool
) -> StepState:
    """Sweep the contributions after `after` until the total reaches `target`; per group
    (subscription) when `grouped`, reading the largest group's total.

    A journey step (`after` given) began at `after`: activity before it never counted for the
    step, so neither does its refund, even when the refund comes later."""
    contributions = ledger.contributions
    first = 0 if after is None else bisect_right(contributions, after, key=_KEY)
    if grouped:
        return _grouped_step_state(islice(contributions, first, None), target, now)
    # Money stays Decimal throughout, zero included, so it is written in one form.
    zero: Number = _zero(target)
    total, confirmed, pending = zero, zero, zero
    latest_confirm: datetime | None = None
    for key, activity_id, delta, confirm_at, _, source in islice(contributions, first, None):
        if after is not None and source <= after:
            continue  # a refund of an order placed before the step began
        total += delta
        if delta < 0 or confirm_at <= now:
            confirmed += delta
        else:
            pending += delta
        if delta > 0 and (latest_confirm is None or confirm_at > latest_confirm):
            latest_confirm = confirm_at
        if total >= target:
            return StepState(
                key, activity_id, latest_confirm, max(confirmed, zero), max(pending, zero)
            )
    return StepState(None, None, None, max(confirmed, zero), max(pending, zero))


def _zero(target: Number) -> Number:
    """Nothing, in the target's kind: `Decimal(0)` for money, `0` for counts."""
    return Decimal(0) if isinstance(target, Decimal) else 0


class _GroupTotals:
    """Running totals per group; `value` is the largest."""

    def __init__(self) -> None:
        self.groups: dict[str | None, Number] = {}

    def add(self, group: str | None, delta: Number) -> None:
        self.groups[group] = self.groups.get(group, 0) + delta

    @property
    def value(self) -> Number:
        return max(self.groups.values(), default=0)


def _grouped_step_state(
    contributions: Iterable[Contribution], target: Number, now: datetime
) -> StepState:
    """`step_state` for a total per group (subscription_cycles)."""
    total, confirmed, pending = _GroupTotals(), _GroupTotals(), _GroupTotals()
    latest_confirm: datetime | None = None
    for key, activity_id, delta, confirm_at, group, _ in contributions:
        total.add(group, delta)
        if delta < 0 or confirm_at <= now:
            confirmed.add(group, delta)
        else:
            pending.add(group, delta)
        if delta > 0 and (latest_confirm is None or confirm_at > latest_confirm):
            latest_confirm = confirm_at
        if total.value >= target:
            return StepState(
                key, activity_id, latest_confirm, max(confirmed.value, 0), max(pending.value, 0)
            )
    return StepState(None, None, None, max(confirmed.value, 0), max(pending.value, 0))


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
    key: str, rule: str, step: _PlannedStep, achieved_at: datetime, qualifying: str | None
) -> Decision:
    return Decision(
        key=key,
        rule=rule,
        step=step.number,
        logic=step.logic,
        pick=step.pick,
        rewards=step.rewards,
        achieved_at=achieved_at,
        qualifying=qualifying,
    )


@dataclass(frozen=True, slots=True)
class _PlannedStep:
    number: int  # 1-based
    key: str  # `<rule>/<step>`: the decision key (inactivity adds the order id)
    metric: MilestoneType
    target: Number | Duration
    description: str | None
    shortest: timedelta | None  # inactivity: less than any span its target can be (see below)
    # What a decision for the step grants (the grants are immutable, so decisions share them).
    logic: str
    pick: int | None  # with `customer_picks` only
    rewards: tuple[RewardGrant, ...]


def planned_steps(milestone: Milestone) -> list[_PlannedStep]:
    """A milestone's steps, normalised: a single target and reward is one step."""
    if milestone.steps is None:
        assert milestone.target is not None and milestone.reward is not None
        target = _target(milestone.type, milestone.target)
        return [_plan_step(milestone, 1, milestone.type, target, milestone.reward, None)]
    return [
        _plan_step(
            milestone,
            index + 1,
            step.type or milestone.type,
            _target(step.type or milestone.type, step.target),
            step.reward,
            step,
        )
        for index, step in enumerate(milestone.steps)
    ]


def _plan_step(
    milestone: Milestone,
    number: int,
    metric: MilestoneType,
    target: Number | Duration,
    spec: RewardSpec,
    step: Step | None,  # None for a milestone with a single target and reward
) -> _PlannedStep:
    picks = spec.logic is RewardLogic.CUSTOMER_PICKS
    return _PlannedStep(
        number=number,
        key=f"{milestone.id}/{number}",
        metric=metric,
        target=target,
        description=milestone.description if step is None else _describe(step),
        shortest=_shortest_span(target) if isinstance(target, Duration) else None,
        logic=spec.logic.value,
        pick=spec.pick if picks else None,
        rewards=rewards_of(spec),
    )


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


@dataclass(frozen=True, slots=True)
class MilestonePlan:
    """What evaluating a milestone needs from the ruleset alone: its steps and what counts."""

    zone: tzinfo
    steps: tuple[_PlannedStep, ...]
    rules: CountingRules


def milestone_plan(milestone: Milestone, zone: tzinfo) -> MilestonePlan:
    """The milestone's plan in `zone`. The engine works it out once, when it is built, and
    passes it to every evaluation."""
    return MilestonePlan(zone, tuple(planned_steps(milestone)), counting_rules(milestone, zone))


def evaluate_milestone(
    milestone: Milestone,
    plan: MilestonePlan,
    shared: MilestoneContext,
    eligible: bool,
    blockers: Sequence[str],
) -> MilestoneOutcome:
    """Decide and explain one milestone. `eligible` is False when the customer is excluded or
    the rule's condition does not hold; `blockers` says why, for the explanations. `plan` is
    `milestone_plan(milestone, zone)`."""
    if milestone.type is MilestoneType.INACTIVITY:
        return _evaluate_inactivity(milestone, plan, shared, eligible, blockers)
    steps, rules = plan.steps, plan.rules
    now = shared.timeline.now  # `ctx.now`, possibly in UTC: comparisons with activity are faster
    mixed = milestone.type is MilestoneType.MIXED
    ledgers: dict[MilestoneType, Ledger] = {}
    outcome = MilestoneOutcome()
    after: ActivityKey | None = None
    decided_until: datetime | None = None  # every earlier step confirmed by this moment
    blocked = False  # an earlier step of a journey is not achieved yet
    for step in steps:
        assert not isinstance(step.target, Duration)
        notes: Sequence[str] = ()  # why some activity did not count, for the explanation
        if blocked:  # nothing counts for it yet, so its metric need not be read
            zero = _zero(step.target)
            state = StepState(None, None, None, zero, zero)
        else:
            ledger = ledgers.get(step.metric)
            if ledger is None:
                ledger = ledgers[step.metric] = build_ledger(
                    step.metric, shared.timeline, rules, shared.currency, shared.explain
                )
            grouped = step.metric is MilestoneType.SUBSCRIPTION_CYCLES
            state = step_state(ledger, after, step.target, now, grouped)
            notes = ledger.notes_after(after) if shared.explain else ()
        # A step is decided once it and every step before it have passed their refund holds.
        if step.number == 1:
            confirm = state.confirm_at
        elif decided_until is None or state.confirm_at is None:
            confirm = None
        else:
            confirm = max(decided_until, state.confirm_at)
        is_decided = state.achieved is not None and confirm is not None and confirm <= now
        if shared.explain:
            explanation = _explain_step(
                milestone,
                step,
                state,
                is_decided,
                shared,
                eligible,
                blockers,
                notes,
                blocked,
                rules,
                confirm,
            )
            outcome.explanations.append(explanation)
        if is_decided and eligible and step.key not in shared.granted:
            assert state.achieved is not None
            outcome.decisions.append(
                make_decision(step.key, milestone.id, step, state.achieved[0], state.qualifying)
            )
        if outcome.progress is None and not is_decided:
            outcome.progress = _progress(milestone, step, len(steps), state, shared)
        if state.achieved is None:
            blocked = blocked or mixed
        elif mixed:
            after = state.achieved
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
            _zero(last.target),
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
    shared: MilestoneContext,
    eligible: bool,
    blockers: Sequence[str],
    notes: Sequence[str],
    blocked: bool,
    rules: CountingRules,
    confirm: datetime | None,
) -> Explanation:
    zone = shared.ctx.tz
    key = step.key
    reasons: list[str] = []
    target_text = _target_text(step, shared.currency)
    if state.achieved is not None:
        reasons.append(
            f"reached {target_text} on {day(state.achieved[0], zone)} ({state.qualifying})"
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
        reasons.extend(notes)  # why some activity did not count

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
    plan: MilestonePlan,
    shared: MilestoneContext,
    eligible: bool,
    blockers: Sequence[str],
) -> MilestoneOutcome:
    """Each order starts a spell; a spell's step completes when no order followed within the
    step's duration. One decision per step and spell, keyed `<rule>/<step>/<order id>`."""
    outcome = MilestoneOutcome()
    ctx = shared.ctx
    now = shared.timeline.now  # `ctx.now`, possibly in UTC: comparisons with activity are faster
    steps, rules = plan.steps, plan.rules
    orders = shared.timeline.orders
    for index, order in enumerate(orders):
        following = orders[index + 1].at if index + 1 < len(orders) else None
        for step in steps:
            assert isinstance(step.target, Duration)
            if (
                following is not None
                and step.shortest is not None
                and following - order.at < step.shortest
            ):
                continue  # the next order surely came within the step's duration
            completes = _shift(order.at, step.target, ctx)
            if completes > now or (following is not None and following <= completes):
                continue
            if not rules.in_window(completes):
                continue
            key = f"{milestone.id}/{step.number}/{order.id}"
            decided = eligible and key not in shared.granted
            if decided:
                outcome.decisions.append(
                    make_decision(key, milestone.id, step, completes, order.id)
                )
            if shared.explain:
                outcome.explanations.append(
                    _explain_spell(
                        milestone, step, order.id, order.at, key, decided, blockers, shared
                    )
                )
    outcome.progress = _inactivity_progress(milestone, steps, shared)
    if shared.explain and not outcome.explanations:
        progress = outcome.progress
        reason = (
            "the customer has not ordered yet, so no spell of inactivity has started"
            if not orders
            else f"{progress.current} of {count(progress.target, 'day')} without an order"
        )
        outcome.explanations.append(
            Explanation(milestone.id, progress.step, "in_progress", (reason, *blockers))
        )
    return outcome


def _explain_spell(
    milestone: Milestone,
    step: _PlannedStep,
    order_id: str,
    order_at: datetime,
    key: str,
    decided: bool,
    blockers: Sequence[str],
    shared: MilestoneContext,
) -> Explanation:
    """Why a completed spell of inactivity was or was not decided."""
    if key in shared.granted:
        return Explanation(
            milestone.id,
            step.number,
            "already_granted",
            (
                f"no order for {step.target} after order {order_id}",
                f"already granted (`{key}` is in the snapshot's `granted`)",
            ),
        )
    if not decided:
        return Explanation(milestone.id, step.number, "not_eligible", tuple(blockers))
    return Explanation(
        milestone.id,
        step.number,
        "granted",
        (f"no order for {step.target} after order {order_id} ({day(order_at, shared.ctx.tz)})",),
    )


def _shortest_span(duration: Duration) -> timedelta | None:
    """Less than the time from any moment to that moment plus calendar `duration`, whatever
    the moment and zone: so an order that follows sooner than this surely falls within the
    duration, and the (slow) calendar shift need not be computed. None for exact durations,
    which are cheap to shift.

    Shifting moves the local day by whole months, clamped to the month's end: at least 28 days
    a month, less at most 3 days of clamping (31 -> 28). It keeps the local time of day and adds
    the seconds to the local time too; the zone's UTC offset (always within 24 hours either way)
    can change in between, by less than 48 hours."""
    if not duration.months:
        return None
    return timedelta(days=28 * duration.months - 3, seconds=duration.seconds) - timedelta(hours=48)


def _shift(moment: datetime, duration: Duration, ctx: EvalContext) -> datetime:
    shifted = shift(moment, duration, 1, ctx)
    assert isinstance(shifted, datetime)
    return shifted


def _inactivity_progress(
    milestone: Milestone, steps: Sequence[_PlannedStep], shared: MilestoneContext
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
