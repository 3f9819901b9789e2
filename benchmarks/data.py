"""Generated, realistic inputs: customer histories for the bundled example programs and rule
files of any size, from a seeded random generator so every run measures the same work."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

NOW = datetime(2026, 6, 1, tzinfo=UTC)
START = datetime(2025, 9, 1, tzinfo=UTC)
CHANNELS = ("online", "online", "online", "pos", "pos", "phone")
TAGS = ("newsletter", "vip", "wholesale", "staff", "eu")


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def customer(number: int, activities: int, rng: random.Random) -> dict[str, Any]:
    """One acme customer with about `activities` pieces of activity, as a host would send it
    (JSON: amounts as decimal strings, timestamps with `Z`)."""
    span = (NOW - START).total_seconds()
    moments = sorted(
        START + timedelta(seconds=rng.uniform(0, span)) for _ in range(max(activities, 1))
    )
    activity: list[dict[str, Any]] = [{"type": "signup", "id": "su1", "at": _iso(moments[0])}]
    counts = {"order": 0, "review": 0, "referral": 0}
    for moment in moments[1:]:
        roll = rng.random()
        if roll < 0.62:
            counts["order"] += 1
            subtotal = Decimal(rng.randint(500, 25000)) / 100
            order: dict[str, Any] = {
                "type": "order",
                "id": f"o{counts['order']}",
                "at": _iso(moment),
                "subtotal": str(subtotal),
                "channel": rng.choice(CHANNELS),
            }
            refund = rng.random()
            if refund < 0.08:
                order["refunded_at"] = _iso(moment + timedelta(days=rng.randint(1, 30)))
            elif refund < 0.12:
                order["refunded_at"] = _iso(moment + timedelta(days=rng.randint(1, 30)))
                order["refunded_amount"] = str((subtotal / 2).quantize(Decimal("0.01")))
            activity.append(order)
        elif roll < 0.88:
            counts["review"] += 1
            activity.append(
                {
                    "type": "review",
                    "id": f"r{counts['review']}",
                    "at": _iso(moment),
                    "rating": rng.randint(1, 5),
                    "has_photo": rng.random() < 0.3,
                }
            )
        else:
            counts["referral"] += 1
            referral: dict[str, Any] = {
                "type": "referral",
                "id": f"f{counts['referral']}",
                "at": _iso(moment),
            }
            if rng.random() < 0.6:
                referral["converted_at"] = _iso(moment + timedelta(days=rng.randint(1, 20)))
            activity.append(referral)
    tags = sorted({rng.choice(TAGS) for _ in range(rng.randint(0, 2))})
    person: dict[str, Any] = {
        "id": f"c{number}",
        "email": f"c{number}@example.com",
        "tags": tags,
        "tier": rng.choice(["gold", "silver", None]),
        "excluded": rng.random() < 0.02,
        "birthday": f"19{rng.randint(50, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "created_at": _iso(moments[0]),
        "region": rng.choice(["EU", "US", "CA"]),
    }
    if rng.random() < 0.5:
        person["lifetime_value"] = str(Decimal(rng.randint(0, 500000)) / 100)
    granted = ["signup-bonus/su1"] if rng.random() < 0.5 else []
    return {"customer": person, "activity": activity, "granted": granted}


def customers(count: int, *, seed: int = 7, low: int = 5, high: int = 40) -> list[dict[str, Any]]:
    """`count` acme customers with between `low` and `high` pieces of activity each."""
    rng = random.Random(seed)
    return [customer(n, rng.randint(low, high), rng) for n in range(count)]


def as_json(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot as the engine receives it from `json.loads(..., parse_float=Decimal)`."""
    parsed: dict[str, Any] = json.loads(json.dumps(snapshot), parse_float=Decimal)
    return parsed


