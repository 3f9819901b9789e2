"""The fast path of snapshot reading: well-formed JSON straight to activity objects.

Validating a snapshot through the pydantic models costs about as much as evaluating the whole
ruleset, and nearly every snapshot a host sends is well formed. This reader accepts the plain
forms a JSON parser produces (`str`, `int`, `float` or `Decimal` numbers, ISO 8601 timestamps
with an offset, `YYYY-MM-DD` dates, lists and objects; aware `datetime` and `date` objects from
a Python host) and builds the activity objects directly. It never reports a problem: anything
it is not sure of (a wrong type, a missing field, a number as text with an exponent, a
timestamp without `T`, a tuple instead of a list, an object nested deeper than the limit
allows...) makes it *decline*, and the caller validates the snapshot through the models
instead, which accept or word the problem exactly as before. So the fast
path changes speed only: for every input it accepts, it gives what the models give
(`tests/unit/engine/test_snapshot_reader.py` compares them on the corpora and on generated input).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ruleengine.engine.activity import (
    EVENT_TYPES,
    Activity,
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
from ruleengine.expr.runtime import FIRST_YEAR, LAST_YEAR, is_supported
from ruleengine.limits import AMOUNT_DIGITS, MAX_POINTS, is_bounded_decimal, json_depth

# Stricter than what the models accept, never looser: a value outside these shapes declines.
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_AMOUNT = re.compile(r"\d{1,30}(?:\.\d{1,30})?")
_TIMESTAMP_MATCH = _TIMESTAMP.fullmatch
_FROM_ISO = datetime.fromisoformat
_FIRST_YEAR, _LAST_YEAR = FIRST_YEAR, LAST_YEAR
_LARGEST = 10**AMOUNT_DIGITS
_CUSTOM_TYPE = re.compile(r"custom:[a-z_][a-z0-9_]{0,63}")

# The deepest the fixed structure goes (snapshot, activity, an order, items, an item, its
# tags, a tag); below that limit every snapshot takes the models' path and their depth check.
STRUCTURE_DEPTH = 7


_ABSENT: Any = object()  # a field left out (a default applies), not given as null


class DeclinedError(Exception):
    """The fast reader cannot vouch for this input: validate it through the models."""


def read_fast(data: Any, max_depth: int) -> tuple[dict[str, Any], list[Activity], list[str]]:
    """The customer (the raw fields and attributes, as the models would give them), the
    activity and the granted keys of a well-formed snapshot; raises `DeclinedError` otherwise."""
    if type(data) is not dict or max_depth < STRUCTURE_DEPTH:
        raise DeclinedError
    for key in data:
        if key != "customer" and key != "activity" and key != "granted":
            raise DeclinedError
    customer = _customer(data.get("customer"), max_depth)
    entries = data.get("activity", [])
    granted = data.get("granted", [])
    if type(entries) is not list:
        raise DeclinedError
    return customer, _activities(entries, max_depth), _texts(granted)


# -- values ----------------------------------------------------------------------------------


def _timestamp(value: Any) -> datetime:
    """An ISO 8601 timestamp with an offset, or an aware `datetime` (a Python host's)."""
    kind = type(value)
    if kind is str and _TIMESTAMP_MATCH(value):
        try:
            moment = _FROM_ISO(value)
        except ValueError:
            raise DeclinedError from None
        if moment.tzinfo is not UTC:
            moment = utc(moment)
        if _FIRST_YEAR <= moment.year <= _LAST_YEAR:
            return moment
    elif kind is datetime and value.utcoffset() is not None and is_supported(value):
        return utc(value)
    raise DeclinedError  # the models word the problem (a timestamp outside the years: RE610)


def _optional_timestamp(value: Any) -> datetime | None:
    return None if value is None else _timestamp(value)


def _money(value: Any) -> Decimal:
    """A non-negative, finite amount: decimal text, a whole number, a float or a `Decimal`."""
    kind = type(value)
    if kind is str:
        if _AMOUNT.fullmatch(value):
            return Decimal(value)
    elif kind is Decimal:
        if value.is_finite() and value >= 0 and is_bounded_decimal(value):
            return value  # type: ignore[no-any-return]
    elif kind is int and 0 <= value < _LARGEST:
        return Decimal(value)
    elif kind is float and math.isfinite(value) and 0 <= value < _LARGEST:
        amount = Decimal(repr(value))  # the shortest text that reads back as the float
        if is_bounded_decimal(amount):
            return amount
    raise DeclinedError  # the models word the problem (an amount too large: RE610)


def _text(value: Any) -> str:
    if type(value) is str:
        return value
    raise DeclinedError


def _id(value: Any) -> str:
    if type(value) is str and value:
        return value
    raise DeclinedError


def _optional_text(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    raise DeclinedError


def _texts(value: Any) -> list[str]:
    if type(value) is list:
        for item in value:
            if type(item) is not str:
                raise DeclinedError
        return list(value)
    raise DeclinedError


def _whole(value: Any, low: int | None = None, high: int | None = None) -> int:
    if type(value) is int and (low is None or value >= low) and (high is None or value <= high):
        return value
    raise DeclinedError


def _flag(value: Any) -> bool:
    if value is True or value is False:
        return value
    raise DeclinedError


def _optional_flag(value: Any) -> bool | None:
    return None if value is None else _flag(value)


def _optional_date(value: Any) -> date | None:
    if value is None or type(value) is date:
        return value
    if type(value) is str and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise DeclinedError


def _ignored(value: Any, container_depth: int, max_depth: int) -> None:
    """A value the models pass through or ignore must still respect the depth limit."""
    deep = isinstance(value, dict | list | tuple)
    if deep and container_depth + json_depth(value, max_depth) > max_depth:
        raise DeclinedError


# -- records -----------------------------------------------------------------------------------

_CUSTOMER_FIELDS = frozenset(
    ("id", "email", "tags", "tier", "excluded", "birthday", "birthday_set_at", "created_at")
)


def _customer(value: Any, max_depth: int) -> dict[str, Any]:
    if type(value) is not dict:
        raise DeclinedError
    get = value.get
    customer: dict[str, Any] = {
        "id": _id(get("id")),
        "email": _optional_text(get("email")),
        "tags": _texts(get("tags", [])),
        "tier": _optional_text(get("tier")),
        "excluded": _flag(get("excluded", False)),
        "birthday": _optional_date(get("birthday")),
        "birthday_set_at": _optional_timestamp(get("birthday_set_at")),
        "created_at": _optional_timestamp(get("created_at")),
    }
    for key, extra in value.items():
        if key not in _CUSTOMER_FIELDS:
            _ignored(extra, 2, max_depth)
            customer[key] = extra  # the ruleset's attributes: converted by their types later
    return customer


_ORDER_FIELDS = frozenset(
    (
        "id",
        "at",
        "type",
        "subtotal",
        "total",
        "channel",
        "items",
        "discount_codes",
        "refunded_at",
        "refunded_amount",
        "subscription_id",
    )
)
_ITEM_FIELDS = frozenset(
    (
        "product_id",
        "variant_id",
        "sku",
        "title",
        "vendor",
        "product_type",
        "quantity",
        "price",
        "tags",
    )
)
_REVIEW_FIELDS = frozenset(("id", "at", "type", "rating", "product_id", "has_photo", "verified"))
_REFERRAL_FIELDS = frozenset(("id", "at", "type", "converted_at"))
_BILLING_FIELDS = frozenset(("id", "at", "type", "subscription_id", "order_id"))
_POINTS_FIELDS = frozenset(("id", "at", "type", "points"))
_ADJUSTMENT_FIELDS = frozenset(("id", "at", "type", "points", "affects_tier", "note", "message"))
_REDEMPTION_FIELDS = frozenset(
    ("id", "at", "type", "program", "points", "coupon", "revoked_at", "used_at")
)
_TIER_CHANGE_FIELDS = frozenset(("id", "at", "type", "tier", "tier_points"))
_TIER_RECALCULATION_FIELDS = frozenset(("id", "at", "type"))
_EVENT_FIELDS = frozenset(("id", "at", "type", "platform", "url", "survey_id"))
_CUSTOM_FIELDS = frozenset(("id", "at", "type"))


def _activities(entries: list[Any], max_depth: int) -> list[Activity]:
    """Each entry read by the reader of its type, after what every activity has: an object
    with an `id` and a moment `at`, and no field the models ignore nested too deeply. One loop
    over the entries, as this is the hot path of reading a snapshot."""
    activity: list[Activity] = []
    append = activity.append
    for value in entries:
        if type(value) is not dict:
            raise DeclinedError
        kind = value.get("type")
        if not isinstance(kind, str):
            raise DeclinedError
        found = _KINDS.get(kind)
        if found is None:
            if not _CUSTOM_TYPE.fullmatch(kind):
                raise DeclinedError
            found = _CUSTOM_KIND
        reader, known = found
        if not value.keys() <= known:  # rare: fields the models ignore (or keep, for events)
            _only(value, known, max_depth)
        activity_id = value.get("id")
        if type(activity_id) is not str or not activity_id:
            raise DeclinedError
        append(reader(value, kind, activity_id, _timestamp(value.get("at"))))
    return activity


def _only(value: dict[str, Any], known: frozenset[str], max_depth: int) -> None:
    """Fields the models ignore still count toward the depth limit."""
    for key, extra in value.items():
        if key not in known:
            _ignored(extra, 3, max_depth)


def _order(value: dict[str, Any], kind: str, order_id: str, at: datetime) -> Order:
    get = value.get
    subtotal = _money(get("subtotal"))
    refunded_at = get("refunded_at")
    if refunded_at is not None:
        refunded_at = _timestamp(refunded_at)
    refunded_amount = get("refunded_amount")
    if refunded_amount is not None:
        refunded_amount = _money(refunded_amount)
    total = get("total")
    if total is not None:
        total = _money(total)
    channel = get("channel")
    subscription_id = get("subscription_id")
    if (channel is not None and type(channel) is not str) or (
        subscription_id is not None and type(subscription_id) is not str
    ):
        raise DeclinedError
    items = get("items", _ABSENT)
    if items is _ABSENT:
        items = []
    elif type(items) is list:
        items = [_item(item) for item in items]
    else:
        raise DeclinedError
    codes = get("discount_codes", _ABSENT)
    codes = [] if codes is _ABSENT else _texts(codes)
    record = {
        "id": order_id,
        "at": at,
        "type": kind,
        "subtotal": subtotal,
        "total": total,
        "channel": channel,
        "items": items,
        "discount_codes": codes,
        "refunded_at": refunded_at,
        "refunded_amount": refunded_amount,
        "subscription_id": subscription_id,
    }
    return Order(
        order_id, at, kind, subtotal, channel, refunded_at, refunded_amount, subscription_id, record
    )


def _review(value: dict[str, Any], kind: str, review_id: str, at: datetime) -> Review:
    get = value.get
    record = {
        "id": review_id,
        "at": at,
        "type": kind,
        "rating": _whole(get("rating"), 1, 5),
        "product_id": _optional_text(get("product_id")),
        "has_photo": _flag(get("has_photo", False)),
        "verified": _optional_flag(get("verified")),
    }
    return Review(review_id, at, kind, record)


def _referral(value: dict[str, Any], kind: str, referral_id: str, at: datetime) -> Referral:
    return Referral(referral_id, at, kind, _optional_timestamp(value.get("converted_at")))


def _billing(value: dict[str, Any], kind: str, billing_id: str, at: datetime) -> Billing:
    return Billing(
        billing_id,
        at,
        kind,
        _id(value.get("subscription_id")),
        _optional_text(value.get("order_id")),
    )


def _points(value: dict[str, Any], kind: str, entry_id: str, at: datetime) -> PointsEntry:
    return PointsEntry(entry_id, at, kind, _whole(value.get("points"), -MAX_POINTS, MAX_POINTS))


def _adjustment(value: dict[str, Any], kind: str, entry_id: str, at: datetime) -> Adjustment:
    get = value.get
    return Adjustment(
        entry_id,
        at,
        kind,
        _whole(get("points"), -MAX_POINTS, MAX_POINTS),
        _flag(get("affects_tier", False)),
        _optional_text(get("note")),
        _optional_text(get("message")),
    )


def _redemption(value: dict[str, Any], kind: str, entry_id: str, at: datetime) -> Redemption:
    get = value.get
    return Redemption(
        entry_id,
        at,
        kind,
        _id(get("program")),
        _whole(get("points"), 1, MAX_POINTS),
        _id(get("coupon")),
        _optional_timestamp(get("revoked_at")),
        _optional_timestamp(get("used_at")),
    )


def _tier_change(value: dict[str, Any], kind: str, entry_id: str, at: datetime) -> TierSet:
    tier = _id(value.get("tier"))
    points = value.get("tier_points")
    return TierSet(entry_id, at, kind, tier, None if points is None else _money(points))


def _tier_recalculation(
    value: dict[str, Any], kind: str, entry_id: str, at: datetime
) -> TierRecalculation:
    return TierRecalculation(entry_id, at, kind)


def _event(value: dict[str, Any], kind: str, event_id: str, at: datetime) -> Event:
    """A built-in event: its optional text fields, and any others it carries (kept)."""
    get = value.get
    record = _event_record(value, kind, event_id, at, _EVENT_FIELDS)
    record["platform"] = _optional_text(get("platform"))
    record["url"] = _optional_text(get("url"))
    record["survey_id"] = _optional_text(get("survey_id"))
    return Event(event_id, at, kind, record)


def _custom_event(value: dict[str, Any], kind: str, event_id: str, at: datetime) -> Event:
    """A `custom:<name>` event: its declared fields are typed later, by the ruleset."""
    return Event(event_id, at, kind, _event_record(value, kind, event_id, at, _CUSTOM_FIELDS))


def _event_record(
    value: dict[str, Any], kind: str, event_id: str, at: datetime, known: frozenset[str]
) -> dict[str, Any]:
    record: dict[str, Any] = {"id": event_id, "at": at, "type": kind}
    for key, extra in value.items():
        if key not in known:
            record[key] = extra  # events keep the fields they carry
    return record


Reader = Callable[[dict[str, Any], str, str, datetime], Activity]

# Each activity type's reader and the fields its model knows.
_KINDS: dict[str, tuple[Reader, frozenset[str]]] = {
    "order": (_order, _ORDER_FIELDS),
    "review": (_review, _REVIEW_FIELDS),
    "referral": (_referral, _REFERRAL_FIELDS),
    "subscription_billing": (_billing, _BILLING_FIELDS),
    "points_earned": (_points, _POINTS_FIELDS),
    "adjustment": (_adjustment, _ADJUSTMENT_FIELDS),
    "redemption": (_redemption, _REDEMPTION_FIELDS),
    "tier_change": (_tier_change, _TIER_CHANGE_FIELDS),
    "tier_recalculation": (_tier_recalculation, _TIER_RECALCULATION_FIELDS),
    **{kind: (_event, _EVENT_FIELDS) for kind in EVENT_TYPES},
}
_CUSTOM_KIND: tuple[Reader, frozenset[str]] = (_custom_event, _CUSTOM_FIELDS)


def _item(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise DeclinedError
    if not value.keys() <= _ITEM_FIELDS:
        for key, extra in value.items():
            if key not in _ITEM_FIELDS and isinstance(extra, dict | list | tuple):
                raise DeclinedError  # the models' path checks how deep it goes
    get = value.get
    return {
        "product_id": _text(get("product_id")),
        "variant_id": _optional_text(get("variant_id")),
        "sku": _optional_text(get("sku")),
        "title": _optional_text(get("title")),
        "vendor": _optional_text(get("vendor")),
        "product_type": _optional_text(get("product_type")),
        "quantity": _whole(get("quantity", 1), 0),
        "price": _money(get("price")),
        "tags": _texts(get("tags", [])),
    }
