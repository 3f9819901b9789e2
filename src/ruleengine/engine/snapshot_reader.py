"""The snapshot reader: JSON text or a host's mapping -> the engine's activity objects, by msgspec.

One reader for both forms. JSON text is decoded by `msgspec.json.decode` straight into the
activity structs of `ruleengine.engine.activity` (a union tagged by `type`); a mapping is
converted into the same structs by `msgspec.convert`, one entry at a time. msgspec checks the
shape and types in C, the structs' `__post_init__` what a type cannot say (amounts,
years, UTC), and the reader adds what is not a struct: the customer's own attributes, events
and their fields (a host's `custom:<name>` types are open-ended, so events are not tags), and
the depth limit on values the contract passes through. Numbers stay exact: amounts are
`Decimal`s from the digits of the text, any other JSON number with a fraction too.

The reader never words a problem. Anything it does not accept raises `RefusedError`, and
`ruleengine.engine.snapshot` validates the snapshot with the pydantic models
(`snapshot_models`), which word every problem (RE6xx) as they always have. The models also
accept a few lenient forms the structs refuse (`"5"` for a rating, a float where an integer
goes, a field the contract ignores): then the reader reads the models' validated data
instead, so the objects are still made here, and only here.

What msgspec reads differently from the models is refused before it is decoded (`suspect`):
a timestamp with more than six fractional digits (msgspec rounds the microsecond, the models
cut it) and an escaped half of a surrogate pair (RE610). `tests/unit/engine/test_snapshot_reader.py`
compares this reader with the models on the corpora and on generated and mutated snapshots.
"""

from __future__ import annotations

import re
from collections.abc import Container
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec

from ruleengine.engine.activity import (
    EVENT_TYPES,
    Activity,
    Adjustment,
    Aware,
    Billing,
    Event,
    Id,
    Order,
    PointsEntry,
    Redemption,
    Referral,
    Review,
    TierRecalculation,
    TierSet,
    moment,
    optional_moment,
)
from ruleengine.engine.snapshot_reading import skippable
from ruleengine.limits import AMOUNT_DIGITS, json_depth

# The deepest the fixed structure goes (snapshot, activity, an order, items, an item, its
# tags, a tag); below that limit every snapshot takes the models' path and their depth check.
STRUCTURE_DEPTH = 7

_CUSTOM_TYPE = re.compile(r"custom:[a-z_][a-z0-9_]{0,63}")
# Text msgspec would read differently from the models: a second with more than six fractional
# digits (or an amount with as many: rare, and read the thorough way too), and an escaped half
# of a surrogate pair. Two searches, each starting at a literal: one pattern with both
# alternatives costs ten times as much.
_LONG_FRACTION = re.compile(rb"\.\d{7}")
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
# Number text `Decimal` reads but JSON does not write (`"1_000"`, `"١٢٣"`): the models refuse
# it (RE610). An underscore between ASCII digits anywhere (an id like `2024_01` only takes
# the thorough path), and, in text that is not ASCII, a digit other than 0-9.
_UNDERSCORED = re.compile(rb"_(?<=[0-9]_)[0-9]")  # `_` first: a literal is searched ~10x faster
_FOREIGN_DIGIT = re.compile(r"(?![0-9])\d")
_ESCAPE = re.compile(rb"\\u([0-9a-fA-F]{4})")  # `\u0661`: ASCII-only JSON escapes a digit
_LONG = 10**AMOUNT_DIGITS  # an integer this large has more digits than JSON text may give

Customer = dict[str, Any]
Read = tuple[Customer, list[Activity], list[str]]


class RefusedError(Exception):
    """The reader does not accept this snapshot: the models say why (or read it leniently)."""


# -- the structs only the reader needs --------------------------------------------------------


class _Customer(msgspec.Struct, gc=False):
    """The customer's built-in fields; the rest of the mapping is the ruleset's attributes."""

    id: Id
    email: str | None = None
    tags: list[str] = []
    tier: str | None = None
    excluded: bool = False
    birthday: date | None = None
    birthday_set_at: Aware | None = None
    created_at: Aware | None = None

    def __post_init__(self) -> None:
        self.birthday_set_at = optional_moment(self.birthday_set_at)
        self.created_at = optional_moment(self.created_at)


