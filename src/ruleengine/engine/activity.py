"""A validated snapshot's activity, as the engine reads it: msgspec structs, all in UTC.

These classes are what `ruleengine.engine.snapshot_reader` decodes snapshot JSON text into
(`msgspec.json.decode`) and converts a host's mappings into (`msgspec.convert`): msgspec
builds them in C, checking each field's type as it goes (tagged by `type`, unknown fields
refused), and `__post_init__` adds what a type cannot say (amounts non-negative, finite and of
at most `AMOUNT_DIGITS` digits, timestamps in the supported years, moved to UTC). A struct
that cannot be built makes the reader refuse the snapshot, and the pydantic models
(`snapshot_models`) word why. Events carry a record of their own fields and are made by the
reader (`Event`), as a host's `custom:<name>` events are not a fixed set of tags.

Every timestamp is converted to `datetime.timezone.utc`: the same instant, so no comparison
changes, but comparing two datetimes that share one tzinfo object is several times faster
than comparing across offsets or zone objects, and the engine compares timestamps constantly.
`record` is the activity as rule expressions see it (`order.subtotal`, `event.platform`);
the engine never changes these objects. The structs are untracked by the garbage collector
(`gc=False`): they hold only text, numbers, moments and lists or dicts of those, never
themselves, and a host's history of thousands of them then costs the collector nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import msgspec

from ruleengine.expr.runtime import FIRST_YEAR, LAST_YEAR
from ruleengine.limits import AMOUNT_DIGITS, MAX_POINTS, is_bounded_decimal

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


_FIRST, _LAST = FIRST_YEAR, LAST_YEAR


def moment(value: datetime) -> datetime:
    """An aware timestamp in UTC, in the supported years (the models' `Moment`)."""
    if value.tzinfo is not UTC:
        value = utc(value)
    if FIRST_YEAR <= value.year <= LAST_YEAR:
        return value
    raise ValueError("outside the supported years")


def optional_moment(value: datetime | None) -> datetime | None:
    return None if value is None else moment(value)


def money(value: Decimal) -> Decimal:
    """A non-negative, finite amount of at most `AMOUNT_DIGITS` digits each side of its point."""
    if value.is_finite() and value >= 0:
        # Written out in at most AMOUNT_DIGITS characters, without an exponent, it is bounded:
        # cheaper to see than the digits tuple `is_bounded_decimal` reads (~0.2 against ~0.8 µs).
        text = str(value)
        if (len(text) <= AMOUNT_DIGITS and "E" not in text) or is_bounded_decimal(value):
            return value
    raise ValueError("not an amount")


def optional_money(value: Decimal | None) -> Decimal | None:
    return None if value is None else money(value)


def points(value: int, low: int = -MAX_POINTS) -> int:
    if low <= value <= MAX_POINTS:
        return value
    raise ValueError("points out of range")


class _Written:
    """No value is one: the type of `record` to msgspec, so that a snapshot's own `record`
    field is refused (and left to the models, which ignore it) rather than read."""

    __slots__ = ()


# What msgspec checks as it decodes: text that is not empty, aware timestamps, counts.
Id = Annotated[str, msgspec.Meta(min_length=1)]
Aware = Annotated[datetime, msgspec.Meta(tz=True)]
Rating = Annotated[int, msgspec.Meta(ge=1, le=5)]
Quantity = Annotated[int, msgspec.Meta(ge=0)]


class Activity(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """One piece of activity: its id, its moment and its type (`order`, `custom:quiz`, ...)."""

    type: ClassVar[str]  # each class's tag; an event's own field
    id: Id
    at: Aware

    def __post_init__(self) -> None:
        at = self.at
        if at.tzinfo is not UTC or not _FIRST <= at.year <= _LAST:  # rare: the call is not
            self.at = moment(at)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.type} {self.id} at {self.at.isoformat()}>"


class Item(msgspec.Struct, forbid_unknown_fields=True, gc=False, kw_only=True):
    """An order's line, as expressions read it (`order.items`), fields in the contract's order."""

    product_id: str
    variant_id: str | None = None
    sku: str | None = None
    title: str | None = None
    vendor: str | None = None
    product_type: str | None = None
    quantity: Quantity = 1
    price: Decimal
    tags: list[str] = []

    def __post_init__(self) -> None:
        money(self.price)


class Order(Activity, tag_field="type", tag="order"):
    type = "order"
    subtotal: Decimal
    total: Decimal | None = None
    channel: str | None = None
    items: list[Item] = []
    discount_codes: list[str] = []
    refunded_at: Aware | None = None
    refunded_amount: Decimal | None = None  # None with `refunded_at`: refunded in full
    subscription_id: str | None = None

    if TYPE_CHECKING:
        record: dict[str, Any] = msgspec.field(default_factory=dict)
    else:
        record: _Written | None = None  # the order as expressions read it: made below

    def __post_init__(self) -> None:
        at = self.at
        if at.tzinfo is not UTC or not _FIRST <= at.year <= _LAST:
            self.at = moment(at)
        money(self.subtotal)
        if self.total is not None:
            money(self.total)
        if self.refunded_at is not None:
            self.refunded_at = moment(self.refunded_at)
        if self.refunded_amount is not None:
            money(self.refunded_amount)
        self.record = _record(self)


class Review(Activity, tag_field="type", tag="review"):
    type = "review"
    rating: Rating
    product_id: str | None = None
    has_photo: bool = False
    verified: bool | None = None
    if TYPE_CHECKING:
        record: dict[str, Any] = msgspec.field(default_factory=dict)
    else:
        record: _Written | None = None  # the review as expressions read it: made below

    def __post_init__(self) -> None:
        at = self.at
        if at.tzinfo is not UTC or not _FIRST <= at.year <= _LAST:
            self.at = moment(at)
        self.record = _record(self)


def _record(activity: Order | Review) -> dict[str, Any]:
    """An activity as expressions read it, an order's items as mappings (`asdict` copies the
    fields in C, twice as fast as `msgspec.to_builtins` walking every value)."""
    record = _asdict(activity)
    del record["record"]
    record["type"] = activity.type
    if type(activity) is Order and activity.items:
        record["items"] = [_asdict(item) for item in activity.items]
    return record


_asdict = msgspec.structs.asdict


class Referral(Activity, tag_field="type", tag="referral"):
    type = "referral"
    converted_at: Aware | None = None  # when the friend first bought; it counts from then

    def __post_init__(self) -> None:
        self.at = moment(self.at)
        if self.converted_at is not None:
            self.converted_at = moment(self.converted_at)


class Billing(Activity, tag_field="type", tag="subscription_billing"):
    """A subscription billing (`subscription_billing`)."""

    type = "subscription_billing"
    subscription_id: Id
    order_id: str | None = None  # the renewal's order, when the host sends that order too


class PointsEntry(Activity, tag_field="type", tag="points_earned"):
    """Points the customer earned outside the ruleset (`points_earned`)."""

    type = "points_earned"
    points: int

    def __post_init__(self) -> None:
        self.at = moment(self.at)
        points(self.points)


class Adjustment(Activity, tag_field="type", tag="adjustment"):
    """A manual correction by the merchant (`adjustment`): `points` signed."""

    type = "adjustment"
    points: int
    affects_tier: bool = False
    note: str | None = None  # internal
    message: str | None = None  # customer-facing

    def __post_init__(self) -> None:
        self.at = moment(self.at)
        points(self.points)


class Redemption(Activity, tag_field="type", tag="redemption"):
    """Points spent on a `redeeming` program (`redemption`), and the coupon it gave."""

    type = "redemption"
    program: Id
    points: int
    coupon: Id
    revoked_at: Aware | None = None  # revoking an unused coupon restores its points then
    used_at: Aware | None = None

    def __post_init__(self) -> None:
        self.at = moment(self.at)
        points(self.points, 1)
        # Any aware moment, as the models read these two (no range of years).
        self.revoked_at = optional_utc(self.revoked_at)
        self.used_at = optional_utc(self.used_at)


class TierSet(Activity, tag_field="type", tag="tier_change"):
    """The store set the customer's VIP tier by hand (`tier_change`): the level from this
    moment, and the tier points too when `tier_points` is given (None: they stay)."""

    type = "tier_change"
    tier: Id
    tier_points: Decimal | None = None

    def __post_init__(self) -> None:
        self.at = moment(self.at)
        if self.tier_points is not None:
            money(self.tier_points)


class TierRecalculation(Activity, tag_field="type", tag="tier_recalculation"):
    """The store asked for the tier to be recomputed from the history (`tier_recalculation`):
    every earlier manual change is dropped."""

    type = "tier_recalculation"


class Event(Activity):
    """A built-in event (`signup`, `social_follow`, ...) or a host's `custom:<name>` event;
    a custom event's record carries its declared fields, converted to their types. Made by
    the reader from a checked event, never decoded as it is."""

    type: str  # type: ignore[misc]  # an event's type is its own: `custom:<name>` is open-ended
    record: dict[str, Any]

    def __post_init__(self) -> None:
        pass  # made from checked values

    @property
    def custom(self) -> bool:
        return self.type.startswith("custom:")
