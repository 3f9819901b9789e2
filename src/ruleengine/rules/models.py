"""The rule file format (version 1) as models: the single source of its JSON Schema.

Models are frozen and forbid unknown keys. They check each value on its own (types, ranges,
choices); relations between values (unique ids, `pick` against the number of rewards, step
order) are checked by `semantics.py`, and expressions by the expression checker. Expression
fields hold the expression *text*; its location comes from the located YAML tree.

They are written as pydantic models are, on `structure_model.Model`: a valid file loads
without importing pydantic, whose models are built from these declarations when a file has
an error or the JSON Schema is exported (see `structure_model`). The annotations are
evaluated as the classes are made (no `from __future__ import annotations`): reading them
back as text would compile each one again in every process (~2 ms).
"""

import enum
import os
import re
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, ClassVar, Literal

from ruleengine.expr.runtime import DAY_TEXT, NOT_ZONES
from ruleengine.rules.structure_model import (
    AfterValidator,
    BeforeValidator,
    Field,
    Model,
    Strict,
    custom_error,
    model_validator,
)

RULE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
FIELD_NAME_PATTERN = r"^[a-z_][a-z0-9_]{0,63}$"


def _number_not_text(value: object) -> object:
    """Decimals are numbers in the file: text (`"10"`) and booleans are type errors, which
    pydantic's lax mode would convert. (Strict mode would refuse whole numbers, too.)"""
    if isinstance(value, str | bool):
        raise custom_error("decimal_type", "Decimal input should be a number")
    return value


def _not_a_flag(value: object) -> object:
    """A target is a number or a duration: `true` is neither (pydantic's lax union reads it as
    the whole number 1)."""
    if isinstance(value, bool):
        raise custom_error("decimal_type", "Input should be a number or a duration")
    return value


def _version_number(value: object) -> object:
    """`version` is the whole number 1: `true` and `1.0` equal 1 in Python, and pydantic's
    literal check would take them for it."""
    if type(value) is not int:
        raise custom_error("literal_error", "Input should be 1", {"expected": "1"})
    return value


def _date_from_text(value: object) -> object:
    """Dates are written as text (`2026-01-01`); a number is not read as a Unix timestamp,
    nor a date and time (`2026-01-01T00:00:00Z`, which pydantic takes for its day) as a day."""
    if isinstance(value, int | Decimal):
        raise custom_error("date_type", "Input should be a valid date")
    if isinstance(value, str) and not DAY_TEXT.fullmatch(value):
        raise custom_error("date_parsing", "Input should be a date written YYYY-MM-DD")
    return value


# Numbers, booleans and dates as the YAML loader reads them, without pydantic's lax coercion
# (`"3"` -> 3, `true` -> 1, `1` -> True).
WholeNumber = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]
Day = Annotated[date, BeforeValidator(_date_from_text)]

RuleId = Annotated[str, Field(pattern=RULE_ID_PATTERN, description="Unique id; names decisions.")]
FieldName = Annotated[str, Field(pattern=FIELD_NAME_PATTERN)]
# The number check goes after `Field`, so the JSON Schema keeps its number constraints.
Money = Annotated[
    Decimal,
    Field(gt=0, allow_inf_nan=False, description="An exact amount."),
    BeforeValidator(_number_not_text),
]
ExpressionText = Annotated[
    str | bool | int | Decimal,
    Field(description="An expression in the rule language (see docs/language.md)."),
]


class _Model(Model):
    model_config: ClassVar[dict[str, Any]] = {
        "extra": "forbid",
        "frozen": True,
        "populate_by_name": True,
    }


# -- values checked by pattern or table ------------------------------------------------------


BUILTIN_TRIGGERS: tuple[str, ...] = (
    "order",
    "signup",
    "newsletter_signup",
    "birthday",
    "review",
    "social_follow",
    "website_visit",
    "survey",
    "subscription_order",
    "referral",
    "referral_converted",
)
_CUSTOM_TRIGGER = re.compile(r"^custom:[a-z_][a-z0-9_]{0,63}$")


def _check_trigger(value: str) -> str:
    if value in BUILTIN_TRIGGERS or _CUSTOM_TRIGGER.match(value):
        return value
    raise custom_error("RE211", "unknown trigger `{trigger}`", {"trigger": value})


Trigger = Annotated[str, AfterValidator(_check_trigger)]


@cache
def available_timezones() -> frozenset[str]:
    """The IANA zone names this machine has, without `NOT_ZONES`."""
    import zoneinfo

    return frozenset(zoneinfo.available_timezones()) - NOT_ZONES


