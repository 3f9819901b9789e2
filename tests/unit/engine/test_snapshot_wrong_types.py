"""Values of the wrong JSON type are refused (RE610 at their path) as the JSON Schema refuses
them, by both readers (JSON text and a host's dict), never read as a lenient guess: an epoch
number for a timestamp, a boolean for a number, a blank coupon code."""

from __future__ import annotations

import copy
import json
import os
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jsonschema
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseio import ROOT
from ruleengine import Engine, SnapshotError, load_ruleset
from ruleengine.engine import snapshot as snapshot_module
from ruleengine.engine.snapshot import read_snapshot, read_snapshot_text
from ruleengine.engine.snapshot_json import loads_exact
from ruleengine.engine.snapshot_models import SnapshotIn
from ruleengine.engine.snapshot_reader import RefusedError, read_data, read_text
from ruleengine.expr.coerce import format_path
from ruleengine.limits import DEFAULT_LIMITS
from ruleengine.rules.vocabulary import customer_type

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
CUSTOMER = customer_type({})
EXAMPLES = int(os.environ.get("RULEENGINE_FUZZ_EXAMPLES", "600"))


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


# -- generated: every field of every activity type, a value of the wrong JSON type --------------

SCHEMA = json.loads((ROOT / "schemas" / "snapshot.schema.json").read_text(encoding="utf-8"))
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
FORMATS = jsonschema.FormatChecker(["date"])


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    # jsonschema checks `date-time` only with a package this project does not install.
    if not isinstance(value, str):
        return True
    if not _RFC3339.fullmatch(value):
        return False
    datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    return True


VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=FORMATS)
FULL_ITEM = {
    "product_id": "p1",
    "variant_id": "v1",
    "sku": "SKU-1",
    "title": "Mug",
    "vendor": "Acme",
    "product_type": "kitchen",
    "quantity": 2,
    "price": "12.50",
    "tags": ["sale"],
}
FULL_CUSTOMER = {
    "id": "c1",
    "email": "ada@example.com",
    "tags": ["vip"],
    "excluded": False,
    "birthday": "1990-04-12",
    "birthday_set_at": "2025-01-01T09:00:00Z",
    "created_at": "2024-06-01T09:00:00+02:00",
}
# One activity of every type, every field given (the fields a generated value goes into).
FULL_ACTIVITY: list[dict[str, Any]] = [
    {
        "type": "order",
        "id": "o1",
        "at": "2026-01-02T10:00:00Z",
        "subtotal": "25.00",
        "total": "27.50",
        "channel": "web",
        "items": [FULL_ITEM],
        "discount_codes": ["WELCOME"],
        "refunded_at": "2026-01-05T10:00:00+01:00",
        "refunded_amount": "5.00",
        "subscription_id": "sub-1",
    },
    {
        "type": "review",
        "id": "v1",
        "at": "2026-01-03T10:00:00Z",
        "rating": 4,
        "product_id": "p1",
        "has_photo": True,
        "verified": False,
    },
    {"type": "referral", "id": "f1", "at": "2026-01-03T11:00:00Z", "converted_at": AT},
    {
        "type": "subscription_billing",
        "id": "b1",
        "at": "2026-01-04T10:00:00Z",
        "subscription_id": "sub-1",
        "order_id": "o1",
    },
    {"type": "points_earned", "id": "e1", "at": "2026-01-04T11:00:00Z", "points": 40},
    {
        "type": "adjustment",
        "id": "a1",
        "at": "2026-01-04T12:00:00Z",
        "points": -5,
        "affects_tier": True,
        "note": "goodwill",
        "message": "Sorry!",
    },
    {
        "type": "redemption",
        "id": "r1",
        "at": "2026-01-06T10:00:00Z",
        "program": "five-off",
        "points": 20,
        "coupon": "FIVE-1",
        "revoked_at": "2026-01-08T10:00:00Z",
        "used_at": None,
    },
    {
        "type": "tier_change",
        "id": "t1",
        "at": "2026-01-07T10:00:00Z",
        "tier": "gold",
        "tier_points": "100",
    },
    {"type": "tier_recalculation", "id": "t2", "at": "2026-01-09T10:00:00Z"},
    {"type": "signup", "id": "s1", "at": "2025-12-01T10:00:00Z"},
    {"type": "newsletter_signup", "id": "n1", "at": "2025-12-01T10:05:00Z"},
    {"type": "social_follow", "id": "sf1", "at": "2025-12-02T10:00:00Z", "platform": "x"},
    {"type": "website_visit", "id": "w1", "at": "2025-12-03T10:00:00Z", "url": "https://a.b/"},
    {"type": "survey", "id": "q1", "at": "2025-12-04T10:00:00Z", "survey_id": "nps"},
    {"type": "custom:quiz", "id": "cq1", "at": "2025-12-05T10:00:00Z"},
]
# Where a value can go: (JSON path, the keys leading to it in the snapshot).
PLACES: list[tuple[Any, ...]] = (
    [("customer", key) for key in FULL_CUSTOMER]
    + [
        ("activity", index, key)
        for index, entry in enumerate(FULL_ACTIVITY)
        for key in entry
        if key != "type"
    ]
    + [("activity", 0, "items", 0, key) for key in FULL_ITEM]
)
WRONG = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**31), max_value=2**33),  # epoch seconds, and counts
    # Six places at most: an amount's 30 digits each side of its point (docs/engine.md) are a
    # limit the schema does not state, and not a type.
    st.floats(min_value=-1e6, max_value=1e10, allow_nan=False).map(lambda f: round(f, 6)),
    st.integers(min_value=-5, max_value=10).map(float),  # whole floats: 5.0
    st.text(alphabet=" \t\n\r", max_size=3),  # blank text
    st.lists(st.sampled_from(["x", 1, True]), max_size=2),
    st.dictionaries(st.sampled_from(["a", "at"]), st.integers(0, 9), max_size=2),
)


