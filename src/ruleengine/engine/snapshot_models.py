"""The snapshot's input models: the pydantic description of the customer snapshot contract.

These models are the source of `schemas/snapshot.schema.json` and word every problem of a
snapshot the fast reader (`snapshot_reader`) declines; `snapshot` reads with them. Moved out
of `snapshot` to keep each module to one job (and under ~600 lines); `snapshot` re-exports
every name, so `from ruleengine.engine.snapshot import SnapshotIn` keeps working.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ruleengine.engine.activity import EVENT_TYPES
from ruleengine.expr.runtime import SUPPORTED_YEARS, is_supported
from ruleengine.limits import (
    AMOUNT_DIGITS,
    MAX_POINTS,
    foreign_number_message,
    foreign_number_text,
    is_bounded_decimal,
)


def _bounded(amount: Decimal) -> Decimal:
    if not is_bounded_decimal(amount):
        raise PydanticCustomError(
            "amount_range",
            f"`{amount:.6}` has more than {AMOUNT_DIGITS} digits before or after its point",
        )
    return amount


def _amount_input(value: Any) -> Any:
    # pydantic's own words: "decimal input should be an integer, float, string or Decimal object".
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise PydanticCustomError("decimal_type", "an amount must be a number or a decimal string")
    if isinstance(value, str) and foreign_number_text(value):  # beyond the schema's pattern
        raise PydanticCustomError("decimal_parsing", foreign_number_message(value))
    return value


def _whole_input(value: Any) -> Any:
    # pydantic's lax mode reads `true` as 1 (a 1-point coupon); the JSON Schema says integer.
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "a boolean is not a number: write a whole number")
    if isinstance(value, str) and foreign_number_text(value):  # pydantic reads `1_000`
        raise PydanticCustomError("int_parsing", foreign_number_message(value))
    return value


# Put after a whole number's constraints (points, a rating, a quantity), which the schema then
# keeps: not a boolean. `"5"` and `5.0` stay lenient.
NOT_BOOL = BeforeValidator(_whole_input)


def _flag_input(value: Any) -> Any:
    # pydantic's lax mode reads `1`, `"yes"` and `"on"` as true; the JSON Schema says boolean.
    if isinstance(value, bool):
        return value
    raise PydanticCustomError("bool_type", "a flag must be `true` or `false`")


Flag = Annotated[bool, BeforeValidator(_flag_input)]


# The decimal text an amount may be (the schema's own says only "string": `""` passed it);
# `pattern` constrains only text, so JSON numbers are as before.
_DECIMAL_TEXT = r"^\s*\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"

Money = Annotated[
    Decimal,
    Field(ge=0, allow_inf_nan=False, json_schema_extra={"pattern": _DECIMAL_TEXT}),
    AfterValidator(_bounded),
    BeforeValidator(_amount_input),
]


# pydantic would read a number, or text of one (`"1768066200"`), as a Unix time (a guess at
# its unit and zone): the JSON Schema says `date` / `date-time` text.
_NUMBER = re.compile(r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*")


def _iso_text(value: Any, kind: type) -> bool:
    """Whether `value` is a `kind` object, or text that is not a number."""
    return isinstance(value, kind) or (isinstance(value, str) and not _NUMBER.fullmatch(value))


def _day_input(value: Any) -> Any:
    if _iso_text(value, date):
        return value
    raise PydanticCustomError("date_type", "a date must be text like `1990-04-12`")


Day = Annotated[date, BeforeValidator(_day_input)]


def _supported(moment: datetime) -> datetime:
    if not is_supported(moment):
        raise PydanticCustomError(
            "timestamp_range", f"`{moment.isoformat()}` is outside {SUPPORTED_YEARS}"
        )
    return moment


def _not_blank(text: str) -> str:
    if text.isspace():
        raise PydanticCustomError("blank_id", "an id must not be blank (only whitespace)")
    return text


# An id: text with something visible in it (`" "` would make keys like `op/ ` that no output
# shows). The schema says so with `pattern`; the validator words it.
Ident = Annotated[
    str, Field(min_length=1, json_schema_extra={"pattern": r"\S"}), AfterValidator(_not_blank)
]


def _timestamp_input(value: Any) -> Any:
    # Not a number (pydantic would take `1768066200` for a Unix time, in UTC: a guess), nor
    # text of one; a Python host's aware `datetime` is taken as it is.
    if _iso_text(value, datetime):
        return value
    raise PydanticCustomError(
        "datetime_type",
        "a timestamp must be ISO 8601 text with a zone offset, like `2026-02-01T12:00:00Z`",
    )


# A timestamp given as text (or a host's `datetime`), with a zone offset.
Timestamp = Annotated[AwareDatetime, BeforeValidator(_timestamp_input)]

# A timestamp in the years the engine computes in (`expr.runtime.SUPPORTED_YEARS`).
Moment = Annotated[Timestamp, AfterValidator(_supported)]


def _not_an_object(what: str) -> PydanticCustomError:
    # pydantic's own words would name the model ("... instance of SnapshotIn").
    return PydanticCustomError("not_an_object", f"{what} must be a JSON object")


class _In(BaseModel):
    # Hosts send what their platform has; fields we do not know are ignored, not errors.
    # Validators are built on first use (config is inherited): well-formed snapshots are read
    # by the fast path and never need them, so a process that only evaluates skips ~45 ms.
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    what: ClassVar[str] = "an activity"  # what a problem calls a value that is not an object

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: Any) -> Any:
        if isinstance(data, Mapping | BaseModel):
            return data
        raise _not_an_object(cls.what)


def _activity_object(value: Any) -> Any:
    """An activity that is not an object has no type to name: say what it should be."""
    if isinstance(value, BaseModel) or (isinstance(value, Mapping) and "type" in value):
        return value
    if isinstance(value, Mapping):  # the discriminator would say "unknown activity type `None`"
        raise PydanticCustomError("missing_type", "an activity must have a `type`")
    raise _not_an_object("an activity")


class CustomerIn(_In):
    model_config = ConfigDict(extra="allow", frozen=True)  # extra fields: the ruleset's attributes
    what: ClassVar[str] = "the customer"

    id: Ident
    email: str | None = None
    tags: list[str] = Field(default_factory=list)
    tier: str | None = None
    excluded: Flag = False
    birthday: Day | None = None
    birthday_set_at: Moment | None = Field(
        None, description="When the customer last set their birthday (birthday abuse guard)."
    )
    created_at: Moment | None = None


class ItemIn(_In):
    what: ClassVar[str] = "an item"

    product_id: str
    variant_id: str | None = None
    sku: str | None = None
    title: str | None = None
    vendor: str | None = None
    product_type: str | None = None
    quantity: Annotated[int, Field(ge=0), NOT_BOOL] = 1
    price: Money
    tags: list[str] = Field(default_factory=list)


class _ActivityIn(_In):
    id: Ident
    at: Moment


class OrderIn(_ActivityIn):
    type: Literal["order"]
    subtotal: Money
    total: Money | None = None
    channel: str | None = None
    items: list[ItemIn] = Field(default_factory=list)
    discount_codes: list[str] = Field(default_factory=list)
    refunded_at: Moment | None = None
    refunded_amount: Money | None = Field(
        None,
        description="Total amount refunded for the order so far, at most its `subtotal` (or "
        "its `total`, when larger); absent with `refunded_at` means a full refund.",
    )
    subscription_id: Ident | None = None


class ReviewIn(_ActivityIn):
    type: Literal["review"]
    rating: Annotated[int, Field(ge=1, le=5), NOT_BOOL]
    product_id: str | None = None
    has_photo: Flag = False
    verified: Flag | None = None


class ReferralIn(_ActivityIn):
    type: Literal["referral"]
    converted_at: Moment | None = Field(
        None, description="When the referred friend first bought; a referral counts from then."
    )


class SubscriptionBillingIn(_ActivityIn):
    type: Literal["subscription_billing"]
    subscription_id: Ident
    order_id: Ident | None = Field(
        None,
        description="The order of this renewal, when the host also sends it as an `order` "
        "with `subscription_id`: the two are one billing cycle, counted once.",
    )


class PointsEarnedIn(_ActivityIn):
    type: Literal["points_earned"]
    points: Annotated[int, Field(ge=-MAX_POINTS, le=MAX_POINTS), NOT_BOOL]


class AdjustmentIn(_ActivityIn):
    """A manual correction of the customer's points by the merchant."""

    type: Literal["adjustment"]
    points: Annotated[
        int,
        Field(
            ge=-MAX_POINTS,
            le=MAX_POINTS,
            description="Whole points: positive adds, negative takes.",
        ),
        NOT_BOOL,
    ]
    affects_tier: Flag = False
    note: str | None = Field(None, description="Internal: why the merchant adjusted.")
    message: str | None = Field(None, description="Customer-facing message.")


