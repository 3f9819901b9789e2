"""The built-in names rules can use: customer, stats and each trigger's activity.

These record types are what the checker resolves `customer.tier` or `order.subtotal` against,
and what the engine's snapshot reader must supply. A ruleset extends `customer` with its
`attributes` and declares the fields of its custom events under `events`.
"""

from __future__ import annotations

from ruleengine.expr.scope import Scope
from ruleengine.expr.types import (
    BOOL,
    DATE,
    DATETIME,
    INT,
    MONEY,
    STRING,
    ListType,
    RecordType,
    Type,
    optional,
    parse_type_name,
)

CUSTOMER_FIELDS: tuple[tuple[str, Type], ...] = (
    ("id", STRING),
    ("email", optional(STRING)),
    ("tags", ListType(STRING)),
    ("tier", optional(STRING)),
    ("excluded", BOOL),
    ("birthday", optional(DATE)),
    ("created_at", optional(DATETIME)),
)

STATS = RecordType(
    "stats",
    (
        ("orders_count", INT),
        ("amount_spent", MONEY),
        ("points_earned", INT),
        ("reviews_count", INT),
        ("referrals_count", INT),
        ("first_order_at", optional(DATETIME)),
        ("last_order_at", optional(DATETIME)),
        ("days_since_last_order", optional(INT)),
    ),
)

ITEM = RecordType(
    "item",
    (
        ("product_id", STRING),
        ("variant_id", optional(STRING)),
        ("sku", optional(STRING)),
        ("title", optional(STRING)),
        ("vendor", optional(STRING)),
        ("product_type", optional(STRING)),
        ("quantity", INT),
        ("price", MONEY),
        ("tags", ListType(STRING)),
    ),
)

ORDER = RecordType(
    "order",
    (
        ("id", STRING),
        ("at", DATETIME),
        ("subtotal", MONEY),
        ("total", optional(MONEY)),
        ("channel", optional(STRING)),
        ("items", ListType(ITEM)),
        ("discount_codes", ListType(STRING)),
        ("refunded_at", optional(DATETIME)),
        ("refunded_amount", optional(MONEY)),
        ("subscription_id", optional(STRING)),
    ),
)

REVIEW = RecordType(
    "review",
    (
        ("id", STRING),
        ("at", DATETIME),
        ("rating", INT),
        ("product_id", optional(STRING)),
        ("has_photo", BOOL),
        ("verified", optional(BOOL)),
    ),
)

_EVENT_BASE: tuple[tuple[str, Type], ...] = (("id", STRING), ("at", DATETIME))

EVENT_FIELDS: dict[str, tuple[tuple[str, Type], ...]] = {
    "signup": (),
    "newsletter_signup": (),
    "birthday": (),
    "social_follow": (("platform", optional(STRING)),),
    "website_visit": (("url", optional(STRING)),),
    "survey": (("survey_id", optional(STRING)),),
    # The referral itself: `at` when the friend registered, `converted_at` when they bought.
    "referral": (("converted_at", optional(DATETIME)),),
    "referral_converted": (("converted_at", optional(DATETIME)),),
}

# The activity name each trigger provides to its rules.
ACTIVITY_NAME: dict[str, str] = {
    "order": "order",
    "subscription_order": "order",
    "review": "review",
}


def customer_type(attributes: dict[str, str]) -> RecordType:
    """`customer`, extended with the ruleset's typed attributes."""
    extra = tuple((name, parse_type_name(text)) for name, text in attributes.items())
    return RecordType("customer", CUSTOMER_FIELDS + extra)


def activity_name(trigger: str) -> str:
    return ACTIVITY_NAME.get(trigger, "event")


def activity_type(trigger: str, events: dict[str, dict[str, str]]) -> RecordType:
    """The record a trigger's rules see under `order`, `review` or `event`."""
    if trigger in ("order", "subscription_order"):
        return ORDER
    if trigger == "review":
        return REVIEW
    if trigger.startswith("custom:"):
        declared = events.get(trigger.removeprefix("custom:"), {})
        fields = tuple((name, parse_type_name(text)) for name, text in declared.items())
        return RecordType("event", _EVENT_BASE + fields)
    return RecordType("event", _EVENT_BASE + EVENT_FIELDS.get(trigger, ()))


def earning_scope(
    trigger: str, attributes: dict[str, str], events: dict[str, dict[str, str]]
) -> Scope:
    """The names an earning rule on `trigger` can use."""
    name = activity_name(trigger)
    roots: dict[str, Type] = {
        "customer": customer_type(attributes),
        "stats": STATS,
        name: activity_type(trigger, events),
    }
    elsewhere = {
        other: f"`{other}` is not available in an `on: {trigger}` rule"
        for other in ("order", "review", "event")
        if other != name
    }
    return Scope(roots, elsewhere, f"an `on: {trigger}` rule")


def milestone_scope(attributes: dict[str, str]) -> Scope:
    """The names a milestone's `when` can use: the customer and their stats."""
    elsewhere = {
        other: f"`{other}` is not available in a milestone condition; milestones look at the "
        "customer and `stats`, not at one activity"
        for other in ("order", "review", "event")
    }
    return Scope(
        {"customer": customer_type(attributes), "stats": STATS},
        elsewhere,
        "a milestone condition",
    )


def redeeming_scope(attributes: dict[str, str]) -> Scope:
    """The names a redeeming program's `when` can use: the customer and their stats at the
    moment of the redemption (or at `now`, for what is redeemable)."""
    elsewhere = {
        other: f"`{other}` is not available in a redeeming condition; it looks at the "
        "customer and `stats`, not at one activity"
        for other in ("order", "review", "event")
    }
    return Scope(
        {"customer": customer_type(attributes), "stats": STATS},
        elsewhere,
        "a redeeming condition",
    )
