"""Impossible coupons (RE640, RE641): refused with located problems,
like a refund dated before its order (RE615)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ruleengine import Engine, load_ruleset
from ruleengine.engine.snapshot import SnapshotError

RULES = """version: 1
program: coupons
currency: USD
timezone: America/New_York
earning:
  - {id: per-dollar, name: A point a dollar, on: order, points: floor(order.subtotal)}
redeeming:
  - {id: ten-off, name: $10 off, cost: 100, reward: {discount_amount: 10}}
"""
ENGINE = Engine(load_ruleset(RULES))
NOW = datetime(2026, 4, 1, tzinfo=UTC)
ORDER = {"type": "order", "id": "o1", "at": "2026-03-01T12:00:00Z", "subtotal": "1000"}


def redemption(rid: str, coupon: str, **moments: str) -> dict[str, Any]:
    return {
        "type": "redemption",
        "id": rid,
        "at": "2026-03-05T00:00:00Z",
        "program": "ten-off",
        "points": 100,
        "coupon": coupon,
    } | moments


def problems(*activity: dict[str, Any]) -> list[tuple[str, str, str]]:
    with pytest.raises(SnapshotError) as refused:
        ENGINE.evaluate({"customer": {"id": "c1"}, "activity": [ORDER, *activity]}, now=NOW)
    return [(p.code, p.path, p.message) for p in refused.value.problems]


def test_a_coupon_revoked_before_its_redemption() -> None:
    # 18:30 on 4 March in New York is 23:30 UTC: half an hour before the redemption.
    found = problems(redemption("rd1", "X", revoked_at="2026-03-04T18:30:00-05:00"))
    assert found == [
        (
            "RE640",
            "$.activity[1].revoked_at",
            "coupon `X` of redemption `rd1` is revoked at 2026-03-04T23:30:00+00:00, "
            "before it was redeemed at 2026-03-05T00:00:00+00:00",
        )
    ]


def test_a_coupon_used_before_its_redemption() -> None:
    found = problems(redemption("rd1", "X", used_at="2026-03-04T00:00:00Z"))
    assert found == [
        (
            "RE640",
            "$.activity[1].used_at",
            "coupon `X` of redemption `rd1` is used at 2026-03-04T00:00:00+00:00, "
            "before it was redeemed at 2026-03-05T00:00:00+00:00",
        )
    ]


def test_a_used_coupon_cannot_be_revoked() -> None:
    # Seed 004: only unused coupons can be revoked (their points return).
    found = problems(
        redemption("rd2", "Y", used_at="2026-03-06T00:00:00Z", revoked_at="2026-03-07T00:00:00Z")
    )
    assert found == [
        (
            "RE640",
            "$.activity[1].revoked_at",
            "coupon `Y` of redemption `rd2` is revoked at 2026-03-07T00:00:00+00:00, after it "
            "was used at 2026-03-06T00:00:00+00:00: only an unused coupon can be revoked",
        )
    ]


def test_a_revoked_coupon_cannot_be_used() -> None:
    found = problems(
        redemption("rd2", "Y", revoked_at="2026-03-06T00:00:00Z", used_at="2026-03-07T00:00:00Z")
    )
    assert found == [
        (
            "RE640",
            "$.activity[1].used_at",
            "coupon `Y` of redemption `rd2` is used at 2026-03-07T00:00:00+00:00, after it "
            "was revoked at 2026-03-06T00:00:00+00:00: a revoked coupon cannot be used",
        )
    ]


def test_two_redemptions_with_one_coupon_code() -> None:
    found = problems(
        redemption("rd1", "MAPLE-5"),
        {"type": "review", "id": "r1", "at": "2026-03-06T00:00:00Z", "rating": 5},
        redemption("rd5", "MAPLE-5"),
    )
    assert found == [
        (
            "RE641",
            "$.activity[3].coupon",
            "redemption `rd5` gives coupon `MAPLE-5`, which redemption `rd1` already gave",
        )
    ]


@pytest.mark.parametrize("again", ["maple-5", "Maple-5", "MAPLE-5"])
def test_a_coupon_code_given_again_in_another_case_is_the_same_code(again: str) -> None:
    # A checkout takes a discount code in any case: `maple-5` would spend `MAPLE-5` again.
    found = problems(redemption("rd1", "MAPLE-5"), redemption("rd5", again))
    as_written = "" if again == "MAPLE-5" else " (as `MAPLE-5`)"
    assert found == [
        (
            "RE641",
            "$.activity[2].coupon",
            f"redemption `rd5` gives coupon `{again}`, which redemption `rd1` already gave"
            + as_written,
        )
    ]


@settings(max_examples=60, deadline=None)
@given(
    # what codes are written in (Unicode case maps are no equivalence: dotless i upper-cases to I)
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1),
    st.sampled_from([str.upper, str.lower, str.swapcase, str.title]),
)
def test_any_code_in_another_case_is_a_repeat(code: str, case: Any) -> None:
    again = case(code)
    found = problems(redemption("rd1", code), redemption("rd5", again))
    assert [(c, p) for c, p, _ in found] == [("RE641", "$.activity[2].coupon")]


def test_the_tester_snapshot_reports_every_problem_once() -> None:
    found = problems(
        redemption("rd1", "X", revoked_at="2026-03-04T00:00:00Z"),
        redemption("rd2", "Y", used_at="2026-03-06T00:00:00Z", revoked_at="2026-03-07T00:00:00Z"),
        redemption("rd5", "X"),
    )
    assert [(code, path) for code, path, _ in found] == [
        ("RE640", "$.activity[1].revoked_at"),
        ("RE640", "$.activity[2].revoked_at"),
        ("RE641", "$.activity[3].coupon"),
    ]


def test_possible_coupons_are_accepted() -> None:
    # Used or revoked at the moment of the redemption itself, or later, each alone.
    snapshot = {
        "customer": {"id": "c1"},
        "activity": [
            ORDER,
            redemption("rd1", "A", used_at="2026-03-05T00:00:00Z"),
            redemption("rd2", "B", revoked_at="2026-03-05T00:00:00+00:00"),
            redemption("rd3", "C", used_at="2026-03-20T00:00:00Z"),
        ],
    }
    result = ENGINE.evaluate(snapshot, now=NOW).to_json()
    assert [c["status"] for c in result["coupons"]] == ["used", "revoked", "used"]


def test_the_problems_are_the_same_from_json_text() -> None:
    # The command line reads JSON text (a faster reader): the same checks run after it.
    text = (
        '{"customer": {"id": "c1"}, "activity": ['
        '{"type": "order", "id": "o1", "at": "2026-03-01T12:00:00Z", "subtotal": "10"},'
        '{"type": "redemption", "id": "rd1", "at": "2026-03-05T00:00:00Z", "program": "ten-off",'
        ' "points": 100, "coupon": "X", "used_at": "2026-03-01T00:00:00Z"}]}'
    )
    with pytest.raises(SnapshotError) as refused:
        ENGINE.read_snapshot_text(text)
    assert [(p.code, p.path) for p in refused.value.problems] == [
        ("RE640", "$.activity[1].used_at"),
    ]


def test_the_later_redemption_of_a_coupon_is_blamed_whatever_the_array_order() -> None:
    # The host sent the April redemption first: rd-late is the one that gave MAPLE-5 again,
    # not rd1 of 5 March (the engine replays activity in time order, then by id).
    late = redemption("rd-late", "MAPLE-5") | {"at": "2026-03-10T09:00:00Z"}
    found = problems(late, redemption("rd1", "MAPLE-5"))
    assert found == [
        (
            "RE641",
            "$.activity[1].coupon",
            "redemption `rd-late` gives coupon `MAPLE-5`, which redemption `rd1` already gave",
        )
    ]
    # At one moment, the id decides: `rd0` < `rd9`.
    found = problems(redemption("rd9", "MAPLE-5"), redemption("rd0", "MAPLE-5"))
    assert [message for _, _, message in found] == [
        "redemption `rd9` gives coupon `MAPLE-5`, which redemption `rd0` already gave"
    ]
