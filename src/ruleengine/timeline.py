"""One customer's activity, indexed once per evaluation: sorted, split by kind, and cut at `now`.

Every decision is made "as it happened": the engine only ever looks at activity up to a
moment, so evaluating a growing history gives the same decisions as evaluating the final one.
Activity dated after `now`, and refunds or conversions dated after `now`, are not known yet
and are left out here, in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any, TypeVar

from ruleengine.snapshot import (
    CustomEventIn,
    EventIn,
    OrderIn,
    PointsEarnedIn,
    ReferralIn,
    ReviewIn,
    Snapshot,
    SubscriptionBillingIn,
)

A = TypeVar("A")


def activity_key(activity: Any) -> tuple[datetime, str, str]:
    """The total order of activity: time, then type, then id (ties never depend on input order)."""
    return (activity.at, activity.type, activity.id)


def _sorted(items: Iterable[A]) -> tuple[A, ...]:
    return tuple(sorted(items, key=activity_key))


def refund_known(order: OrderIn, now: datetime) -> datetime | None:
    """The order's refund time if it happened by `now`."""
    if order.refunded_at is not None and order.refunded_at <= now:
        return order.refunded_at
    return None


def refunded_amount(order: OrderIn, now: datetime) -> Decimal:
    """How much of the order was refunded by `now` (all of it when no amount is given)."""
    if refund_known(order, now) is None:
        return Decimal(0)
    if order.refunded_amount is None:
        return order.subtotal
    return min(order.refunded_amount, order.subtotal)


def fully_refunded(order: OrderIn, now: datetime) -> bool:
    return refund_known(order, now) is not None and refunded_amount(order, now) >= order.subtotal


@dataclass(frozen=True)
class Timeline:
    """The activity known at `now`, by kind, each sorted by `activity_key`."""

    now: datetime
    zone: tzinfo
    orders: tuple[OrderIn, ...]
    reviews: tuple[ReviewIn, ...]
    referrals: tuple[ReferralIn, ...]  # converted by `now`, sorted by conversion
    billings: tuple[SubscriptionBillingIn, ...]
    points: tuple[PointsEarnedIn, ...]
    events: tuple[EventIn | CustomEventIn, ...]

    @classmethod
    def build(cls, snapshot: Snapshot, now: datetime, zone: tzinfo) -> Timeline:
        known = [a for a in snapshot.activity if a.at <= now]
        referrals = sorted(
            (
                a
                for a in known
                if isinstance(a, ReferralIn)
                and a.converted_at is not None
                and a.converted_at <= now
            ),
            key=lambda r: (r.converted_at, r.id),
        )
        return cls(
            now=now,
            zone=zone,
            orders=_sorted(a for a in known if isinstance(a, OrderIn)),
            reviews=_sorted(a for a in known if isinstance(a, ReviewIn)),
            referrals=tuple(referrals),
            billings=_sorted(a for a in known if isinstance(a, SubscriptionBillingIn)),
            points=_sorted(a for a in known if isinstance(a, PointsEarnedIn)),
            events=_sorted(a for a in known if isinstance(a, EventIn | CustomEventIn)),
        )

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def stats_at(self, moment: datetime) -> dict[str, Any]:
        """The `stats` record as it stood at `moment` (activity at or before it)."""
        return compute_stats(self, moment)


def compute_stats(timeline: Timeline, moment: datetime) -> dict[str, Any]:
    """Orders count and amount spent leave out refunds known by `moment`; points, reviews and
    converted referrals are counted as they happened."""
    orders = [o for o in timeline.orders if o.at <= moment]
    kept = [o for o in orders if not fully_refunded(o, moment)]
    spent = sum((o.subtotal - refunded_amount(o, moment) for o in orders), Decimal(0))
    last = orders[-1].at if orders else None
    return {
        "orders_count": len(kept),
        "amount_spent": spent,
        "points_earned": sum(p.points for p in timeline.points if p.at <= moment),
        "reviews_count": sum(1 for r in timeline.reviews if r.at <= moment),
        "referrals_count": sum(
            1 for r in timeline.referrals if r.converted_at is not None and r.converted_at <= moment
        ),
        "first_order_at": orders[0].at if orders else None,
        "last_order_at": last,
        "days_since_last_order": (
            (timeline.local_date(moment) - timeline.local_date(last)).days if last else None
        ),
    }


def first(items: Sequence[A]) -> A | None:
    return items[0] if items else None
