"""Evaluating a growing history step by step, feeding back the granted keys each time, grants
exactly the same rewards as evaluating the final history once (the "as it happened" rule)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruleengine import load_ruleset
from ruleengine.engine.engine import Engine

RULES = """\
version: 1
program: replay
currency: USD
timezone: America/New_York
earning:
  - id: per-dollar
    name: Points per dollar
    on: order
    points: floor(order.subtotal)
    pending_days: 7
  - id: first-order
    name: First order bonus
    on: order
    when: stats.orders_count == 1
    points: 50
  - id: welcome-month
    name: Bonus in the first month after signing up
    on: order
    when: customer.created_at != null and days_since(customer.created_at) <= 30
    points: 20
  - id: gold-bonus
    name: Gold members earn 5 more per order (the tier as it happened, with `tiers`)
    on: order
    when: customer.tier == "gold"
    points: 5
  - id: daily-review
    name: One review a day
    on: review
    points: 10
    limit: {times: 1, per: day}
milestones:
  - id: orders
    name: Order tiers
    type: orders_count
    order_requirements: {min_subtotal: 20, refund_hold_days: 10}
    steps:
      - {target: 2, reward: {rewards: [{points: 100}]}}
      - {target: 4, reward: {rewards: [{store_credit: 5}]}}
  - id: baskets
    name: Two orders of at least 3 items
    type: orders_count
    target: 2
    order_requirements: {min_items: 3, refund_hold_days: 3}
    reward: {rewards: [{points: 40}]}
  - id: spend
    name: Spend 150
    type: amount_spent
    target: 150
    reward: {rewards: [{discount_amount: 10}]}
  - id: journey
    name: Buy, review, refer
    type: mixed
    active: {from: 2026-01-01, until: 2026-12-31}
    order_requirements: {refund_hold_days: 5}
    steps:
      - {type: orders_count, target: 1, reward: {rewards: [{points: 10}]}}
      - type: reviews_count
        target: 2
        reward: {logic: customer_picks, pick: 1, rewards: [{free_shipping: true}, {points: 25}]}
      - {type: referrals_count, target: 1, reward: {rewards: [{points: 50}]}}
  - id: buy-again
    name: Buy, review, buy again, spend
    type: mixed
    steps:
      - {type: orders_count, target: 2, reward: {rewards: [{points: 10}]}}
      - {type: reviews_count, target: 1, reward: {rewards: [{points: 20}]}}
      - {type: orders_count, target: 2, reward: {rewards: [{points: 30}]}}
      - {type: amount_spent, target: 60, reward: {rewards: [{store_credit: 5}]}}
  - id: subscriber
    name: Third billing
    type: subscription_cycles
    target: 3
    reward: {rewards: [{free_gift: {product: mug}}]}
  - id: points
    name: 300 points earned
    type: points_earned
    target: 300
    reward: {rewards: [{points: 30}]}
  - id: win-back
    name: Win back
    type: inactivity
    steps:
      - {target: 20d, reward: {rewards: [{points: 5}]}}
      - {target: 1mo, reward: {rewards: [{points: 15}]}}
