"""The host's feed-back loop with the history revealed out of time order: webhooks arrive late
(an order placed at 9:58 may be sent after one placed at 10:00 was granted) and an order may be
refunded several times (the snapshot shows the cumulative refund, dated at the latest one).
Evaluated step by step with the carried-out keys fed back, the engine never pays more than a
`limit` allows, takes back for each order exactly what one evaluation of the final history
takes back (never twice), and its balance is the host's."""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruleengine import load_ruleset
from ruleengine.engine.engine import Engine

ZONE = ZoneInfo("America/Toronto")
RULES = """\
version: 1
program: feedback
currency: CAD
timezone: America/Toronto
earning:
  - id: per-dollar
    name: A point per dollar
    on: order
    points: floor(order.subtotal)
  - id: double-weekend
    name: Three points per two dollars (rounding differs from per-dollar)
    on: order
    points: floor(order.subtotal * 3 / 2)
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
  - id: reviews
    name: Two reviews a week
    on: review
    limit: {times: 2, per: week}
    points: 20
  - id: welcome
    name: Signing up (once per customer by default)
    on: signup
    points: 100
milestones:
  - id: win-back
    name: Win back (once per spell without orders)
    type: inactivity
    steps:
      - {target: 4d, reward: {rewards: [{points: 7}]}}
      - {target: 9d, reward: {rewards: [{points: 11}]}}
  - id: big-earner
    name: 900 points earned
    type: points_earned
    target: 900
    reward: {rewards: [{points: 90}]}
tiers:
  basis: amount_spent
  period: rolling_12mo
  levels:
    - {id: member, name: Member, threshold: 0}
    - {id: gold, name: Gold, threshold: 150, reward: {rewards: [{points: 30}]}}
    - {id: platinum, name: Platinum, threshold: 300, reward: {rewards: [{points: 60}]}}
"""
ENGINE = Engine(load_ruleset(RULES))
START = datetime(2026, 2, 23, 5, tzinfo=UTC)
CUSTOMER = {"id": "c1"}
EXAMPLES = int(os.environ.get("RULEENGINE_FUZZ_EXAMPLES", "300"))

hours = st.integers(min_value=0, max_value=24 * 20)
delays = st.one_of(st.just(0), st.integers(1, 24 * 6))  # how late the webhook arrives


@st.composite
def histories(draw: Any) -> list[dict[str, Any]]:
    """Activity, each with `arrives` (when the host learns of it) and, for orders, `refunds`:
    [(moment, cumulative amount or None for "the whole order")], in time order."""
    activity: list[dict[str, Any]] = []
    for number in range(draw(st.integers(0, 4))):
        at = START + timedelta(hours=draw(hours))
        cents = draw(st.integers(101, 20000))
        order: dict[str, Any] = {
            "type": "order",
            "id": f"o{number}",
            "at": at,
            "subtotal": Decimal(cents) / 100,
            "arrives": at + timedelta(hours=draw(delays)),
            "refunds": [],
        }
        amounts = sorted(set(draw(st.lists(st.integers(1, cents), max_size=3))))
        moment = at
        for amount in amounts:
            moment += timedelta(hours=draw(st.integers(1, 24 * 8)))
            whole = amount == cents and draw(st.booleans())
            order["refunds"].append((moment, None if whole else Decimal(amount) / 100))
        activity.append(order)
    for kind, prefix, count in (("website_visit", "v", 6), ("review", "r", 6), ("signup", "s", 2)):
        for number in range(draw(st.integers(0, count))):
            at = START + timedelta(hours=draw(hours))
            entry = {"type": kind, "id": f"{prefix}{number}", "at": at}
            entry["arrives"] = at + timedelta(hours=draw(delays))
            activity.append(entry | ({"rating": 4} if kind == "review" else {}))
    return activity