class _EventFields(msgspec.Struct, gc=False):
    """What every event has, and a built-in event's optional text; other fields are kept."""

    id: Id
    at: Aware
    platform: str | None = None
    url: str | None = None
    survey_id: str | None = None

    def __post_init__(self) -> None:
        self.at = moment(self.at)


class _CustomFields(msgspec.Struct, gc=False):
    id: Id
    at: Aware

    def __post_init__(self) -> None:
        self.at = moment(self.at)


class _BuiltInEvent(Activity):
    """A built-in event without fields of its own, as JSON text gives it (made an `Event`)."""

    platform: str | None = None
    url: str | None = None
    survey_id: str | None = None


class _Signup(_BuiltInEvent, tag_field="type", tag="signup"):
    type = "signup"


class _NewsletterSignup(_BuiltInEvent, tag_field="type", tag="newsletter_signup"):
    type = "newsletter_signup"


class _SocialFollow(_BuiltInEvent, tag_field="type", tag="social_follow"):
    type = "social_follow"


class _WebsiteVisit(_BuiltInEvent, tag_field="type", tag="website_visit"):
    type = "website_visit"


class _Survey(_BuiltInEvent, tag_field="type", tag="survey"):
    type = "survey"


_BUILT_IN = (_Signup, _NewsletterSignup, _SocialFollow, _WebsiteVisit, _Survey)
_BUILT_IN_TYPES = frozenset(_BUILT_IN)
assert tuple(cls.type for cls in _BUILT_IN) == EVENT_TYPES