def ruleset_text(rules: int, *, seed: int = 11) -> str:
    """A rule file with `rules` rules: earning rules on orders and reviews with typical
    conditions and formulas, and one milestone in ten (order counts, spend, reviews)."""
    rng = random.Random(seed)
    lines = [
        "version: 1",
        "program: generated",
        "currency: USD",
        "timezone: America/New_York",
        "attributes:",
        "  region: string",
        "  lifetime_value: decimal?",
        "earning:",
    ]
    milestones: list[str] = []
    for number in range(rules):
        if number % 10 == 9:
            kind = rng.choice(["orders_count", "amount_spent", "reviews_count"])
            target = {"orders_count": 5, "amount_spent": 500, "reviews_count": 3}[kind]
            milestones += [
                f"  - id: m{number}",
                f"    name: Milestone {number}",
                f"    type: {kind}",
                f"    target: {target + rng.randint(0, 10)}",
                "    reward: {rewards: [{points: 100}]}",
            ]
            continue
        if number % 4 == 3:
            lines += [
                f"  - id: r{number}",
                f"    name: Review rule {number}",
                "    on: review",
                f"    when: review.rating >= {rng.randint(3, 5)}",
                "    points: if review.has_photo then 20 else 10",
            ]
            continue
        # Selective, as real rules are: each matches a few orders in ten, so the result grows
        # with the rules but does not swamp the measurement.
        threshold = rng.randint(120, 240)
        when = rng.choice(
            [
                f"order.subtotal >= {threshold}",
                f'order.subtotal >= {threshold - 60} and order.channel == "pos"',
                f'not ("wholesale" in customer.tags) and order.subtotal > {threshold}',
                f'customer.tier == "gold" and stats.orders_count >= {rng.randint(2, 6)}',
                'customer.region == "EU" and order.channel == "phone"',
            ]
        )
        points = rng.choice(
            ["floor(order.subtotal * 5)", "10", "floor(order.subtotal / 10) * 3", "25"]
        )
        lines += [
            f"  - id: r{number}",
            f"    name: Order rule {number}",
            "    on: order",
            f"    when: {when}",
            f"    points: {points}",
        ]
        if number % 6 == 0:
            lines.append("    stacking: best")
    if milestones:
        lines += ["milestones:", *milestones]
    return "\n".join(lines) + "\n"


def _value(type_name: str, rng: random.Random) -> Any:
    """A value for a declared attribute or event field (`int?`, `list[string]`, ...)."""
    if type_name.endswith("?"):
        if rng.random() < 0.3:
            return None
        type_name = type_name[:-1]
    choices: dict[str, Any] = {
        "string": lambda: rng.choice(["weekly", "monthly", "espresso", "EU", "instagram"]),
        "int": lambda: rng.randint(1, 6),
        "decimal": lambda: str(Decimal(rng.randint(0, 100000)) / 100),
        "money": lambda: str(Decimal(rng.randint(0, 100000)) / 100),
        "bool": lambda: rng.random() < 0.5,
        "date": lambda: f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "datetime": lambda: f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:00:00Z",
        "list[string]": lambda: rng.sample(["vegan", "denim", "streetwear", "sku-1", "sku-2"], 2),
    }
    return choices[type_name]()


