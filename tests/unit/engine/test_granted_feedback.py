"""The host's feed-back loop (evaluate, carry out the decisions, send their keys back in
`granted`, evaluate again later) with refunds that grow and activity that arrives late: the
host takes back what one final evaluation takes back, and a `limit` is never exceeded."""

from __future__ import annotations

import decimal
import math
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ruleengine import load_ruleset
from ruleengine.engine.engine import Engine
from ruleengine.engine.granted_keys import TakenBack, reversal_key, share

ORDER_POINTS = Engine(
    load_ruleset(
        """\
version: 1
program: maple
currency: USD
timezone: America/Toronto
earning:
  - id: order-points
    name: A point per dollar
    on: order
    points: floor(order.subtotal)
milestones:
  - id: points-club
    name: 1,000 points earned
    type: points_earned
    target: 1000
    reward: {rewards: [{store_credit: 10}]}
"""
    )
)

CAPPED = Engine(
    load_ruleset(
        """\
version: 1
program: maple
currency: USD
timezone: America/Toronto
earning:
  - id: first-order
    name: First order bonus
    on: order
    limit: {times: 1, per: lifetime}
    points: 500
  - id: daily-visit
    name: A visit a day
    on: website_visit
    limit: {times: 1, per: day}
    points: 5
"""
    )
)

