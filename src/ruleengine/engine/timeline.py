"""One customer's activity, indexed once per evaluation: sorted, split by kind, and cut at `now`.

Every decision is made "as it happened": the engine only ever looks at activity up to a
moment, so evaluating a growing history gives the same decisions as evaluating the final one.
Activity dated after `now`, and refunds or conversions dated after `now`, are not known yet
and are left out here, in one place.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from itertools import accumulate
from operator import attrgetter, itemgetter
from typing import Any, TypeVar

import msgspec

from ruleengine.engine.activity import (
    Adjustment,
    Billing,
    Event,
    Order,
    PointsEntry,
    Redemption,
    Referral,
    Review,
    TierRecalculation,
    TierSet,
    utc,
)
from ruleengine.engine.snapshot import Snapshot
from ruleengine.rules.models import Window

A = TypeVar("A")


# The total order of activity: time, then type, then id (ties never depend on input order).
_ACTIVITY_KEY = attrgetter("at", "type", "id")
_FIRST = itemgetter(0)


def _sorted(items: list[A]) -> tuple[A, ...]:
    """A list of the timeline's own, sorted in place (no copy); most kinds of activity have
    none or one, which need no sorting at all."""
    if len(items) > 1:
        items.sort(key=_ACTIVITY_KEY)
    return tuple(items)


def refund_known(order: Order, now: datetime) -> datetime | None:
    """The order's refund time if it happened by `now`."""
    if order.refunded_at is not None and order.refunded_at <= now:
        return order.refunded_at
    return None


def refunded_amount(order: Order, now: datetime) -> Decimal:
    """How much of the order was refunded by `now` (all of it when no amount is given)."""
    if refund_known(order, now) is None:
        return Decimal(0)
    if order.refunded_amount is None:
        return order.subtotal
    return min(order.refunded_amount, order.subtotal)


def fully_refunded(order: Order, now: datetime) -> bool:
    return refund_known(order, now) is not None and refunded_amount(order, now) >= order.subtotal


class _Series(msgspec.Struct, frozen=True):
    """Moments in order with the running total of a value up to each, for O(log n) lookups of
    "how much by time t"."""

    moments: tuple[datetime, ...]
    totals: tuple[Any, ...]  # totals[i] = sum of the first i values

    @classmethod
    def of(cls, pairs: Iterable[tuple[datetime, Any]], zero: Any = 0) -> _Series:
        ordered = sorted(pairs, key=_FIRST)  # stable: ties keep their order, as before
        totals = accumulate((value for _, value in ordered), initial=zero)  # `+`, as before
        return cls(tuple(map(_FIRST, ordered)), tuple(totals))

    def count_by(self, moment: datetime) -> int:
        return bisect.bisect_right(self.moments, moment)

    def total_by(self, moment: datetime) -> Any:
        return self.totals[self.count_by(moment)]


_KINDS = (
    Order,
    Review,
    Referral,
    Billing,
    PointsEntry,
    Adjustment,
    Redemption,
    Event,
    TierSet,
    TierRecalculation,
)


