"""The customer snapshot (input contract): JSON-like data -> a validated, typed `Snapshot`.

The structure is a pydantic model (the source of `schemas/snapshot.schema.json`); the
ruleset's typed `attributes` and custom `events` are checked on top of it. Every problem is
reported with its JSON path (`$.activity[3].at`) and a stable code; nothing is guessed.
Activity dated after `now` is left out when the engine evaluates, not here.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

import pydantic
from pydantic import AwareDatetime, BaseModel, ConfigDict, Discriminator, Field, Tag

from ruleengine.coerce import CoercionError, JsonPath, coerce, format_path
from ruleengine.expr.types import RecordType, parse_type_name
from ruleengine.limits import DEFAULT_LIMITS, Limits, json_depth

Money = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]


class _In(BaseModel):
    # Hosts send what their platform has; fields we do not know are ignored, not errors.
    model_config = ConfigDict(extra="ignore", frozen=True)


class CustomerIn(_In):
    model_config = ConfigDict(extra="allow", frozen=True)  # extra fields: the ruleset's attributes

    id: Annotated[str, Field(min_length=1)]
    email: str | None = None
    tags: list[str] = Field(default_factory=list)
    tier: str | None = None
    excluded: bool = False
    birthday: date | None = None
    birthday_set_at: AwareDatetime | None = Field(
        None, description="When the customer last set their birthday (birthday abuse guard)."
    )
    created_at: AwareDatetime | None = None


class ItemIn(_In):
    product_id: str
    variant_id: str | None = None
    sku: str | None = None
    title: str | None = None
    vendor: str | None = None
    product_type: str | None = None
    quantity: Annotated[int, Field(ge=0)] = 1
    price: Money
    tags: list[str] = Field(default_factory=list)


class _ActivityIn(_In):
    id: Annotated[str, Field(min_length=1)]
    at: AwareDatetime


class OrderIn(_ActivityIn):
    type: Literal["order"]
    subtotal: Money
    total: Money | None = None
    channel: str | None = None
    items: list[ItemIn] = Field(default_factory=list)
    discount_codes: list[str] = Field(default_factory=list)
    refunded_at: AwareDatetime | None = None
    refunded_amount: Money | None = Field(
        None, description="Amount refunded; absent with `refunded_at` means a full refund."
    )
    subscription_id: str | None = None


class ReviewIn(_ActivityIn):
    type: Literal["review"]
    rating: Annotated[int, Field(ge=1, le=5)]
    product_id: str | None = None
    has_photo: bool = False
    verified: bool | None = None


class ReferralIn(_ActivityIn):
    type: Literal["referral"]
    converted_at: AwareDatetime | None = Field(
        None, description="When the referred friend first bought; a referral counts from then."
    )


class SubscriptionBillingIn(_ActivityIn):
    type: Literal["subscription_billing"]
    subscription_id: Annotated[str, Field(min_length=1)]


class PointsEarnedIn(_ActivityIn):
    type: Literal["points_earned"]
    points: int


class EventIn(_ActivityIn):
    """Actions without a record of their own: signup, newsletter signup, follows, visits..."""

    model_config = ConfigDict(extra="allow", frozen=True)
    type: Literal["signup", "newsletter_signup", "social_follow", "website_visit", "survey"]
    platform: str | None = None
    url: str | None = None
    survey_id: str | None = None


class CustomEventIn(_ActivityIn):
    """A host-defined event (`custom:<name>`); its fields are declared in the ruleset."""

    model_config = ConfigDict(extra="allow", frozen=True)
    type: Annotated[str, Field(pattern=r"^custom:[a-z_][a-z0-9_]{0,63}$")]


EVENT_TYPES = ("signup", "newsletter_signup", "social_follow", "website_visit", "survey")
ACTIVITY_TYPES = (
    "order",
    "review",
    "referral",
    "subscription_billing",
    "points_earned",
    *EVENT_TYPES,
    "custom:<name>",
)


def _activity_tag(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, Mapping) else getattr(value, "type", None)
    if not isinstance(kind, str):
        return None
    if kind.startswith("custom:"):
        return "custom"
    if kind in EVENT_TYPES:
        return "event"
    return kind if kind in ACTIVITY_TYPES else None


Activity = Annotated[
    Annotated[OrderIn, Tag("order")]
    | Annotated[ReviewIn, Tag("review")]
    | Annotated[ReferralIn, Tag("referral")]
    | Annotated[SubscriptionBillingIn, Tag("subscription_billing")]
    | Annotated[PointsEarnedIn, Tag("points_earned")]
    | Annotated[EventIn, Tag("event")]
    | Annotated[CustomEventIn, Tag("custom")],
    Discriminator(
        _activity_tag,
        custom_error_type="unknown_activity_type",
        custom_error_message="unknown activity type",
    ),
]


class SnapshotIn(_In):
    """A customer snapshot: the customer, their activity, and the decisions already granted."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="ruleengine customer snapshot",
        json_schema_extra={"$id": "https://ruleengine.dev/schemas/snapshot.schema.json"},
    )

    customer: CustomerIn
    activity: list[Activity] = Field(default_factory=list)
    granted: list[str] = Field(
        default_factory=list, description="Decision keys the host has already carried out."
    )