"""

ENGINE = Engine(load_ruleset(RULES))
START = datetime(2025, 12, 20, tzinfo=UTC)
EXAMPLES = int(os.environ.get("RULEENGINE_FUZZ_EXAMPLES", "300"))
CUSTOMER = {"id": "c1", "created_at": "2026-01-10T00:00:00Z"}

hours = st.integers(min_value=0, max_value=24 * 200)


# Ids are free text (issue 17, item 11): an order may be called `o1/reversal`, the key suffix of
# another order's reversal, or hold `%` and `/` in any arrangement; keys must stay unique.
id_texts = st.one_of(
    st.sampled_from(["o0", "o1", "o0/reversal", "o1/reversal", "1", "2026", "a/b", "a%2Fb", "%"]),
    # Spaces inside an id are fine; an id of only spaces is refused (RE610).
    st.text(alphabet="o01/%2Fr ", min_size=1, max_size=12).filter(str.strip),
)


def free_ids(draw: Any, prefix: str, count: int) -> list[str]:
    """`count` distinct ids of one activity type: plain (`o3`) or free text."""
    texts = draw(st.lists(id_texts, min_size=count, max_size=count, unique=True))
    ids = [text if draw(st.booleans()) else f"{prefix}{n}" for n, text in enumerate(texts)]
    if count >= 2 and draw(st.integers(0, 2)):  # one id is another's key suffix, often
        ids[1] = f"{ids[0]}/{draw(st.sampled_from(['reversal', 'reversal', '1', '']))}"
    return ids


def unique(ids: list[str]) -> list[str]:
    """The ids with any repeat made distinct again (a plain id may equal a free one)."""
    seen: set[str] = set()
    result = []
    for text in ids:
        while text in seen:
            text += "~"
        seen.add(text)
        result.append(text)
    return result


@st.composite
def histories(draw: Any) -> list[dict[str, Any]]:
    activity: list[dict[str, Any]] = []
    count = draw(st.integers(0, 8))
    order_ids = unique(free_ids(draw, "o", count))
    for number in range(count):
        at = START + timedelta(hours=draw(hours))
        order: dict[str, Any] = {
            "type": "order",
            "id": order_ids[number],
            "at": at.isoformat(),
            "subtotal": str(Decimal(draw(st.integers(100, 9000))) / 100),
        }
        lines = draw(st.lists(st.one_of(st.none(), st.integers(0, 3)), max_size=3))
        if lines:  # a line without `quantity` is one item; an order may list no items
            order["items"] = [
                {"product_id": f"p{i}", "price": "1.00"}
                | ({} if quantity is None else {"quantity": quantity})
                for i, quantity in enumerate(lines)
            ]
        if draw(st.booleans()) and draw(st.booleans()):
            # Soon (within a refund hold) or long after, when later journey steps have begun.
            late = draw(st.booleans())
            refund_after = timedelta(hours=draw(st.integers(1, 24 * (120 if late else 30))))
            order["refunded_at"] = (at + refund_after).isoformat()
            if draw(st.booleans()):
                order["refunded_amount"] = str(Decimal(order["subtotal"]) / 2)
        activity.append(order)
    count = draw(st.integers(0, 5))
    review_ids = unique(free_ids(draw, "r", count))
    for number in range(count):
        activity.append(
            {
                "type": "review",
                "id": review_ids[number],
                "rating": 5,
                "at": (START + timedelta(hours=draw(hours))).isoformat(),
            }
        )
    for number in range(draw(st.integers(0, 3))):
        at = START + timedelta(hours=draw(hours))
        converted = draw(st.one_of(st.none(), st.integers(1, 24 * 40)))
        activity.append(
            {
                "type": "referral",
                "id": f"f{number}",
                "at": at.isoformat(),
                "converted_at": None
                if converted is None
                else (at + timedelta(hours=converted)).isoformat(),
            }
        )
    for number in range(draw(st.integers(0, 5))):
        activity.append(
            {
                "type": "subscription_billing",
                "id": f"b{number}",
                "subscription_id": draw(st.sampled_from(["s1", "s2"])),
                "at": (START + timedelta(hours=draw(hours))).isoformat(),
            }
        )
    for number in range(draw(st.integers(0, 4))):
        activity.append(
            {
                "type": "points_earned",
                "id": f"p{number}",
                "points": draw(st.integers(0, 200)),
                "at": (START + timedelta(hours=draw(hours))).isoformat(),
            }
        )
    return activity


def known_at(activity: list[dict[str, Any]], moment: datetime) -> list[dict[str, Any]]:
    """The history as a host would have sent it at `moment`: no later activity, refunds or
    conversions."""
    known = []
    for entry in activity:
        if datetime.fromisoformat(entry["at"]) > moment:
            continue
        entry = dict(entry)
        for later in ("refunded_at", "converted_at", "revoked_at", "used_at"):
            if entry.get(later) and datetime.fromisoformat(entry[later]) > moment:
                entry[later] = None
                if later == "refunded_at":
                    entry.pop("refunded_amount", None)
        known.append(entry)
    return known


def final_decisions(decisions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Decisions a host carries out (pending ones are informational and not fed back)."""
    return {d["key"]: d for d in decisions if d["status"] != "pending"}