class Timeline(msgspec.Struct, frozen=True):
    """The activity known at `now`, by kind, each sorted by time, type and id."""

    now: datetime
    zone: tzinfo
    orders: tuple[Order, ...]
    reviews: tuple[Review, ...]
    referrals: tuple[Referral, ...]  # converted by `now`, sorted by conversion
    billings: tuple[Billing, ...]
    points: tuple[PointsEntry, ...]
    events: tuple[Event, ...]  # built-in and custom events
    adjustments: tuple[Adjustment, ...] = ()
    redemptions: tuple[Redemption, ...] = ()
    # The store's manual tier changes and recalculations, together in time order.
    tier_actions: tuple[TierSet | TierRecalculation, ...] = ()
    # The running totals behind `stats_at`, made at its first call. A struct compares and shows
    # every field, this cache too: nothing compares, hashes or prints a timeline (internal to
    # one evaluation), so it is not worth a dataclass (~0.7 ms to make the class).
    _series: dict[str, _Series] = msgspec.field(default_factory=dict)

    @classmethod
    def build(cls, snapshot: Snapshot, now: datetime, zone: tzinfo) -> Timeline:
        # One pass that sorts activity into its kind. Activity timestamps are in UTC, and so is
        # `now` here, so every comparison below is between datetimes of one tzinfo (fast).
        now = utc(now)
        kinds: dict[type, list[Any]] = {kind: [] for kind in _KINDS}
        for activity in snapshot.activity:
            if activity.at <= now:
                kinds[type(activity)].append(activity)
        referrals = sorted(
            (a for a in kinds[Referral] if a.converted_at is not None and a.converted_at <= now),
            key=lambda r: (r.converted_at, r.id),
        )
        return cls(
            now=now,
            zone=zone,
            orders=_sorted(kinds[Order]),
            reviews=_sorted(kinds[Review]),
            referrals=tuple(referrals),
            billings=_sorted(kinds[Billing]),
            points=_sorted(kinds[PointsEntry]),
            events=_sorted(kinds[Event]),
            adjustments=_sorted(kinds[Adjustment]),
            redemptions=_sorted(kinds[Redemption]),
            tier_actions=_sorted([*kinds[TierSet], *kinds[TierRecalculation]]),
        )

    def _index(self) -> None:
        """Running totals behind `stats_at`, built at its first call (many rulesets never read
        `stats`) so that each lookup is a binary search."""
        now = self.now
        refunds = [(o, refund_known(o, now)) for o in self.orders]
        self._series.update(
            orders=_Series.of((o.at, 1) for o in self.orders),
            full_refunds=_Series.of(
                (at, 1) for o, at in refunds if at is not None and fully_refunded(o, now)
            ),
            subtotals=_Series.of(((o.at, o.subtotal) for o in self.orders), Decimal(0)),
            refunded=_Series.of(
                ((at, refunded_amount(o, now)) for o, at in refunds if at is not None), Decimal(0)
            ),
            points=_Series.of((p.at, p.points) for p in self.points),
            reviews=_Series.of((r.at, 1) for r in self.reviews),
            referrals=_Series.of(
                (r.converted_at, 1) for r in self.referrals if r.converted_at is not None
            ),
        )

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def stats_at(self, moment: datetime) -> dict[str, Any]:
        """The `stats` record as it stood at `moment` (activity at or before it).

        Orders count and amount spent leave out refunds known by `moment`; points, reviews and
        converted referrals are counted as they happened.
        """
        series = self._series
        if not series:
            self._index()
        placed = series["orders"].count_by(moment)
        last = self.orders[placed - 1].at if placed else None
        return {
            "orders_count": placed - series["full_refunds"].count_by(moment),
            "amount_spent": series["subtotals"].total_by(moment)
            - series["refunded"].total_by(moment),
            "points_earned": series["points"].total_by(moment),
            "reviews_count": series["reviews"].count_by(moment),
            "referrals_count": series["referrals"].count_by(moment),
            "first_order_at": self.orders[0].at if placed else None,
            "last_order_at": last,
            "days_since_last_order": (
                (self.local_date(moment) - self.local_date(last)).days if last else None
            ),
        }


# -- windows: shared by earning rules and milestones ----------------------------------------------


def window_bounds(window: Window | None, zone: tzinfo) -> tuple[datetime | None, datetime | None]:
    """A window's days as moments: from the start of `from` to the end of `until`."""
    if window is None:
        return None, None
    start = datetime.combine(window.from_, time(0), zone) if window.from_ else None
    end = None  # no end, or `until: 9999-12-31`: the calendar has no day after it
    if window.until is not None and window.until < date.max:
        end = datetime.combine(window.until + timedelta(days=1), time(0), zone)
    return start, end