def generic_customer(  # noqa: C901  # one branch per kind of activity, on purpose
    model: Any, number: int, activities: int, rng: random.Random
) -> dict[str, Any]:
    """A customer for any ruleset: its declared attributes, and activity of every kind its
    rules look at (orders with items and subscriptions, reviews, referrals, points, the
    built-in events and its custom events), with refunds now and then."""
    span = (NOW - START).total_seconds()
    moments = sorted(START + timedelta(seconds=rng.uniform(0, span)) for _ in range(activities))
    activity: list[dict[str, Any]] = []
    events = list(model.events)
    for index, moment in enumerate(moments):
        at = _iso(moment)
        ident = f"a{index}"
        roll = rng.random()
        if roll < 0.5:
            subtotal = Decimal(rng.randint(500, 30000)) / 100
            order: dict[str, Any] = {
                "type": "order",
                "id": ident,
                "at": at,
                "subtotal": str(subtotal),
                "channel": rng.choice(["online", "pos", "app", "delivery", "pickup", "store"]),
                "items": [
                    {
                        "product_id": f"p{rng.randint(1, 40)}",
                        "price": str(Decimal(rng.randint(100, 5000)) / 100),
                        "quantity": rng.randint(1, 3),
                        "product_type": rng.choice(["bbq", "coffee", "shirt", None]),
                        "vendor": rng.choice(["Acme", "Other"]),
                        "tags": rng.sample(["local", "sale", "organic", "new"], 1),
                    }
                    for _ in range(rng.randint(0, 3))
                ],
            }
            if rng.random() < 0.25:
                order["subscription_id"] = f"s{rng.randint(1, 2)}"
            if rng.random() < 0.1:
                order["refunded_at"] = _iso(moment + timedelta(days=rng.randint(1, 30)))
            activity.append(order)
        elif roll < 0.65:
            activity.append(
                {
                    "type": "review",
                    "id": ident,
                    "at": at,
                    "rating": rng.randint(1, 5),
                    "verified": rng.random() < 0.7,
                }
            )
        elif roll < 0.72:
            referral: dict[str, Any] = {"type": "referral", "id": ident, "at": at}
            if rng.random() < 0.6:
                referral["converted_at"] = _iso(moment + timedelta(days=rng.randint(1, 20)))
            activity.append(referral)
        elif roll < 0.78:
            activity.append(
                {
                    "type": "subscription_billing",
                    "id": ident,
                    "at": at,
                    "subscription_id": f"s{rng.randint(1, 2)}",
                }
            )
        elif roll < 0.82 and model.redeeming and rng.random() < 0.6:
            activity.append(_ledger_activity(model, ident, moment, rng))
        elif roll < 0.82:
            activity.append(
                {"type": "points_earned", "id": ident, "at": at, "points": rng.randint(10, 300)}
            )
        elif roll < 0.92 or not events:
            kind = rng.choice(
                ["newsletter_signup", "social_follow", "website_visit", "survey", "signup"]
            )
            event: dict[str, Any] = {"type": kind, "id": ident, "at": at}
            if kind == "social_follow":
                event["platform"] = rng.choice(["instagram", "tiktok", "x"])
            elif kind == "website_visit":
                event["url"] = rng.choice(
                    ["https://urbanthreads.co.uk/lookbook/aw", "https://example.com/"]
                )
            elif kind == "survey":
                event["survey_id"] = rng.choice(["fit-winter-2026", "other"])
            activity.append(event)
        else:
            name = rng.choice(events)
            custom: dict[str, Any] = {"type": f"custom:{name}", "id": ident, "at": at}
            for field_name, type_name in model.events[name].items():
                custom[field_name] = _value(type_name, rng)
            activity.append(custom)
    person: dict[str, Any] = {
        "id": f"c{number}",
        "email": f"c{number}@example.com",
        "tags": sorted({rng.choice(TAGS) for _ in range(rng.randint(0, 2))}),
        "tier": rng.choice(["gold", "silver", None]),
        "birthday": f"19{rng.randint(50, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "created_at": _iso(moments[0] if moments else START),
    }
    if model.tiers is not None:  # the engine computes the tier (a sent one is RE619)
        person["tier"] = None
    for name, type_name in model.attributes.items():
        person[name] = _value(type_name, rng)
    return {"customer": person, "activity": activity, "granted": []}


def _ledger_activity(
    model: Any, ident: str, moment: datetime, rng: random.Random
) -> dict[str, Any]:
    """For a ruleset with `redeeming`: a redemption (now and then revoked or used, now and
    then of more points than the customer holds) or an adjustment of either sign."""
    at = _iso(moment)
    if rng.random() < 0.3:
        return {
            "type": "adjustment",
            "id": ident,
            "at": at,
            "points": rng.choice([-1, 1]) * rng.randint(10, 300),
            "note": "benchmark",
        }
    program = rng.choice(model.redeeming)
    redemption: dict[str, Any] = {
        "type": "redemption",
        "id": ident,
        "at": at,
        "program": program.id,
        "points": program.cost or program.min_points or program.points_per or 100,
        "coupon": f"C-{ident}",
    }
    later = _iso(moment + timedelta(days=rng.randint(1, 20)))
    if rng.random() < 0.2:
        redemption["revoked_at"] = later
    elif rng.random() < 0.6:
        redemption["used_at"] = later
    return redemption


def generic_customers(model: Any, count: int, *, seed: int = 13) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [generic_customer(model, n, rng.randint(5, 40), rng) for n in range(count)]
