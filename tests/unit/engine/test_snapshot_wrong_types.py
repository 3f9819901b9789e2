"""Values of the wrong JSON type are refused (RE610 at their path) as the JSON Schema refuses
them, by both readers (JSON text and a host's dict), never read as a lenient guess: an epoch
number for a timestamp, a boolean for a number, a blank coupon code."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from ruleengine import Engine, SnapshotError, load_ruleset

RULES = """\
version: 1
program: types
currency: USD
timezone: UTC
earning:
  - {id: per-order, name: A point an order, on: order, points: 1}
"""
ENGINE = Engine(load_ruleset(RULES))
AT = "2026-01-10T10:00:00Z"


def problems(snapshot: dict[str, Any]) -> list[list[tuple[str, str, str]]]:
    """The problems of `snapshot` read as a host's dict and as JSON text (empty: accepted)."""
    found = []
    for read in (
        lambda: ENGINE.read_snapshot(snapshot),
        lambda: ENGINE.read_snapshot_text(json.dumps(snapshot)),
    ):
        try:
            read()
        except SnapshotError as error:
            found.append([(p.code, p.path, p.message) for p in error.problems])
        else:
            found.append([])
    return found


def refused_at(snapshot: dict[str, Any], path: str, words: str) -> None:
    for found in problems(snapshot):
        assert [(code, where) for code, where, _ in found] == [("RE610", path)], found
        assert words in found[0][2]


def with_activity(entry: dict[str, Any]) -> dict[str, Any]:
    return {"customer": {"id": "c1"}, "activity": [entry]}


# -- timestamps ----------------------------------------------------------------------------------


@pytest.mark.parametrize("at", [1768066200, 1768066200.5, "1768066200", " 1768066200.25 ", 0])
@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"type": "order", "id": "o1", "at": AT, "subtotal": "10"}, "at"),
        ({"type": "order", "id": "o1", "at": AT, "subtotal": "10"}, "refunded_at"),
        ({"type": "referral", "id": "f1", "at": AT}, "converted_at"),
        (
            {
                "type": "redemption",
                "id": "r1",
                "at": AT,
                "program": "p",
                "points": 5,
                "coupon": "C",
            },
            "revoked_at",
        ),
        (
            {
                "type": "redemption",
                "id": "r1",
                "at": AT,
                "program": "p",
                "points": 5,
                "coupon": "C",
            },
            "used_at",
        ),
        ({"type": "signup", "id": "s1", "at": AT}, "at"),
        ({"type": "custom:quiz", "id": "q1", "at": AT}, "at"),
    ],
)
def test_an_epoch_number_is_not_a_timestamp(entry: dict[str, Any], field: str, at: Any) -> None:
    refused_at(with_activity({**entry, field: at}), f"$.activity[0].{field}", "ISO 8601")


@pytest.mark.parametrize("field", ["birthday_set_at", "created_at"])
def test_an_epoch_number_is_not_a_customer_timestamp(field: str) -> None:
    snapshot = {"customer": {"id": "c1", field: 1768066200}, "activity": []}
    refused_at(snapshot, f"$.customer.{field}", "`2026-02-01T12:00:00Z`")


@pytest.mark.parametrize("birthday", [0, 19900412, "19900412", "0"])
def test_a_number_is_not_a_birthday(birthday: Any) -> None:
    snapshot = {"customer": {"id": "c1", "birthday": birthday}, "activity": []}
    refused_at(snapshot, "$.customer.birthday", "`1990-04-12`")