@cache
def _packaged_timezones() -> frozenset[str]:
    """The zones the `tzdata` package lists: the list `zoneinfo.available_timezones` starts
    from, so each of them is available. Reading it takes a fraction of a millisecond, where
    `available_timezones` opens every file below the system's zone folders (~25 ms)."""
    from importlib.util import find_spec

    spec = find_spec("tzdata")
    if spec is None or spec.origin is None:  # no tzdata: the full search decides
        return frozenset()
    try:
        with open(os.path.join(os.path.dirname(spec.origin), "zones"), encoding="utf-8") as f:
            return frozenset(line.strip() for line in f if line.strip()) - NOT_ZONES
    except OSError:  # not installed as files: the full search decides
        return frozenset()


def _check_timezone(value: str) -> str:
    if value in _packaged_timezones() or value in available_timezones():
        return value
    raise custom_error("RE207", "unknown time zone `{tz}`", {"tz": value})


# The active ISO 4217 currency codes (list one, funds and precious-metal codes included),
# from the iso-codes data with the later amendments: `ZWG` (2024), `XCG` and `XAD` (2025)
# added, `HRK` (replaced by the euro in 2023) removed. Codes still in their withdrawal period
# stay. tests/unit/rules/test_currencies.py checks it holds ISO's own table (iso4217).
CURRENCY_CODES: frozenset[str] = frozenset(
    (  # noqa: SIM905 - 183 codes: a list literal would take a line for each
        "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD "
        "BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP "
        "DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR "
        "IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD "
        "MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB "
        "PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD "
        "SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS "
        "VED VES VND VUV WST XAD XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS "
        "XUA XXX YER ZAR ZMW ZWG ZWL"
    ).split()
)


# Codes that are not a country's everyday currency (funds, metals, testing), suggested last.
_SPECIAL_CURRENCY_CODES = frozenset(
    (  # noqa: SIM905 - as for CURRENCY_CODES
        "BOV CHE CHW CLF COU MXV USN UYI UYW XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX"
    ).split()
)


def suggest_currency(value: str) -> str | None:
    """The currency code `value` most likely means: itself in capitals, its first three
    letters, or a code one letter away or with two letters swapped, preferring the same
    country (the first two letters); None when nothing is close."""
    code = value.strip().upper()
    if code in CURRENCY_CODES:
        return code
    if len(code) > 3 and code[:3] in CURRENCY_CODES:  # `EURO`, `USDC`
        return code[:3]
    if not re.fullmatch(r"[A-Z]{3}", code):
        return None

    def close(candidate: str) -> bool:
        differences = sum(a != b for a, b in zip(candidate, code, strict=True))
        return differences == 1 or (differences == 2 and sorted(candidate) == sorted(code))

    candidates = [c for c in CURRENCY_CODES if close(c)]
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c[:2] != code[:2], c in _SPECIAL_CURRENCY_CODES, c))


def _check_currency(value: str) -> str:
    if value in CURRENCY_CODES:
        return value
    if re.fullmatch(r"[A-Z]{3}", value):
        raise custom_error(
            "RE208", "`{currency}` is not an ISO 4217 currency code", {"currency": value}
        )
    raise custom_error(
        "RE208", "`{currency}` is not a three-letter ISO 4217 currency code", {"currency": value}
    )


ATTRIBUTE_TYPES: tuple[str, ...] = (
    "string",
    "int",
    "decimal",
    "money",
    "bool",
    "date",
    "datetime",
    "list[string]",
)


def _check_attribute_type(value: str) -> str:
    if value.removesuffix("?") in ATTRIBUTE_TYPES:
        return value
    raise custom_error("RE212", "unknown attribute type `{type}`", {"type": value})


AttributeType = Annotated[
    str,
    AfterValidator(_check_attribute_type),
    Field(
        description="string, int, decimal, money, bool, date, datetime or list[string]; "
        "a trailing `?` marks an optional attribute."
    ),
]


# -- shared parts ----------------------------------------------------------------------------


class Window(_Model):
    """Days in the ruleset's time zone; `until` is inclusive (to the end of that day)."""

    from_: Day | None = Field(None, alias="from")
    until: Day | None = None


class RewardLogic(enum.StrEnum):
    GRANT_ALL = "grant_all"
    CUSTOMER_PICKS = "customer_picks"


def _only_true(value: object) -> object:
    """`free_shipping: true` and nothing else (lax mode would take `1` for `true`)."""
    if value is not True:
        raise custom_error("literal_error", "Input should be True", {"expected": "True"})
    return value


class FreeGift(_Model):
    product: Annotated[str, Field(min_length=1)]


