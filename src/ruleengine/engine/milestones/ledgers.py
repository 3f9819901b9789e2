"""Ledgers: a customer's activity as the contributions a milestone metric counts, in time order.

Each contribution is a plain tuple at its own moment; a refund is a negative contribution tied
to the order it refunds. Orders that miss the milestone's requirements or window are noted (for
explanations) and left out.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import TypeVar

import msgspec

from ruleengine.engine.activity import Order, optional_utc
from ruleengine.engine.timeline import Timeline, refund_known, refunded_amount, window_bounds
from ruleengine.engine.wording import count, day, money
from ruleengine.rules.models import Milestone, MilestoneType

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


# Points the ruleset itself granted, as `points_earned` counts them: (moment they became
# active, or of the reversal; "earning" or "milestone"; decision key; points, negative for a
# reversal; the activity they were for).
OwnPoint = tuple[datetime, str, str, int, str]


KEY = itemgetter(0)


_AT = attrgetter("at")


_CONVERTED_AT = attrgetter("converted_at")


class Ledger(msgspec.Struct):
    """A metric's contributions in key order, and notes on activity that did not count (written
    only when explaining: nothing else reads them), each with the key of the activity it is
    about, so that a journey step lists only notes on activity after it began."""

    contributions: list[Contribution] = msgspec.field(default_factory=list)
    notes: list[tuple[ActivityKey, str]] = msgspec.field(default_factory=list)

    def notes_after(self, after: ActivityKey | None) -> list[str]:
        """The notes on activity after `after` (all of them for None)."""
        return [text for source, text in self.notes if after is None or source > after]


class CountingRules(msgspec.Struct, frozen=True):
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


def _in_window(
    items: Sequence[A], moment: Callable[[A], datetime], rules: CountingRules
) -> Sequence[A]:
    """The items whose `moment` is in the window, for items in order of that moment."""
    if rules.start is None and rules.end is None:
        return items
    first = 0 if rules.start is None else bisect_left(items, rules.start, key=moment)
    stop = len(items) if rules.end is None else bisect_left(items, rules.end, key=moment)
    return items[first:stop]


def build_ledger(
    metric: MilestoneType,
    timeline: Timeline,
    rules: CountingRules,
    currency: str,
    explain: bool = True,
    own_points: Sequence[OwnPoint] = (),
) -> Ledger:
    """The contributions of `metric` in the window, in key order; with `explain`, notes on
    orders that did not count and why. `own_points` are the points the ruleset granted
    (`points_earned` counts them besides `points_earned` activity)."""
    if metric is MilestoneType.ORDERS_COUNT or metric is MilestoneType.AMOUNT_SPENT:
        return _order_ledger(metric, timeline, rules, currency, explain)
    if metric is MilestoneType.POINTS_EARNED and own_points:
        return Ledger(_points_contributions(timeline, rules, own_points))
    return Ledger(_activity_contributions(metric, timeline, rules))


def _points_contributions(
    timeline: Timeline, rules: CountingRules, own_points: Sequence[OwnPoint]
) -> list[Contribution]:
    """`points_earned` activity and the ruleset's own points (when they became active; a
    reversal as a negative contribution at the refund), in the window, in key order."""
    contributions = _activity_contributions(MilestoneType.POINTS_EARNED, timeline, rules)
    for at, kind, key, points, activity_id in _in_window(own_points, itemgetter(0), rules):
        entry = (at, kind, key)
        contributions.append((entry, activity_id, points, at, None, entry))
    contributions.sort(key=KEY)
    return contributions


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
        return _cycle_contributions(timeline, rules)
    return contributions


def _cycle_contributions(timeline: Timeline, rules: CountingRules) -> list[Contribution]:
    """Billing cycles: every `subscription_billing`, and every subscription order (an `order`
    with `subscription_id`) that no billing names in its `order_id`. A billing that names its
    order is the same renewal as that order: it counts once, as the billing (the moment the
    subscription was billed), so hosts that send both forms keep their results."""
    contributions: list[Contribution] = []
    named = {billing.order_id for billing in timeline.billings if billing.order_id is not None}
    for billing in _in_window(timeline.billings, _AT, rules):
        key = (billing.at, "subscription_billing", billing.id)
        contributions.append((key, billing.id, 1, billing.at, billing.subscription_id, key))
    billed = len(contributions)
    for order in _in_window(timeline.orders, _AT, rules):
        if order.subscription_id is not None and order.id not in named:
            key = (order.at, "order", order.id)
            contributions.append((key, order.id, 1, order.at, order.subscription_id, key))
    if billed and len(contributions) > billed:
        contributions.sort(key=KEY)
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
    min_subtotal, min_items = rules.min_subtotal, rules.min_items
    hold = rules.hold
    refunds = False
    for order in _in_window(timeline.orders, _AT, rules):
        at, subtotal = order.at, order.subtotal
        key = (at, "order", order.id)
        # The test first; the words (two amounts formatted) only for an explanation.
        if (min_subtotal is not None and subtotal < min_subtotal) or (
            min_items is not None and item_count(order) < min_items
        ):
            if explain:
                unmet = _unmet_requirement(order, rules, currency)
                assert unmet is not None  # the same tests, in the same order
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
        contributions.sort(key=KEY)
    return ledger