def known_at(activity: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The snapshot's activity at `now`: what has arrived, each order with its refund so far."""
    known = []
    for entry in activity:
        if entry["arrives"] > now:
            continue
        record = {k: v for k, v in entry.items() if k not in ("arrives", "refunds")}
        record["at"] = entry["at"].isoformat()
        if entry["type"] == "order":
            record["subtotal"] = str(entry["subtotal"])
            refunds = [r for r in entry["refunds"] if r[0] <= now]
            if refunds:
                moment, amount = refunds[-1]
                record["refunded_at"] = moment.isoformat()
                if amount is not None:
                    record["refunded_amount"] = str(amount)
        known.append(record)
    return known


def period(rule: str, at: datetime) -> tuple[str, date | int]:
    local = at.astimezone(ZONE).date()
    if rule == "daily-visit":
        return rule, local
    if rule == "reviews":
        return rule, local - timedelta(days=local.weekday())
    return rule, 0


LIMITS = {"first-order": 1, "welcome": 1, "daily-visit": 1, "reviews": 2}


def totals(decisions: list[dict[str, Any]]) -> tuple[Counter[tuple[str, str]], Counter[Any]]:
    """Points taken back per (rule, order), and grants per limit period."""
    reversed_points: Counter[tuple[str, str]] = Counter()
    slots: Counter[Any] = Counter()
    for decision in decisions:
        points = decision["rewards"][0]["value"]
        if decision["rule"] in ("win-back", "big-earner", "tiers"):
            continue
        if decision["status"] == "reversed":
            reversed_points[decision["rule"], decision["qualifying"]] += -points
        elif decision["rule"] in LIMITS:
            slots[period(decision["rule"], datetime.fromisoformat(decision["achieved_at"]))] += 1
    return reversed_points, slots


@settings(
    max_examples=max(200, EXAMPLES),
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(activity=histories(), steps=st.lists(st.integers(1, 24 * 50), min_size=1, max_size=10))
def test_fed_back_step_by_step_pays_and_takes_back_what_one_evaluation_does(
    activity: list[dict[str, Any]], steps: list[int]
) -> None:
    final = START + timedelta(hours=24 * 51)
    moments = [*sorted({START + timedelta(hours=h) for h in steps}), final]
    granted: list[str] = []
    carried_out: list[dict[str, Any]] = []
    host_balance = 0
    result: dict[str, Any] = {}
    for now in moments:
        snapshot = {"customer": CUSTOMER, "activity": known_at(activity, now), "granted": granted}
        result = ENGINE.evaluate(snapshot, now=now, explain=True).to_json()
        for decision in result["decisions"]:
            assert decision["key"] not in granted, f"{decision['key']} decided twice"
            granted.append(decision["key"])
            carried_out.append(decision)
            host_balance += decision["rewards"][0]["value"]
        # The engine's balance is the host's at every step: what it paid less what it took.
        assert result["balance"]["active"] == host_balance
        _, slots = totals(carried_out)
        for (rule, _), used in slots.items():
            assert used <= LIMITS[rule], (rule, slots)
    final_activity = known_at(activity, final)
    once = ENGINE.evaluate({"customer": CUSTOMER, "activity": final_activity}, now=final).to_json()
    stepwise_reversed, stepwise_slots = totals(carried_out)
    once_reversed, once_slots = totals(once["decisions"])
    assert stepwise_slots == once_slots  # as many slots used in each period, maybe by others
    # Rules without a limit grant the same occasions either way: the same reversals in total.
    assert {k: v for k, v in stepwise_reversed.items() if k[0] not in LIMITS} == {
        k: v for k, v in once_reversed.items() if k[0] not in LIMITS
    }
    # A limited rule may have paid a different occasion (the one granted first holds the
    # slot): each grant the host carried out is taken back as one evaluation that knows only
    # the grants (not the reversals) takes it back.
    grants = [d["key"] for d in carried_out if d["status"] == "granted"]
    snapshot = {"customer": CUSTOMER, "activity": final_activity, "granted": grants}
    known_grants = ENGINE.evaluate(snapshot, now=final).to_json()
    assert stepwise_reversed == totals(known_grants["decisions"])[0]
    assert result["balance"] == known_grants["balance"]