def require_one_reward_type(reward: object) -> None:
    """RE209 unless exactly one reward type (`points`, `free_gift`, ...) of `reward` is set;
    for the rule files' rewards and the rule tests' expected ones alike."""
    chosen = [name for name in REWARD_TYPES if getattr(reward, name) is not None]
    if len(chosen) != 1:
        raise custom_error(
            "RE209",
            "a reward must have exactly one type, found {found}",
            {"found": ", ".join(f"`{n}`" for n in chosen) if chosen else "none"},
        )


class Reward(_Model):
    """One reward; exactly one of the keys is set."""

    points: Annotated[WholeNumber, Field(gt=0)] | None = None
    store_credit: Money | None = None
    discount_amount: Money | None = None
    discount_percentage: (
        Annotated[
            Decimal,
            Field(gt=0, le=100, allow_inf_nan=False),
            BeforeValidator(_number_not_text),
        ]
        | None
    ) = None
    free_shipping: Annotated[Literal[True], BeforeValidator(_only_true)] | None = None
    free_gift: FreeGift | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "Reward":
        require_one_reward_type(self)
        return self

    @property
    def type(self) -> str:
        return next(name for name in REWARD_TYPES if getattr(self, name) is not None)


REWARD_TYPES: tuple[str, ...] = (
    "points",
    "store_credit",
    "discount_amount",
    "discount_percentage",
    "free_shipping",
    "free_gift",
)


class RewardSpec(_Model):
    """What a step grants: all rewards, or `pick` of them chosen by the customer."""

    logic: RewardLogic = RewardLogic.GRANT_ALL
    pick: WholeNumber | None = None
    rewards: Annotated[list[Reward], Field(min_length=1)]


# -- milestones ------------------------------------------------------------------------------


class MilestoneType(enum.StrEnum):
    ORDERS_COUNT = "orders_count"
    AMOUNT_SPENT = "amount_spent"
    POINTS_EARNED = "points_earned"
    REVIEWS_COUNT = "reviews_count"
    REFERRALS_COUNT = "referrals_count"
    SUBSCRIPTION_CYCLES = "subscription_cycles"
    INACTIVITY = "inactivity"
    MIXED = "mixed"


Target = Annotated[
    int | Decimal | str,
    Field(description="A count, a money amount (`amount_spent`) or a duration (`inactivity`)."),
    BeforeValidator(_not_a_flag),
]


class OrderRequirements(_Model):
    min_subtotal: (
        Annotated[Decimal, Field(ge=0, allow_inf_nan=False), BeforeValidator(_number_not_text)]
        | None
    ) = None
    min_items: (
        Annotated[
            WholeNumber,
            Field(
                gt=0,
                description="Orders with fewer items (the sum of their quantities) do not count.",
            ),
        ]
        | None
    ) = None
    refund_hold_days: Annotated[WholeNumber, Field(ge=0)] = 0


class Step(_Model):
    type: MilestoneType | None = None
    target: Target
    name: str | None = None
    description: str | None = None
    reward: RewardSpec


class Milestone(_Model):
    id: RuleId
    name: Annotated[str, Field(min_length=1)]
    description: str | None = None
    type: MilestoneType
    target: Target | None = None
    reward: RewardSpec | None = None
    steps: Annotated[list[Step], Field(min_length=1)] | None = None
    active: Window | None = None
    when: ExpressionText | None = None
    order_requirements: OrderRequirements | None = None
    enabled: Flag = True


# -- earning rules -----------------------------------------------------------------------------


class LimitPeriod(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    LIFETIME = "lifetime"


class Limit(_Model):
    """At most `times` grants of the rule per customer per period (in the ruleset's zone)."""

    times: Annotated[WholeNumber, Field(gt=0)]
    per: LimitPeriod


class Stacking(enum.StrEnum):
    """What happens when several rules match the same activity."""

    COMBINE = "combine"  # every matching rule grants
    BEST = "best"  # only the rule with the most points (ties: higher priority, then file order)


class BirthdayOptions(_Model):
    """When a birthday reward can be decided, and the guard against birthdays set to cash in."""

    days_before: Annotated[WholeNumber, Field(ge=0, le=31)] = 0
    days_after: Annotated[WholeNumber, Field(ge=0, le=365)] = 30
    min_days_since_set: Annotated[WholeNumber, Field(ge=0, le=366)] = Field(
        30,
        description="A birthday set (customer.birthday_set_at) fewer days than this before "
        "its occurrence earns nothing that year.",
    )


class EarningRule(_Model):
    id: RuleId
    name: Annotated[str, Field(min_length=1)]
    description: str | None = None
    on: Trigger
    when: ExpressionText | None = None
    points: ExpressionText
    active: Window | None = None
    limit: Limit | None = None
    priority: WholeNumber = 0
    stacking: Stacking = Stacking.COMBINE
    pending_days: Annotated[WholeNumber, Field(ge=0)] | None = None
    channels: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] | None = (
        Field(None, description="Only orders from these `order.channel` values earn.")
    )
    birthday: BirthdayOptions | None = Field(None, description="Options of an `on: birthday` rule.")
    enabled: Flag = True