CUSTOMER = {"id": "nadia", "created_at": "2026-01-05T15:00:00Z"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def evaluate(
    engine: Engine, activity: list[dict[str, Any]], granted: list[str], now: str
) -> dict[str, Any]:
    snapshot = {"customer": CUSTOMER, "activity": activity, "granted": granted}
    return engine.evaluate(snapshot, now=at(now), explain=True).to_json()


def carried_out(result: dict[str, Any], granted: list[str]) -> list[tuple[str, int]]:
    """The decisions a host carries out, fed back into `granted`: (key, points)."""
    done = []
    for decision in result["decisions"]:
        if decision["status"] != "pending":
            granted.append(decision["key"])
            done.append((decision["key"], decision["rewards"][0]["value"]))
    return done


def reasons(result: dict[str, Any], activity: str) -> list[tuple[str, str]]:
    return [
        (e["status"], " ".join(e["reasons"]))
        for e in result["explanations"]
        if e.get("activity") == activity
    ]


def test_each_partial_refund_of_one_order_is_taken_back_once() -> None:
    """A $100 order refunded $10, then $60 in all, then all of it: the host takes back 10,
    then 50, then 40, as one evaluation of the final history takes back 100."""
    order = {"type": "order", "id": "o1", "at": "2026-03-01T15:00:00Z", "subtotal": "100.00"}
    granted: list[str] = []
    steps = [
        ("2026-03-02T00:00:00Z", None, None),
        ("2026-03-10T00:00:00Z", "2026-03-09T16:00:00Z", "10.00"),
        ("2026-03-20T00:00:00Z", "2026-03-19T16:00:00Z", "60.00"),
        ("2026-03-30T00:00:00Z", "2026-03-29T16:00:00Z", "100.00"),
    ]
    done, balances, progress = [], [], []
    for now, refunded_at, amount in steps:
        if refunded_at is not None:
            order |= {"refunded_at": refunded_at, "refunded_amount": amount}
        result = evaluate(ORDER_POINTS, [order], granted, now)
        done.append(carried_out(result, granted))
        balances.append(result["balance"]["active"])
        progress.append(result["progress"][0]["current"])
    assert done == [
        [("order-points/o1", 100)],
        [("order-points/o1/reversal/10.00", -10)],
        [("order-points/o1/reversal/60.00", -50)],
        [("order-points/o1/reversal", -40)],
    ]
    assert balances == [100, 90, 40, 0]  # the engine's balance is the host's at every step
    assert progress == [100, 90, 40, 0]  # and so is the points earned toward the milestone
    once = evaluate(ORDER_POINTS, [order], [], steps[-1][0])
    assert [(d["key"], d["rewards"][0]["value"]) for d in once["decisions"]] == [
        ("order-points/o1", 100),
        ("order-points/o1/reversal", -100),
    ]
    again = evaluate(ORDER_POINTS, [order], granted, "2026-04-30T00:00:00Z")
    assert again["decisions"] == []
    assert reasons(again, "o1")[1] == (
        "already_granted",
        "-100 points for the refund of order o1; already taken back "
        "(`order-points/o1/reversal` is in `granted`)",
    )


def test_the_reversal_says_what_was_taken_back_before() -> None:
    """The explanation, the ledger's timeline and the balance agree with the host's books."""
    order = {
        "type": "order",
        "id": "o1",
        "at": "2026-03-01T15:00:00Z",
        "subtotal": "100.00",
        "refunded_at": "2026-03-19T16:00:00Z",
        "refunded_amount": "60.00",
    }
    granted = ["order-points/o1", "order-points/o1/reversal/10.00"]
    result = evaluate(ORDER_POINTS, [order], granted, "2026-03-20T00:00:00Z")
    assert reasons(result, "o1")[1] == (
        "reversed",
        "50 points reversed: order o1 was refunded; 60 of its 100 points are taken back in "
        "total, 10 already were (`order-points/o1/reversal/10.00` is in `granted`)",
    )
    assert result["balance"]["active"] == 40
    snapshot = {"customer": CUSTOMER, "activity": [order], "granted": granted}
    history = ORDER_POINTS.timeline(snapshot, now=at("2026-03-20T00:00:00Z"))
    assert [(e.key, e.points, e.balance) for e in history.entries] == [
        ("order-points/o1", 100, 100),
        ("order-points/o1/reversal/60.00", -60, 40),
    ]


def test_a_reversal_key_without_a_total_took_back_every_point() -> None:
    """`<rule>/<id>/reversal` (the key of a full refund, and the only reversal key before
    numbered ones) is never followed by another reversal; the ledger still counts the refund
    the snapshot shows."""
    order = {
        "type": "order",
        "id": "o1",
        "at": "2026-03-01T15:00:00Z",
        "subtotal": "100.00",
        "refunded_at": "2026-03-19T16:00:00Z",
        "refunded_amount": "60.00",
    }
    granted = ["order-points/o1", "order-points/o1/reversal"]
    result = evaluate(ORDER_POINTS, [order], granted, "2026-03-20T00:00:00Z")
    assert result["decisions"] == []
    assert result["balance"]["active"] == 40
    assert reasons(result, "o1")[1] == (
        "already_granted",
        "-60 points for the refund of order o1; already taken back "
        "(`order-points/o1/reversal` is in `granted`, a reversal key without an amount: "
        "every point)",
    )


def test_reversal_keys_name_the_refund_they_bring_the_order_to() -> None:
    assert reversal_key("order-points/o1", Decimal("60")) == "order-points/o1/reversal/60.00"
    assert reversal_key("order-points/o1", Decimal("12.3450")) == "order-points/o1/reversal/12.345"
    assert reversal_key("order-points/o1", None) == "order-points/o1/reversal"
    taken = TakenBack(
        frozenset(
            {
                "order-points/o1/reversal/10.00",
                "order-points/o1/reversal/9.50",
                "order-points/o1/reversal/60.00",
                "order-points/o1%2Freversal%2F90.00",  # the award of an order `o1/reversal/90.00`
                "order-points/o2/reversal/+5.00",  # not an amount the engine writes
                "order-points/o2/reversal/05.00",
                "order-points/o2/reversal/5.000",
                "order-points/o2/reversal/NaN",
                "order-points/o2/reversal/1" + "0" * 5000 + ".00",  # no amount has 5,001 digits
                "order-points/o3/reversal",
            }
        )
    )
    assert taken.largest("order-points/o1") == (Decimal("60.00"), "order-points/o1/reversal/60.00")
    assert taken.largest("order-points/o2") is None
    assert taken.largest("order-points/o1%2Freversal") is None
    assert taken.fully("order-points/o3") == "order-points/o3/reversal"
    assert taken.fully("order-points/o1") is None


def test_late_activity_does_not_take_a_limit_slot_the_host_paid() -> None:
    """Order o2 and visit v2 at 10:00 are granted; the webhooks of o1 and v1, placed at 9:58
    the same day, arrive later. The lifetime bonus and the daily visit stay paid once."""
    o2 = {"type": "order", "id": "o2", "at": "2026-03-01T15:00:00Z", "subtotal": "40.00"}
    v2 = {"type": "website_visit", "id": "v2", "at": "2026-03-01T15:00:00Z", "url": "/"}
    o1 = {"type": "order", "id": "o1", "at": "2026-03-01T14:58:00Z", "subtotal": "25.00"}
    v1 = {"type": "website_visit", "id": "v1", "at": "2026-03-01T14:58:00Z", "url": "/"}
    granted: list[str] = []
    first = evaluate(CAPPED, [o2, v2], granted, "2026-03-01T15:01:00Z")
    assert carried_out(first, granted) == [("daily-visit/v2", 5), ("first-order/o2", 500)]
    late = evaluate(CAPPED, [o2, v2, o1, v1], granted, "2026-03-01T15:05:00Z")
    assert late["decisions"] == []
    assert late["balance"]["active"] == 505  # the host's: o2's bonus and v2's visit
    assert reasons(late, "o1") == [
        (
            "not_eligible",
            "the limit of 1 in total was already reached: used by `first-order/o2`, "
            "already granted",
        )
    ]
    assert reasons(late, "v1") == [
        (
            "not_eligible",
            "the limit of 1 per day was already reached: used by `daily-visit/v2`, already granted",
        )
    ]
    # Without `granted`, one evaluation of the same history pays the earliest, as always.
    once = evaluate(CAPPED, [o2, v2, o1, v1], [], "2026-03-01T15:05:00Z")
    assert [d["key"] for d in once["decisions"]] == ["daily-visit/v1", "first-order/o1"]


def test_a_held_slot_is_only_its_own_period() -> None:
    """The visit granted on 1 March (Toronto) holds that day's slot only: a late visit of
    28 February (evening in Toronto, 1 March in UTC) still earns, and so does a second
    visit on 2 March."""
    visits = [
        {"type": "website_visit", "id": "v2", "at": "2026-03-01T15:00:00Z", "url": "/"},
        {"type": "website_visit", "id": "v1", "at": "2026-03-01T03:00:00Z", "url": "/"},
        {"type": "website_visit", "id": "v3", "at": "2026-03-02T15:00:00Z", "url": "/"},
        {"type": "website_visit", "id": "v4", "at": "2026-03-01T16:00:00Z", "url": "/"},
    ]
    result = evaluate(CAPPED, visits, ["daily-visit/v2"], "2026-03-03T00:00:00Z")
    assert [d["key"] for d in result["decisions"]] == ["daily-visit/v1", "daily-visit/v3"]


WIN_BACK = Engine(
    load_ruleset(
        """\
version: 1
program: maple
currency: USD
timezone: America/Toronto
milestones:
  - id: win-back
    name: We miss you
    type: inactivity
    steps:
      - {target: 20d, reward: {rewards: [{points: 50}]}}
"""
    )
)


def test_a_late_order_does_not_pay_a_spell_of_inactivity_twice() -> None:
    """Order o1 on 1 January; on 22 January the host is granted `win-back/1/o1`. Then the
    webhook of o2, placed on 10 January, arrives: the stretch without orders now runs from
    10 January, and when it reaches 20 days it is the one the host already paid for."""
    o1 = {"type": "order", "id": "o1", "at": "2026-01-01T15:00:00Z", "subtotal": "30.00"}
    o2 = {"type": "order", "id": "o2", "at": "2026-01-10T15:00:00Z", "subtotal": "45.00"}
    granted: list[str] = []
    first = evaluate(WIN_BACK, [o1], granted, "2026-01-22T12:00:00Z")
    assert carried_out(first, granted) == [("win-back/1/o1", 50)]
    late = evaluate(WIN_BACK, [o1, o2], granted, "2026-01-23T12:00:00Z")
    assert (late["decisions"], late["balance"]["active"]) == ([], 50)  # the host's balance
    later = evaluate(WIN_BACK, [o1, o2], granted, "2026-02-01T12:00:00Z")
    assert (later["decisions"], later["balance"]["active"]) == ([], 50)
    assert [(e["status"], e["reasons"]) for e in later["explanations"]] == [
        (
            "already_granted",
            [
                "no order for 20d after order o2",
                "already granted as `win-back/1/o1` (in the snapshot's `granted`), for a "
                "spell that an order arriving later cut short",
            ],
        )
    ]
    # One evaluation of the final history pays the spell that began with o2.
    once = evaluate(WIN_BACK, [o1, o2], [], "2026-02-01T12:00:00Z")
    assert [d["key"] for d in once["decisions"]] == ["win-back/1/o2"]


def test_a_spell_paid_under_its_own_key_keeps_its_points_when_a_late_order_arrives() -> None:
    """o1 (1 January) and o0 (25 January) each began a spell the host was paid for; o2 of
    10 January arrives late and cuts o1's short. Both grants stand in the ledger: the host
    paid both, and the engine's balance stays the host's."""
    o1 = {"type": "order", "id": "o1", "at": "2026-01-01T15:00:00Z", "subtotal": "30.00"}
    o0 = {"type": "order", "id": "o0", "at": "2026-01-25T15:00:00Z", "subtotal": "30.00"}
    o2 = {"type": "order", "id": "o2", "at": "2026-01-10T15:00:00Z", "subtotal": "30.00"}
    granted: list[str] = []
    for activity, now in (([o1], "2026-01-22T12:00:00Z"), ([o1, o0], "2026-02-15T12:00:00Z")):
        carried_out(evaluate(WIN_BACK, activity, granted, now), granted)
    assert granted == ["win-back/1/o1", "win-back/1/o0"]
    late = evaluate(WIN_BACK, [o1, o0, o2], granted, "2026-02-16T12:00:00Z")
    assert (late["decisions"], late["balance"]["active"]) == ([], 100)


def tiered(period: str) -> Engine:
    return Engine(
        load_ruleset(
            f"""\
version: 1
program: maple
currency: USD
timezone: America/Toronto
tiers:
  basis: amount_spent
  period: {period}
  levels:
    - {{id: member, name: Member, threshold: 0}}
    - {{id: gold, name: Gold, threshold: 100, reward: {{rewards: [{{points: 200}}]}}}}
"""
        )
    )


def test_a_late_order_does_not_pay_a_tier_entry_twice() -> None:
    """Gold is reached with o2 on 5 March and granted (`tiers/gold/2026-03-05`, 200 points);
    the webhook of o1, placed on 1 March, arrives later: gold was reached on 1 March, and
    that twelve-month period's entry is the one the host already paid."""
    engine = tiered("rolling_12mo")
    o0 = {"type": "order", "id": "o0", "at": "2026-02-20T15:00:00Z", "subtotal": "60.00"}
    o2 = {"type": "order", "id": "o2", "at": "2026-03-05T15:00:00Z", "subtotal": "60.00"}
    o1 = {"type": "order", "id": "o1", "at": "2026-03-01T15:00:00Z", "subtotal": "60.00"}
    granted: list[str] = []
    first = evaluate(engine, [o0, o2], granted, "2026-03-06T12:00:00Z")
    assert carried_out(first, granted) == [("tiers/gold/2026-03-05", 200)]
    late = evaluate(engine, [o0, o2, o1], granted, "2026-03-07T12:00:00Z")
    assert (late["decisions"], late["balance"]["active"], late["tier"]["current"]) == (
        [],
        200,
        "gold",
    )
    once = evaluate(engine, [o0, o2, o1], [], "2026-03-07T12:00:00Z")
    assert [d["key"] for d in once["decisions"]] == ["tiers/gold/2026-03-01"]


def test_a_late_december_order_does_not_pay_the_next_years_entry_again() -> None:
    """Calendar years: gold reached on 3 January 2027 and granted (`tiers/gold/2027`); a
    December order that arrives later makes it 2026's entry, kept into 2027."""
    engine = tiered("calendar_year")
    dec = {"type": "order", "id": "o1", "at": "2026-12-28T15:00:00Z", "subtotal": "60.00"}
    jan = {"type": "order", "id": "o2", "at": "2027-01-03T15:00:00Z", "subtotal": "120.00"}
    granted: list[str] = []
    first = evaluate(engine, [jan], granted, "2027-01-04T12:00:00Z")
    assert carried_out(first, granted) == [("tiers/gold/2027", 200)]
    dec["subtotal"] = "110.00"
    late = evaluate(engine, [jan, dec], granted, "2027-01-05T12:00:00Z")
    assert (late["decisions"], late["balance"]["active"]) == ([], 200)
    once = evaluate(engine, [jan, dec], [], "2027-01-05T12:00:00Z")
    assert [d["key"] for d in once["decisions"]] == ["tiers/gold/2026"]


def test_a_held_slot_counts_in_its_calendar_period() -> None:
    """`limit` periods in the ruleset's zone, each ending where the next begins: a visit
    granted on 31 December (Toronto) holds December's and 2026's slot, not January's."""
    rules = """\
version: 1
program: maple
currency: USD
timezone: America/Toronto
earning:
  - {id: monthly, name: A visit a month, on: website_visit, limit: {times: 1, per: month},
     points: 5}
  - {id: yearly, name: A visit a year, on: website_visit, limit: {times: 1, per: year},
     points: 9}
"""
    engine = Engine(load_ruleset(rules))
    held = {"type": "website_visit", "id": "v2", "at": "2027-01-01T04:30:00Z", "url": "/"}
    december = {"type": "website_visit", "id": "v1", "at": "2026-12-02T15:00:00Z", "url": "/"}
    january = {"type": "website_visit", "id": "v3", "at": "2027-01-01T05:30:00Z", "url": "/"}
    granted = ["monthly/v2", "yearly/v2"]
    result = evaluate(engine, [held, december, january], granted, "2027-01-02T00:00:00Z")
    assert [d["key"] for d in result["decisions"]] == ["monthly/v3", "yearly/v3"]


@given(
    st.integers(min_value=0, max_value=10**30),
    st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False),
    st.decimals(min_value="0.0001", max_value=10**9, places=4, allow_nan=False),
)
def test_a_refund_s_share_is_exact_whatever_the_thread_s_decimal_context(
    points: int, refunded: Decimal, subtotal: Decimal
) -> None:
    expected = (
        points
        if refunded >= subtotal
        else math.floor(Fraction(points) * Fraction(refunded) / Fraction(subtotal))
    )
    with decimal.localcontext(decimal.Context(prec=6)):  # a host's own settings
        assert share(points, refunded, subtotal) == expected