class RedemptionIn(_ActivityIn):
    """Points the customer spent on a `redeeming` program, and the coupon they got."""

    type: Literal["redemption"]
    program: Annotated[Ident, Field(description="A `redeeming` program id.")]
    points: Annotated[int, Field(gt=0, le=MAX_POINTS, description="The points spent."), NOT_BOOL]
    coupon: Annotated[Ident, Field(description="The coupon code.")]
    revoked_at: Timestamp | None = Field(
        None, description="When the coupon was revoked (unused): its points return then."
    )
    used_at: Timestamp | None = None


class TierChangeIn(_ActivityIn):
    """The store set the customer's VIP tier by hand (needs a ruleset with `tiers`)."""

    type: Literal["tier_change"]
    tier: Annotated[Ident, Field(description="A level id of the ruleset's `tiers`.")]
    tier_points: Money | None = Field(
        None,
        description="The tier points from this moment (in the basis's unit; whole for points "
        "and orders); absent: they stay as they were. Later activity adds to them.",
    )


class TierRecalculationIn(_ActivityIn):
    """Recompute the tier from the history: drops every earlier `tier_change`."""

    type: Literal["tier_recalculation"]


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


ACTIVITY_TYPES = (
    "order",
    "review",
    "referral",
    "subscription_billing",
    "points_earned",
    "adjustment",
    "redemption",
    "tier_change",
    "tier_recalculation",
    *EVENT_TYPES,
    "custom:<name>",
)


