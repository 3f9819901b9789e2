"""A validated snapshot's activity, as the engine reads it: small slotted objects, all in UTC.

The snapshot contract is described by the pydantic models in `ruleengine.engine.snapshot` (they give
the JSON Schema and the worded problems); evaluation reads these lighter objects instead, made
once per snapshot either straight from JSON (`ruleengine.engine.snapshot_reader`, the fast path) or
from the validated models (`from_model`, for anything the fast path leaves to pydantic). Both
give equal objects for the same input, which `tests/unit/engine/test_snapshot_reader.py` checks.

Every timestamp is converted to `datetime.timezone.utc`: the same instant, so no comparison
changes, but comparing two datetimes that share one tzinfo object is several times faster
than comparing across offsets or zone objects, and the engine compares timestamps constantly.
`record` is the activity as rule expressions see it (`order.subtotal`, `event.platform`);
the engine never changes these objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

# The built-in events: actions without a record of their own.
EVENT_TYPES = ("signup", "newsletter_signup", "social_follow", "website_visit", "survey")


def utc(moment: datetime) -> datetime:
    """The same instant with the `timezone.utc` tzinfo (unchanged at the ends of the calendar,
    where UTC would fall outside the years 1-9999)."""
    if moment.tzinfo is UTC:
        return moment
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return moment


def optional_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else utc(moment)


@dataclass(slots=True, eq=True, repr=False)
class Activity:
    """One piece of activity: its id, its moment and its type (`order`, `custom:quiz`, ...)."""

    id: str
    at: datetime
    type: str

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.type} {self.id} at {self.at.isoformat()}>"


@dataclass(slots=True, eq=True, repr=False)
class Order(Activity):
    subtotal: Decimal
    channel: str | None
    refunded_at: datetime | None
    refunded_amount: Decimal | None  # None with `refunded_at`: refunded in full
    subscription_id: str | None
    record: dict[str, Any]


@dataclass(slots=True, eq=True, repr=False)
class Review(Activity):
    record: dict[str, Any]


@dataclass(slots=True, eq=True, repr=False)
class Referral(Activity):
    converted_at: datetime | None  # when the friend first bought; it counts from then


@dataclass(slots=True, eq=True, repr=False)
class Billing(Activity):
    """A subscription billing (`subscription_billing`)."""

    subscription_id: str
    order_id: str | None = None  # the renewal's order, when the host sends that order too


@dataclass(slots=True, eq=True, repr=False)
class PointsEntry(Activity):
    """Points the customer earned outside the ruleset (`points_earned`)."""

    points: int


@dataclass(slots=True, eq=True, repr=False)
class Adjustment(Activity):
    """A manual correction by the merchant (`adjustment`): `points` signed."""

    points: int
    affects_tier: bool
    note: str | None  # internal
    message: str | None  # customer-facing


@dataclass(slots=True, eq=True, repr=False)
class Redemption(Activity):
    """Points spent on a `redeeming` program (`redemption`), and the coupon it gave."""

    program: str
    points: int
    coupon: str
    revoked_at: datetime | None  # revoking an unused coupon restores its points then
    used_at: datetime | None


@dataclass(slots=True, eq=True, repr=False)
class TierSet(Activity):
    """The store set the customer's VIP tier by hand (`tier_change`): the level from this
    moment, and the tier points too when `tier_points` is given (None: they stay)."""

    tier: str
    tier_points: Decimal | None


@dataclass(slots=True, eq=True, repr=False)
class TierRecalculation(Activity):
    """The store asked for the tier to be recomputed from the history (`tier_recalculation`):
    every earlier manual change is dropped."""


@dataclass(slots=True, eq=True, repr=False)
class Event(Activity):
    """A built-in event (`signup`, `social_follow`, ...) or a host's `custom:<name>` event;
    a custom event's record carries its declared fields, converted to their types."""

    record: dict[str, Any]

    @property
    def custom(self) -> bool:
        return self.type.startswith("custom:")


def from_model(model: Any) -> Activity:
    """The activity of a validated pydantic activity model (`snapshot.OrderIn`...)."""
    record: dict[str, Any] = model.model_dump()
    record.update(model.model_extra or {})
    at = record["at"] = utc(model.at)
    kind = model.type
    if kind == "order":
        refunded_at = record["refunded_at"] = optional_utc(model.refunded_at)
        return Order(
            model.id,
            at,
            kind,
            model.subtotal,
            model.channel,
            refunded_at,
            model.refunded_amount,
            model.subscription_id,
            record,
        )
    if kind == "review":
        return Review(model.id, at, kind, record)
    if kind == "referral":
        return Referral(model.id, at, kind, optional_utc(model.converted_at))
    if kind == "subscription_billing":
        return Billing(model.id, at, kind, model.subscription_id, model.order_id)
    if kind == "points_earned":
        return PointsEntry(model.id, at, kind, model.points)
    if kind == "adjustment":
        return Adjustment(
            model.id, at, kind, model.points, model.affects_tier, model.note, model.message
        )
    if kind == "redemption":
        return Redemption(
            model.id,
            at,
            kind,
            model.program,
            model.points,
            model.coupon,
            optional_utc(model.revoked_at),
            optional_utc(model.used_at),
        )
    if kind == "tier_change":
        return TierSet(model.id, at, kind, model.tier, model.tier_points)
    if kind == "tier_recalculation":
        return TierRecalculation(model.id, at, kind)
    return Event(model.id, at, kind, record)