# -- reading --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SnapshotProblem:
    """One thing wrong with a snapshot, at a JSON path."""

    code: str
    path: str
    message: str
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "path": self.path, "message": self.message, "hint": self.hint}


class SnapshotError(ValueError):
    """A snapshot that does not fit the contract; carries every problem found."""

    def __init__(self, problems: Sequence[SnapshotProblem], name: str = "<snapshot>") -> None:
        self.problems = list(problems)
        self.name = name
        first = self.problems[0]
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{name}: {first.path}: {first.code} {first.message}{more}")


@dataclass(frozen=True)
class Snapshot:
    """A validated snapshot: typed activity, and the customer as the record rules see."""

    model: SnapshotIn
    customer: dict[str, Any]  # the `customer` record, attributes included, runtime-typed
    events: dict[tuple[str, str], dict[str, Any]]  # (type, id) -> custom event fields

    @property
    def customer_id(self) -> str:
        return self.model.customer.id

    @property
    def activity(self) -> list[Any]:
        return self.model.activity

    @property
    def granted(self) -> frozenset[str]:
        return frozenset(self.model.granted)


def read_snapshot(
    data: Any,
    *,
    customer_type: RecordType,
    events: Mapping[str, Mapping[str, str]],
    name: str = "<snapshot>",
    limits: Limits = DEFAULT_LIMITS,
) -> Snapshot:
    """Validate JSON-like `data` against the snapshot contract and the ruleset's types.

    Raises `SnapshotError` with every problem found. `customer_type` is the ruleset's
    `customer` record (attributes included); `events` its declared custom event fields.
    Sizes are checked first (`limits`), before any work proportional to them.
    """
    too_large = _size_problem(data, limits)
    if too_large is not None:
        raise SnapshotError([too_large], name)
    try:
        model = SnapshotIn.model_validate(data)
    except pydantic.ValidationError as error:
        raise SnapshotError([_problem(e) for e in error.errors(include_url=False)], name) from None
    problems: list[SnapshotProblem] = []
    customer: dict[str, Any] = {}
    try:
        customer = _customer_record(model.customer, customer_type)
    except CoercionError as error:
        problems.append(_coercion_problem(error))
    custom: dict[tuple[str, str], dict[str, Any]] = {}
    seen: dict[tuple[str, str], int] = {}
    for index, activity in enumerate(model.activity):
        key = (activity.type, activity.id)
        if key in seen:
            problems.append(
                SnapshotProblem(
                    "RE612",
                    format_path(("activity", index, "id")),
                    f"duplicate {activity.type} id `{activity.id}`",
                    f"the same id is used at {format_path(('activity', seen[key]))}",
                )
            )
        else:
            seen[key] = index
        if isinstance(activity, CustomEventIn):
            try:
                custom[key] = _event_fields(activity, events, ("activity", index))
            except CoercionError as error:
                problems.append(_coercion_problem(error))
    if problems:
        raise SnapshotError(problems, name)
    return Snapshot(model, customer, custom)