# The tags of the activity union (`_activity_tag`): pydantic puts one after an activity's index
# in every error's location, which problems drop from their JSON paths.
ACTIVITY_TAGS = frozenset(
    [t for t in ACTIVITY_TYPES if t not in EVENT_TYPES and not t.startswith("custom")]
    + ["event", "custom"]
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


ActivityIn = Annotated[
    Annotated[OrderIn, Tag("order")]
    | Annotated[ReviewIn, Tag("review")]
    | Annotated[ReferralIn, Tag("referral")]
    | Annotated[SubscriptionBillingIn, Tag("subscription_billing")]
    | Annotated[PointsEarnedIn, Tag("points_earned")]
    | Annotated[AdjustmentIn, Tag("adjustment")]
    | Annotated[RedemptionIn, Tag("redemption")]
    | Annotated[TierChangeIn, Tag("tier_change")]
    | Annotated[TierRecalculationIn, Tag("tier_recalculation")]
    | Annotated[EventIn, Tag("event")]
    | Annotated[CustomEventIn, Tag("custom")],
    Discriminator(
        _activity_tag,
        custom_error_type="unknown_activity_type",
        custom_error_message="unknown activity type",
    ),
    BeforeValidator(_activity_object),
]


class SnapshotIn(_In):
    """A customer snapshot: the customer, their activity, and the decisions already granted."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="ruleengine customer snapshot",
        json_schema_extra={"$id": "https://ruleengine.dev/schemas/snapshot.schema.json"},
    )

    what: ClassVar[str] = "a snapshot"

    customer: CustomerIn
    activity: list[ActivityIn] = Field(default_factory=list)
    granted: list[str] = Field(
        default_factory=list, description="Decision keys the host has already carried out."
    )