class _Text(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A snapshot as JSON text usually has it: each activity a struct, decoded in one call."""

    customer: dict[str, Any]
    activity: list[
        Order
        | Review
        | Referral
        | Billing
        | PointsEntry
        | Adjustment
        | Redemption
        | TierSet
        | TierRecalculation
        | _Signup
        | _NewsletterSignup
        | _SocialFollow
        | _WebsiteVisit
        | _Survey
    ] = []
    granted: list[str] = []


class _TextIn(_Text, forbid_unknown_fields=True, gc=False):
    """`_Text` as decoded from JSON text: the customer is left as its text (`msgspec.Raw`,
    a slice of it), so fields nobody declared are skipped, not built (`snapshot_reading`)."""

    customer: msgspec.Raw  # type: ignore[assignment]  # the text of `_Text.customer`


# Numbers with a fraction or an exponent outside the structs (the customer's attributes)
# become the `Decimal` of their digits, as `snapshot_json.loads_exact` reads them.
_TEXT = msgspec.json.Decoder(_TextIn, float_hook=Decimal)
_VALUE = msgspec.json.Decoder(float_hook=Decimal)
_FIELDS = msgspec.json.Decoder(dict[str, msgspec.Raw])

# The activity types that are structs, for a mapping's entries.
_FIXED: dict[str, type[Activity]] = {
    cls.type: cls
    for cls in (
        Order,
        Review,
        Referral,
        Billing,
        PointsEntry,
        Adjustment,
        Redemption,
        TierSet,
        TierRecalculation,
    )
}
# The text besides `id` the engine keys on (coupon codes, program ids, subscriptions): like an
# id, never blank (the models' `Ident`); the structs only say "not empty", or not even that.
_KEYED: dict[type[Activity], tuple[str, ...]] = {
    Order: ("subscription_id",),
    Billing: ("subscription_id", "order_id"),
    Redemption: ("program", "coupon"),
    TierSet: ("tier",),
}
_CUSTOMER_FIELDS = frozenset(_Customer.__struct_fields__)
_EVENT_FIELDS = frozenset(("type", *_EventFields.__struct_fields__))
_CUSTOM_FIELDS = frozenset(("type", *_CustomFields.__struct_fields__))


# -- reading ------------------------------------------------------------------------------------


def suspect(text: str | bytes) -> bool:
    """Whether JSON `text` holds what msgspec reads differently from the models (then the
    text is read by `snapshot_json.loads_exact` and `read_data`, or by the models)."""
    if isinstance(text, str):
        if not text.isascii() and _FOREIGN_DIGIT.search(text) is not None:
            return True
        try:
            text = text.encode()
        except UnicodeEncodeError:  # a lone surrogate itself, not escaped
            return True
    elif not text.isascii() and _FOREIGN_DIGIT.search(text.decode(errors="replace")):
        return True
    return (
        _LONG_FRACTION.search(text) is not None
        or _ESCAPED_SURROGATE.search(text) is not None
        or _UNDERSCORED.search(text) is not None
        or _escapes_digit(text)
    )


def _escapes_digit(text: bytes) -> bool:
    """Whether JSON `text` escapes a digit other than 0-9 (`\u0661`)."""
    return any(
        chr(int(found.group(1), 16)).isdecimal() and int(found.group(1), 16) > 0x7F
        for found in _ESCAPE.finditer(text)
    )


def read_text(
    text: str | bytes, max_depth: int, max_activity: int, read: Container[str] = ()
) -> Read:
    """The customer, activity and granted keys of snapshot JSON `text`, decoded in one call;
    `RefusedError` for anything else, including what a mapping's reader could still accept
    (a custom event, an event's own fields): the caller then reads the text as data. Of the
    customer's fields, only the built-in ones and those in `read` (the ruleset's attributes)
    are read; the others are skipped unread when `snapshot_reading.skippable`."""
    if max_depth < STRUCTURE_DEPTH or suspect(text):
        raise RefusedError
    try:
        snapshot = _TEXT.decode(text)
        customer = _customer_text(snapshot.customer, read, max_depth)
    except (msgspec.MsgspecError, RecursionError, ArithmeticError):  # read again, and worded
        raise RefusedError from None
    if len(snapshot.activity) > max_activity:
        raise RefusedError  # the models' path words it (RE614), after the depth
    fields, activity = _decoded(customer, snapshot, max_depth, text=True)
    return fields, activity, snapshot.granted


def _customer_text(text: msgspec.Raw, read: Container[str], max_depth: int) -> dict[str, Any]:
    """The customer's fields that are read, decoded from its text; a field nobody declared is
    skipped, or refused when it fails a check the data path makes (`skippable`)."""
    customer: dict[str, Any] = {}
    for key, value in _FIELDS.decode(text).items():
        if key in _CUSTOMER_FIELDS or key in read:
            customer[key] = _VALUE.decode(value)
        elif not skippable(bytes(value), max_depth):
            raise RefusedError  # read whole: the models word the problem
    return customer


def _decoded(
    raw: dict[str, Any], snapshot: _Text, max_depth: int, text: bool
) -> tuple[Customer, list[Activity]]:
    """The customer and activity of a decoded snapshot, its built-in events made `Event`s;
    from `text`, no integer longer than JSON text may give (`loads_exact` words it)."""
    try:
        customer = _customer(raw, max_depth)
    except msgspec.ValidationError:
        raise RefusedError from None
    if text:
        for value in raw.values():  # within the depth limit now
            if type(value) is not str and _holds_long_integer(value):
                raise RefusedError  # RE614 with its line and column
    activity: list[Activity] = snapshot.activity  # type: ignore[assignment]  # events below
    built_in = _BUILT_IN_TYPES
    keyed = _KEYED
    for index, entry in enumerate(activity):
        if entry.id.isspace():
            raise RefusedError  # a blank id: the models word it
        kind = type(entry)
        if kind is Order:  # the common kind: its one keyed text checked here, without a call
            renewal = entry.subscription_id  # type: ignore[attr-defined]  # an Order
            if renewal is not None and (not renewal or renewal.isspace()):
                raise RefusedError  # a blank subscription id: the models word it
            if text:
                for item in entry.items:  # type: ignore[attr-defined]  # an Order
                    if item.quantity >= _LONG:
                        raise RefusedError  # RE614, as for any long integer
        elif kind in built_in:  # a type test: `isinstance` on structs costs ~10x more
            activity[index] = _event_of(entry)  # type: ignore[arg-type]  # a built-in event
        elif kind in keyed and _blank_key(entry):
            raise RefusedError  # a blank coupon code, program id, ...: the models word it
    return customer, activity


def read_data(data: Any, max_depth: int) -> Read:
    """The customer, activity and granted keys of JSON-like `data` (a host's mapping, or the
    data of text the decoder left to it); `RefusedError` for anything it does not accept."""
    if type(data) is not dict or max_depth < STRUCTURE_DEPTH:
        raise RefusedError
    for key in data:
        if key != "customer" and key != "activity" and key != "granted":
            raise RefusedError
    entries = data.get("activity", [])
    granted = data.get("granted", [])
    if type(entries) is not list or type(granted) is not list:
        raise RefusedError
    if type(data.get("customer")) is dict:
        try:  # most snapshots: converted in one call, as text is decoded
            snapshot = msgspec.convert(data, _Text)
        except msgspec.ValidationError:
            pass  # a custom event, an event's own fields, or a problem: entry by entry
        else:
            customer = snapshot.customer
            return (*_decoded(customer, snapshot, max_depth, text=False), snapshot.granted)
    try:
        customer = _customer(data.get("customer"), max_depth)
        activity = [_entry(value, max_depth) for value in entries]
        granted = msgspec.convert(granted, list[str])
    except msgspec.ValidationError:
        raise RefusedError from None
    return customer, activity, granted


def _customer(value: Any, max_depth: int) -> Customer:
    """The customer: the built-in fields checked, the others (the ruleset's attributes) as they
    are, converted by their declared types later."""
    if type(value) is not dict:
        raise RefusedError
    fields = msgspec.convert(value, _Customer)
    if fields.id.isspace():
        raise RefusedError  # a blank id: the models word it
    customer: Customer = {
        "id": fields.id,
        "email": fields.email,
        "tags": fields.tags,
        "tier": fields.tier,
        "excluded": fields.excluded,
        "birthday": fields.birthday,
        "birthday_set_at": fields.birthday_set_at,
        "created_at": fields.created_at,
    }
    for key, extra in value.items():
        if key not in _CUSTOMER_FIELDS:
            _within_depth(extra, 2, max_depth)
            customer[key] = extra
    return customer


def _entry(value: Any, max_depth: int) -> Activity:
    if type(value) is not dict:
        raise RefusedError
    kind = value.get("type")
    if type(kind) is not str:
        raise RefusedError
    fixed = _FIXED.get(kind)
    if fixed is not None:
        entry = msgspec.convert(value, fixed)
        if entry.id.isspace() or (fixed in _KEYED and _blank_key(entry)):
            raise RefusedError  # a blank id: the models word it
        return entry
    if kind in EVENT_TYPES:
        fields = msgspec.convert(value, _EventFields)
        record = {
            "id": fields.id,
            "at": fields.at,
            "type": kind,
            "platform": fields.platform,
            "url": fields.url,
            "survey_id": fields.survey_id,
        }
        return _event(value, fields.id, fields.at, kind, record, _EVENT_FIELDS, max_depth)
    if _CUSTOM_TYPE.fullmatch(kind):
        custom = msgspec.convert(value, _CustomFields)
        record = {"id": custom.id, "at": custom.at, "type": kind}
        return _event(value, custom.id, custom.at, kind, record, _CUSTOM_FIELDS, max_depth)
    raise RefusedError  # the models name the unknown type (RE613)


def _blank_key(entry: Activity) -> bool:
    """Whether the activity has empty or whitespace-only text where the engine keys on it."""
    for name in _KEYED[type(entry)]:
        text = getattr(entry, name)
        if text is not None and (not text or text.isspace()):
            return True
    return False


def _event(
    value: dict[str, Any],
    event_id: str,
    at: datetime,
    kind: str,
    record: dict[str, Any],
    known: frozenset[str],
    max_depth: int,
) -> Event:
    """An event keeps every field it carries: a custom event's declared fields are typed by
    the ruleset later."""
    if event_id.isspace():
        raise RefusedError  # a blank id: the models word it
    for key, extra in value.items():
        if key not in known:
            _within_depth(extra, 3, max_depth)
            record[key] = extra
    return Event(event_id, at, kind, record)


def _event_of(entry: _BuiltInEvent) -> Event:
    record = {
        "id": entry.id,
        "at": entry.at,
        "type": entry.type,
        "platform": entry.platform,
        "url": entry.url,
        "survey_id": entry.survey_id,
    }
    return Event(entry.id, entry.at, entry.type, record)


def _within_depth(value: Any, container_depth: int, max_depth: int) -> None:
    """A value the contract passes through must still respect the depth limit."""
    deep = isinstance(value, dict | list | tuple)
    if deep and container_depth + json_depth(value, max_depth) > max_depth:
        raise RefusedError


def _holds_long_integer(value: Any) -> bool:
    kind = type(value)
    if kind is int:
        return bool(value >= _LONG or value <= -_LONG)
    if kind is dict:
        return any(_holds_long_integer(item) for item in value.values())
    if kind is list:
        return any(_holds_long_integer(item) for item in value)
    return False