@settings(
    max_examples=max(60, EXAMPLES // 5),
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(activity=histories(), steps=st.lists(st.integers(1, 24 * 260), min_size=1, max_size=8))
def test_step_by_step_equals_once(activity: list[dict[str, Any]], steps: list[int]) -> None:
    final = START + timedelta(hours=24 * 261)
    moments = [*sorted({START + timedelta(hours=h) for h in steps}), final]
    granted: dict[str, dict[str, Any]] = {}
    for moment in moments:
        snapshot = {
            "customer": CUSTOMER,
            "activity": known_at(activity, moment),
            "granted": sorted(granted),
        }
        result = ENGINE.evaluate(snapshot, now=moment).to_json()
        keys = [decision["key"] for decision in result["decisions"]]
        assert len(keys) == len(set(keys)), keys
        for key, decision in final_decisions(result["decisions"]).items():
            assert key not in granted, f"{key} decided twice"
            granted[key] = decision
    once = ENGINE.evaluate({"customer": CUSTOMER, "activity": activity}, now=final)
    assert granted == final_decisions(once.to_json()["decisions"])


EXPIRY_POLICIES = (
    "{policy: rolling, after: 60d, warn_before: [20d, 3d]}",
    "{policy: per_award, after: 45d, warn_before: [10d]}",
    '{policy: fixed_date, on: "03-31", warn_before: [30d, 1w]}',
)
# Each ledger engine has tiers too, one basis and period each, so the replay covers them: the
# `tier_change` decisions (with an entry reward), and `gold-bonus` reading the tier as it was.
TIERS = (
    "{basis: points_earned, period: rolling_12mo, downgrade: end_of_period, levels: "
    "[{id: member, name: Member, threshold: 0}, "
    "{id: gold, name: Gold, threshold: 150, reward: {rewards: [{points: 15}]}}]}",
    "{basis: amount_spent, period: calendar_year, downgrade: end_of_period, levels: "
    "[{id: member, name: Member, threshold: 0}, {id: gold, name: Gold, threshold: 120.50}]}",
    "{basis: orders_count, period: lifetime, order_requirements: {refund_hold_days: 5}, levels: "
    "[{id: member, name: Member, threshold: 0}, "
    "{id: gold, name: Gold, threshold: 2, reward: {rewards: [{points: 20}]}}]}",
)
LEDGER_ENGINES = [
    Engine(
        load_ruleset(
            RULES
            + f"points:\n  expiry: {policy}\n"
            + "redeeming:\n"
            + "  - {id: five-off, name: Five off, cost: 50, reward: {discount_amount: 5}}\n"
            + f"tiers: {tiers}\n"
        )
    )
    for policy, tiers in zip(EXPIRY_POLICIES, TIERS, strict=True)
]


@st.composite
def ledger_histories(draw: Any) -> list[dict[str, Any]]:
    """Histories with adjustments (both signs), redemptions (some revoked, some used, some
    of a program the rules do not have), and the store's tier changes and recalculations."""
    activity = draw(histories())
    for number in range(draw(st.integers(0, 3))):
        activity.append(
            {
                "type": "adjustment",
                "id": f"a{number}",
                "points": draw(st.integers(-150, 150)),
                "affects_tier": draw(st.booleans()),
                "at": (START + timedelta(hours=draw(hours))).isoformat(),
            }
        )
    for number in range(draw(st.integers(0, 2))):  # the store's own tier changes
        change: dict[str, Any] = {
            "type": "tier_change",
            "id": f"t{number}",
            "tier": draw(st.sampled_from(["member", "gold"])),
            "at": (START + timedelta(hours=draw(hours))).isoformat(),
        }
        if draw(st.booleans()):
            change["tier_points"] = draw(st.integers(0, 300))
        activity.append(change)
    for number in range(draw(st.integers(0, 1))):
        at = START + timedelta(hours=draw(hours))
        activity.append({"type": "tier_recalculation", "id": f"rc{number}", "at": at.isoformat()})
    for number in range(draw(st.integers(0, 4))):
        at = START + timedelta(hours=draw(hours))
        entry: dict[str, Any] = {
            "type": "redemption",
            "id": f"d{number}",
            "program": draw(st.sampled_from(["five-off", "five-off", "gone"])),
            "points": draw(st.integers(1, 120)),
            "coupon": f"C-{number}",
            "at": at.isoformat(),
        }
        later = draw(st.one_of(st.none(), st.integers(1, 24 * 30)))
        if later is not None:
            key = draw(st.sampled_from(["revoked_at", "used_at"]))
            entry[key] = (at + timedelta(hours=later)).isoformat()
        activity.append(entry)
    return activity


LEDGER_FIELDS = ("balance", "expiring", "coupons", "problems", "tier")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    engine=st.sampled_from(LEDGER_ENGINES),
    activity=ledger_histories(),
    steps=st.lists(st.integers(1, 24 * 300), min_size=1, max_size=8),
)
def test_ledger_step_by_step_equals_once(
    engine: Engine, activity: list[dict[str, Any]], steps: list[int]
) -> None:
    """Balances, expirations and warnings replay as they happened: decisions fed back step by
    step are those of one evaluation, and the last step's ledger is the one evaluation's."""
    final = START + timedelta(hours=24 * 301)
    moments = [*sorted({START + timedelta(hours=h) for h in steps}), final]
    granted: dict[str, dict[str, Any]] = {}
    last: dict[str, Any] = {}
    for moment in moments:
        snapshot = {
            "customer": CUSTOMER,
            "activity": known_at(activity, moment),
            "granted": sorted(granted),
        }
        last = engine.evaluate(snapshot, now=moment).to_json()
        for key, decision in final_decisions(last["decisions"]).items():
            assert key not in granted, f"{key} decided twice"
            granted[key] = decision
        balance = last["balance"]
        assert balance["active"] == (
            balance["earned"] + balance["adjusted"] - balance["redeemed"] - balance["expired"]
        )
        assert min(balance["active"], balance["pending"], balance["earned"]) >= 0
    once = engine.evaluate({"customer": CUSTOMER, "activity": activity}, now=final).to_json()
    assert granted == final_decisions(once["decisions"])
    assert {f: last[f] for f in LEDGER_FIELDS} == {f: once[f] for f in LEDGER_FIELDS}


PENDING = Engine(
    load_ruleset(
        "version: 1\nprogram: p\ncurrency: USD\ntimezone: UTC\nearning:\n"
        "  - id: per-dollar\n    name: 2 points per dollar\n    on: order\n"
        "    points: floor(order.subtotal * 2)\n    pending_days: 14\n"
    )
)


def test_a_partial_refund_in_the_pending_period_replays_to_one_net_grant() -> None:
    """Day by day from the order to long after: the pending figure is net of the refund from
    the day it is known, the host is granted the net points once, and never a reversal."""
    order = {"type": "order", "id": "o1", "at": "2026-05-01T10:00:00+00:00", "subtotal": "80.00"}
    order.update(refunded_at="2026-05-05T09:00:00+00:00", refunded_amount="20.00")
    granted: dict[str, dict[str, Any]] = {}
    shown: list[tuple[str, int]] = []
    for number in range(40):
        moment = datetime(2026, 5, 1, 12, tzinfo=UTC) + timedelta(days=number)
        snapshot = {"customer": CUSTOMER, "activity": known_at([order], moment)}
        result = PENDING.evaluate({**snapshot, "granted": sorted(granted)}, now=moment).to_json()
        for decision in result["decisions"]:
            assert decision["key"] == "per-dollar/o1"
            shown.append((decision["status"], decision["rewards"][0]["value"]))
        for key, decision in final_decisions(result["decisions"]).items():
            assert key not in granted, f"{key} decided twice"
            granted[key] = decision
    once = PENDING.evaluate({"customer": CUSTOMER, "activity": [order]}, now=moment).to_json()
    assert granted == final_decisions(once["decisions"])
    assert [d["rewards"][0]["value"] for d in granted.values()] == [120]
    # 160 pending until the refund is known (4 days), then 120 pending, then 120 granted once.
    assert shown == [("pending", 160)] * 4 + [("pending", 120)] * 10 + [("granted", 120)]


def _without_refunds(
    activity: list[dict[str, Any]], placed_before: datetime
) -> list[dict[str, Any]]:
    """The history without the refunds dated after `placed_before` of orders placed before it."""
    kept = []
    for entry in activity:
        refunded = entry.get("refunded_at")
        if (
            entry["type"] == "order"
            and refunded
            and datetime.fromisoformat(entry["at"])
            < placed_before
            < datetime.fromisoformat(refunded)
        ):
            entry = {k: v for k, v in entry.items() if k not in ("refunded_at", "refunded_amount")}
        kept.append(entry)
    return kept


def _journey(result: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return (
        [d for d in result["decisions"] if d["rule"] == "buy-again"],
        [p for p in result["progress"] if p["rule"] == "buy-again"],
    )


@settings(
    max_examples=max(80, EXAMPLES // 4),
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(activity=histories())
def test_refund_only_lowers_the_step_its_order_counted_for(activity: list[dict[str, Any]]) -> None:
    """In a journey, an order placed before a step began never counted for that step (or any
    later one), so its refund, whenever it comes, changes nothing from that step on: the whole
    journey is decided as if the refund never happened."""
    final = START + timedelta(hours=24 * 261)
    result = ENGINE.evaluate({"customer": CUSTOMER, "activity": activity}, now=final).to_json()
    decisions, progress = _journey(result)
    for decision in decisions:  # each achieved step begins the next one
        began = datetime.fromisoformat(decision["achieved_at"])
        again = ENGINE.evaluate(
            {"customer": CUSTOMER, "activity": _without_refunds(activity, began)}, now=final
        ).to_json()
        assert _journey(again) == (decisions, progress), decision["key"]