def _parts_problems(read: Any) -> list[tuple[str, str]] | None:
    """None when `read` accepts; else its problems' (code, path)."""
    try:
        read()
    except SnapshotError as error:
        return [(p.code, p.path) for p in error.problems]
    return None


def test_the_full_snapshot_is_valid_and_read_without_the_models() -> None:
    snapshot = {"customer": FULL_CUSTOMER, "activity": FULL_ACTIVITY}
    VALIDATOR.validate(snapshot)
    assert read_data(copy.deepcopy(snapshot), DEFAULT_LIMITS.max_json_depth)
    read_snapshot(snapshot, customer_type=CUSTOMER, events={}, tiers=["member", "gold"])


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(place=st.sampled_from(PLACES), value=WRONG)
def test_a_wrong_json_type_is_read_as_the_schema_says(place: tuple[Any, ...], value: Any) -> None:
    snapshot = copy.deepcopy({"customer": FULL_CUSTOMER, "activity": FULL_ACTIVITY})
    parent: Any = snapshot
    for key in place[:-1]:
        parent = parent[key]
    parent[place[-1]] = value
    path = format_path(place)
    text = json.dumps(snapshot)
    limits = DEFAULT_LIMITS

    def text_parts() -> Any:
        try:
            return read_text(text, limits.max_json_depth, limits.max_activity)
        except RefusedError:
            return snapshot_module._read_parts(loads_exact(text), "s", limits, text)

    def models() -> Any:
        try:
            return SnapshotIn.model_validate(snapshot)
        except pydantic.ValidationError as error:
            found = [snapshot_module._problem(e) for e in error.errors(include_url=False)]
            raise SnapshotError(found) from None

    def whole(read: Any, data: Any) -> list[tuple[str, str]] | None:
        return _parts_problems(
            lambda: read(data, customer_type=CUSTOMER, events={}, tiers=["member", "gold"])
        )

    from_dict = _parts_problems(lambda: snapshot_module._read_parts(snapshot, "s", limits, None))
    from_text = _parts_problems(text_parts)
    from_models = _parts_problems(models)
    # Both readers, from a host's dict and from JSON text, and the models alone agree...
    assert from_dict == from_text == from_models
    assert whole(read_snapshot, snapshot) == whole(read_snapshot_text, text)
    # ... and with the JSON Schema: what it refuses is RE610 at the value's path, what it
    # accepts is read.
    schema_errors = list(VALIDATOR.iter_errors(snapshot))
    if schema_errors:
        assert from_dict, (value, [e.message for e in schema_errors])
        for code, where in from_dict:  # at the value, or inside it (`tags[0]` of a list)
            assert code == "RE610", (value, from_dict)
            assert where == path or where.startswith((f"{path}[", f"{path}.")), (value, from_dict)
    else:
        assert from_dict is None, value