def _size_problem(data: Any, limits: Limits) -> SnapshotProblem | None:
    depth = json_depth(data, limits.max_json_depth)
    if depth > limits.max_json_depth:
        return SnapshotProblem(
            "RE614", "$", f"the snapshot is nested more than {limits.max_json_depth} levels deep"
        )
    activity = data.get("activity") if isinstance(data, Mapping) else None
    if isinstance(activity, list) and len(activity) > limits.max_activity:
        return SnapshotProblem(
            "RE614",
            "$.activity",
            f"{len(activity):,} activity entries; at most {limits.max_activity:,} are allowed",
            "send only the activity the rules need, or raise `Limits.max_activity`",
        )
    return None


def _customer_record(customer: CustomerIn, customer_type: RecordType) -> dict[str, Any]:
    raw = customer.model_dump()
    raw.update(customer.model_extra or {})
    return _record(raw, customer_type, ("customer",))


def _record(raw: Mapping[str, Any], record_type: RecordType, path: JsonPath) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for field_name, field_type in record_type.fields:
        value = raw.get(field_name)
        if value is None and field_name not in raw and not _is_optional_text(field_type):
            raise CoercionError(
                (*path, field_name), f"missing field `{field_name}` (`{field_type}`)"
            )
        result[field_name] = coerce(value, field_type, (*path, field_name))
    return result


def _is_optional_text(t: Any) -> bool:
    return str(t).endswith("?") or str(t).startswith("list[")


def _event_fields(
    activity: CustomEventIn, events: Mapping[str, Mapping[str, str]], path: JsonPath
) -> dict[str, Any]:
    declared = events.get(activity.type.removeprefix("custom:"), {})
    raw = activity.model_extra or {}
    fields = tuple((name, parse_type_name(text)) for name, text in declared.items())
    return _record(raw, RecordType("event", fields), path)


def _coercion_problem(error: CoercionError) -> SnapshotProblem:
    return SnapshotProblem("RE610", format_path(error.path), error.message)


def _problem(error: Any) -> SnapshotProblem:
    loc = list(error["loc"])
    # Drop the union member tag pydantic puts after an activity's index.
    if (
        len(loc) > 2
        and loc[0] == "activity"
        and isinstance(loc[1], int)
        and loc[2]
        in (
            "order",
            "review",
            "referral",
            "subscription_billing",
            "points_earned",
            "event",
            "custom",
        )
    ):
        del loc[2]
    path = format_path(tuple(loc))
    kind = error["type"]
    value = error.get("input")
    if kind == "unknown_activity_type":
        kind_value = value.get("type") if isinstance(value, Mapping) else None
        names = [t for t in ACTIVITY_TYPES if not t.startswith("custom")]
        close = difflib.get_close_matches(str(kind_value), names, n=1)
        hint = (
            f"did you mean `{close[0]}`?"
            if close
            else "activity types: " + ", ".join(f"`{t}`" for t in ACTIVITY_TYPES)
        )
        return SnapshotProblem(
            "RE613", format_path((*loc, "type")), f"unknown activity type `{kind_value}`", hint
        )
    if kind == "missing":
        return SnapshotProblem("RE610", path, f"missing field `{loc[-1]}`")
    if kind == "extra_forbidden":
        return SnapshotProblem(
            "RE610",
            path,
            f"unknown field `{loc[-1]}`",
            "a snapshot has `customer`, `activity` and `granted`",
        )
    if kind == "timezone_aware":
        return SnapshotProblem(
            "RE610",
            path,
            f"`{value}` has no time zone offset",
            "write timestamps as `2026-02-01T12:00:00Z` or with `+01:00`",
        )
    message = str(error["msg"])
    message = message[:1].lower() + message[1:]
    return SnapshotProblem("RE610", path, message)