def test_a_hosts_aware_datetime_is_still_taken_as_it_is() -> None:
    # docs/engine.md: a Python host's aware `datetime`s are taken as they are.
    at = datetime(2026, 1, 10, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    snapshot = ENGINE.read_snapshot(
        with_activity({"type": "order", "id": "o1", "at": at, "subtotal": "10", "refunded_at": at})
    )
    assert snapshot.activity[0].at == datetime(2026, 1, 10, 10, 0, tzinfo=UTC)


# -- numbers and flags ---------------------------------------------------------------------------

REDEMPTION = {
    "type": "redemption",
    "id": "r1",
    "at": AT,
    "program": "p",
    "points": 5,
    "coupon": "C",
}
ORDER = {"type": "order", "id": "o1", "at": AT, "subtotal": "10"}
ITEM = {"product_id": "p1", "price": "10"}


@pytest.mark.parametrize("flag", [True, False])
@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (REDEMPTION, "points"),
        ({"type": "points_earned", "id": "p1", "at": AT, "points": 5}, "points"),
        ({"type": "adjustment", "id": "a1", "at": AT, "points": 5}, "points"),
        ({"type": "review", "id": "v1", "at": AT, "rating": 5}, "rating"),
        ({"type": "tier_change", "id": "t1", "at": AT, "tier": "gold"}, "tier_points"),
        (ORDER, "subtotal"),
        (ORDER, "total"),
        (ORDER, "refunded_amount"),
    ],
)
def test_a_boolean_is_not_a_number(entry: dict[str, Any], field: str, flag: bool) -> None:
    # `"points": true` was a 1-point coupon.
    refused_at(with_activity({**entry, field: flag}), f"$.activity[0].{field}", "")


@pytest.mark.parametrize("field", ["quantity", "price"])
def test_a_boolean_is_not_an_items_number(field: str) -> None:
    snapshot = with_activity({**ORDER, "items": [{**ITEM, field: True}]})
    refused_at(snapshot, f"$.activity[0].items[0].{field}", "")


@pytest.mark.parametrize("value", [1, 0, "true", "yes", 1.0])
@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"type": "review", "id": "v1", "at": AT, "rating": 5}, "has_photo"),
        ({"type": "review", "id": "v1", "at": AT, "rating": 5}, "verified"),
        ({"type": "adjustment", "id": "a1", "at": AT, "points": 5}, "affects_tier"),
    ],
)
def test_a_flag_is_true_or_false(entry: dict[str, Any], field: str, value: Any) -> None:
    refused_at(
        with_activity({**entry, field: value}), f"$.activity[0].{field}", "`true` or `false`"
    )


def test_the_customers_flag_is_true_or_false() -> None:
    snapshot = {"customer": {"id": "c1", "excluded": 1}, "activity": []}
    refused_at(snapshot, "$.customer.excluded", "`true` or `false`")


def test_a_whole_float_is_still_a_whole_number() -> None:
    # The JSON Schema's `integer` is any number with no fraction: `1.0` is one.
    review = {"type": "review", "id": "v1", "at": AT, "rating": 5.0}
    snapshot = with_activity({**ORDER, "items": [{**ITEM, "quantity": 2.0}]})
    assert problems(with_activity(review)) == [[], []]
    assert problems(snapshot) == [[], []]
    assert ENGINE.read_snapshot(snapshot).activity[0].items[0].quantity == 2  # type: ignore[attr-defined]


# -- identifying text ----------------------------------------------------------------------------


@pytest.mark.parametrize("blank", ["", " ", "  ", "\t\n"])
@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (REDEMPTION, "coupon"),
        (REDEMPTION, "program"),
        (ORDER, "subscription_id"),
        (
            {"type": "subscription_billing", "id": "b1", "at": AT, "subscription_id": "s1"},
            "subscription_id",
        ),
        (
            {"type": "subscription_billing", "id": "b1", "at": AT, "subscription_id": "s1"},
            "order_id",
        ),
        ({"type": "tier_change", "id": "t1", "at": AT, "tier": "gold"}, "tier"),
    ],
)
@pytest.mark.parametrize("with_custom_event", [False, True])
def test_identifying_text_is_not_blank(
    entry: dict[str, Any], field: str, blank: str, with_custom_event: bool
) -> None:
    # `"coupon": "  "` was accepted while a blank id is RE610. A custom event makes the
    # reader convert a host's dict entry by entry (and JSON text as data).
    snapshot = with_activity({**entry, field: blank})
    if with_custom_event:
        snapshot["activity"].append({"type": "custom:quiz", "id": "q1", "at": AT})
    words = "blank" if blank else "at least 1 character"
    refused_at(snapshot, f"$.activity[0].{field}", words)