# -- points: expiry ---------------------------------------------------------------------------


class ExpiryPolicy(enum.StrEnum):
    ROLLING = "rolling"  # all active points expire `after` the customer's last earning
    FIXED_DATE = "fixed_date"  # every year at the end of the day `on` (ruleset zone)
    PER_AWARD = "per_award"  # each award expires `after` it became active


class Expiry(_Model):
    """When active points expire. Durations (`12mo`, `30d`) and the `on` day (`"12-31"`) are
    checked by `semantics.py` (RE517), which can point at the value."""

    policy: ExpiryPolicy
    after: str | None = Field(
        None, description="A duration (`365d`, `12mo`, `1y`): rolling and per_award policies."
    )
    on: str | None = Field(None, description='A day of the year, `"MM-DD"`: the fixed_date policy.')
    warn_before: list[str] = Field(
        default_factory=list,
        description="Durations before an expiry at which an `expiry_warning` is decided.",
    )


class PointsSettings(_Model):
    expiry: Expiry | None = None


# -- redeeming -------------------------------------------------------------------------------


PositivePoints = Annotated[WholeNumber, Field(gt=0)]


class RedeemingProgram(_Model):
    """A way to spend points: a fixed `cost`, or `points_per` increments of `reward` the
    customer chooses between `min_points` and `max_points` (RE518 checks the relations)."""

    id: RuleId
    name: Annotated[str, Field(min_length=1)]
    description: str | None = None
    cost: PositivePoints | None = None
    points_per: PositivePoints | None = None
    min_points: PositivePoints | None = None
    max_points: PositivePoints | None = None
    reward: Reward
    when: ExpressionText | None = None
    limit: Limit | None = None
    enabled: Flag = True


# -- VIP tiers --------------------------------------------------------------------------------


class TierBasis(enum.StrEnum):
    """What counts toward a tier (the "VIP point")."""

    POINTS_EARNED = "points_earned"
    AMOUNT_SPENT = "amount_spent"
    ORDERS_COUNT = "orders_count"


class TierPeriod(enum.StrEnum):
    """Which activity counts toward the tier."""

    LIFETIME = "lifetime"
    CALENDAR_YEAR = "calendar_year"  # the calendar year in the ruleset's time zone
    ROLLING_12MO = "rolling_12mo"  # the twelve months up to the moment


class TierDowngrade(enum.StrEnum):
    NEVER = "never"
    END_OF_PERIOD = "end_of_period"


Threshold = Annotated[
    Decimal,
    Field(ge=0, allow_inf_nan=False, description="Tier progress needed to enter the level."),
    BeforeValidator(_number_not_text),
]


class TierLevel(_Model):
    """One level; the first one's threshold is 0 and thresholds increase (RE521)."""

    id: RuleId
    name: Annotated[str, Field(min_length=1)]
    threshold: Threshold
    reward: RewardSpec | None = Field(
        None, description="Granted on entering the level, once per level and period."
    )


class Tiers(_Model):
    """VIP tiers: levels a customer reaches by tier progress (`basis`) within `period`."""

    basis: TierBasis
    period: TierPeriod = TierPeriod.LIFETIME
    downgrade: TierDowngrade = TierDowngrade.NEVER
    levels: Annotated[list[TierLevel], Field(min_length=1)]
    order_requirements: OrderRequirements | None = None


# -- the file ----------------------------------------------------------------------------------


class RuleSetFile(_Model):
    """A rule file, format version 1."""

    model_config: ClassVar[dict[str, Any]] = {
        "title": "ruleengine rule file",
        "json_schema_extra": {"$id": "https://ruleengine.dev/schemas/ruleset.schema.json"},
    }

    version: Annotated[Literal[1], BeforeValidator(_version_number)]
    program: RuleId
    name: str | None = None
    currency: Annotated[str, AfterValidator(_check_currency)]
    timezone: Annotated[str, AfterValidator(_check_timezone)]
    attributes: dict[FieldName, AttributeType] = Field(default_factory=dict)
    events: dict[FieldName, dict[FieldName, AttributeType]] = Field(
        default_factory=dict,
        description="Fields of custom events (`on: custom:<name>`), by event name.",
    )
    earning: list[EarningRule] = Field(default_factory=list)
    milestones: list[Milestone] = Field(default_factory=list)
    points: PointsSettings | None = None
    redeeming: list[RedeemingProgram] = Field(default_factory=list)
    tiers: Tiers | None = None
