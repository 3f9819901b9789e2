"""Engine fuzzing: random valid rulesets and snapshots, checked against the invariants.

For every generated ruleset and customer: no exception escapes; evaluation is deterministic;
decision keys are unique; feeding all decided keys back as `granted` leaves nothing more to
decide; a customer-picks decision never offers fewer rewards than `pick`; money in the JSON is
exact text; every result is valid against `schemas/result.schema.json`. The budget is small in
CI; set RULEENGINE_FUZZ_EXAMPLES for a long run.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import jsonschema
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ruleengine import Engine, load_ruleset
from ruleengine.schema_export import schema_text

EXAMPLES = max(20, int(os.environ.get("RULEENGINE_FUZZ_EXAMPLES", "300")) // 5)
START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 9, 1, tzinfo=UTC)
RESULT_SCHEMA = jsonschema.Draft202012Validator(json.loads(schema_text("result")))

TRIGGERS = [
    "order",
    "review",
    "signup",
    "newsletter_signup",
    "social_follow",
    "website_visit",
    "survey",
    "subscription_order",
    "birthday",
]
CONDITIONS = {
    "order": [
        "order.subtotal >= 20",
        'order.channel in ["online", "pos"]',
        "any(order.items, item.quantity > 1)",
        "stats.orders_count == 1",
    ],
    "review": ["review.rating >= 4", "review.has_photo"],
}
POINTS = {
    "order": [
        "floor(order.subtotal * 5)",
        "10",
        "floor(order.subtotal / 3)",
        'if customer.tier == "gold" then floor(order.subtotal * 10) else 5',
    ],
    "review": ["25", "review.rating * 5"],
}
REWARDS = [
    "{points: 100}",
    "{store_credit: 5}",
    "{discount_amount: 10}",
    "{discount_percentage: 12.5}",
    "{free_shipping: true}",
    '{free_gift: {product: "gid://shopify/Product/1"}}',
]
EXPIRIES = [
    "{policy: rolling, after: 30d, warn_before: [7d]}",
    "{policy: per_award, after: 1y, warn_before: [10d, 1d]}",
    "{policy: fixed_date, on: 06-30, warn_before: [30d]}",
    # Several expiries on one day: each has its own key and warnings.
    "{policy: rolling, after: 1h, warn_before: [30min]}",
]
COUNT_TYPES = [
    "orders_count",
    "reviews_count",
    "referrals_count",
    "subscription_cycles",
    "points_earned",
    "amount_spent",
]


@st.composite
def reward_spec(draw: Any) -> str:
    rewards = draw(st.lists(st.sampled_from(REWARDS), min_size=1, max_size=4))
    if len(rewards) > 1 and draw(st.booleans()):
        pick = draw(st.integers(1, len(rewards)))
        return f"{{logic: customer_picks, pick: {pick}, rewards: [{', '.join(rewards)}]}}"
    return f"{{rewards: [{', '.join(rewards)}]}}"


@st.composite
def rulesets(draw: Any) -> str:
    lines = [
        "version: 1",
        "program: fuzz",
        "currency: USD",
        f"timezone: {draw(st.sampled_from(['UTC', 'America/New_York', 'Asia/Tokyo']))}",
        "earning:",
    ]
    for index in range(draw(st.integers(0, 5))):
        trigger = draw(st.sampled_from(TRIGGERS))
        kind = "order" if trigger in ("order", "subscription_order") else trigger
        lines += [f"  - id: e{index}", f"    name: Earning {index}", f"    on: {trigger}"]
        if kind in CONDITIONS and draw(st.booleans()):
            lines.append(f"    when: '{draw(st.sampled_from(CONDITIONS[kind]))}'")
        points = draw(st.sampled_from(POINTS.get(kind, ["50"])))
        lines.append(f"    points: '{points}'")
        if draw(st.booleans()):
            period = draw(st.sampled_from(["day", "week", "month", "year", "lifetime"]))
            lines.append(f"    limit: {{times: {draw(st.integers(1, 3))}, per: {period}}}")
        if kind == "order" and draw(st.booleans()):
            lines.append(f"    pending_days: {draw(st.integers(0, 20))}")
        if draw(st.booleans()):
            lines.append(f"    stacking: best\n    priority: {index}")
    lines.append("milestones:")
    for index in range(draw(st.integers(0, 4))):
        lines += [f"  - id: m{index}", f"    name: Milestone {index}"]
        shape = draw(st.sampled_from(["single", "steps", "mixed", "inactivity"]))
        if shape == "inactivity":
            target = draw(st.sampled_from(["20d", "1mo", "6w"]))
            lines += [
                "    type: inactivity",
                f"    target: {target}",
                f"    reward: {draw(reward_spec())}",
            ]
        elif shape == "mixed":
            lines.append("    type: mixed")
            if draw(st.booleans()):
                lines.append(
                    f"    order_requirements: {{min_subtotal: {draw(st.integers(0, 50))},"
                    f" min_items: {draw(st.integers(1, 3))},"
                    f" refund_hold_days: {draw(st.integers(0, 14))}}}"
                )
            lines.append("    steps:")
            for _ in range(draw(st.integers(1, 3))):
                kind = draw(st.sampled_from(COUNT_TYPES))
                lines.append(
                    f"      - {{type: {kind}, target: {draw(st.integers(1, 4))}, "
                    f"reward: {draw(reward_spec())}}}"
                )
        else:
            kind = draw(st.sampled_from(COUNT_TYPES))
            lines.append(f"    type: {kind}")
            targets = sorted(set(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))))
            if shape == "single":
                lines += [f"    target: {targets[0]}", f"    reward: {draw(reward_spec())}"]
            else:
                lines.append("    steps:")
                lines += [
                    f"      - {{target: {t}, reward: {draw(reward_spec())}}}" for t in targets
                ]
        if draw(st.booleans()):
            lines.append("    active: {from: 2026-02-01, until: 2026-07-31}")
    lines += draw(ledger_sections())
    return "\n".join(_empty_sections_as_lists(lines)) + "\n"


@st.composite
def ledger_sections(draw: Any) -> list[str]:
    """Points expiry and a redeeming program, each or neither."""
    lines = []
    if draw(st.booleans()):
        lines.append(f"points:\n  expiry: {draw(st.sampled_from(EXPIRIES))}")
    if draw(st.booleans()):
        lines.append("redeeming:\n  - {id: r1, name: R, cost: 100, reward: {discount_amount: 1}}")
    return lines


def _empty_sections_as_lists(lines: list[str]) -> list[str]:
    """`earning:` with no entries is null, which the format rejects; write `earning: []`."""
    result: list[str] = []
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if line in ("earning:", "milestones:") and not following.startswith("  "):
            line += " []"
        result.append(line)
    return result


moments = st.integers(0, 24 * 240).map(lambda h: START + timedelta(hours=h))


@st.composite
def snapshots(draw: Any) -> dict[str, Any]:
    activity: list[dict[str, Any]] = []
    for n in range(draw(st.integers(0, 10))):
        kind = draw(
            st.sampled_from(
                [
                    "order",
                    "review",
                    "referral",
                    "subscription_billing",
                    "points_earned",
                    "adjustment",
                    "redemption",
                    "signup",
                    "social_follow",
                    "survey",
                ]
            )
        )
        at = draw(moments)
        entry: dict[str, Any] = {"type": kind, "id": f"a{n}", "at": at.isoformat()}
        if kind == "order":
            entry.update(
                subtotal=str(Decimal(draw(st.integers(0, 20000))) / 100),
                channel=draw(st.sampled_from(["online", "pos", None])),
                items=[{"product_id": "p", "quantity": draw(st.integers(0, 3)), "price": "4.50"}],
            )
            if draw(st.booleans()):
                entry["subscription_id"] = "s1"
            if draw(st.integers(0, 3)) == 0:
                entry["refunded_at"] = (at + timedelta(days=draw(st.integers(0, 30)))).isoformat()
        elif kind == "review":
            entry.update(rating=draw(st.integers(1, 5)), has_photo=draw(st.booleans()))
        elif kind == "referral" and draw(st.booleans()):
            entry["converted_at"] = (at + timedelta(days=draw(st.integers(0, 20)))).isoformat()
        elif kind == "subscription_billing":
            entry["subscription_id"] = draw(st.sampled_from(["s1", "s2"]))
        elif kind == "points_earned":
            entry["points"] = draw(st.integers(0, 400))
        elif kind == "adjustment":  # zero included: it must change nothing
            entry["points"] = draw(st.sampled_from([0, 0, 50, -80, 300]))
        elif kind == "redemption":  # r1 may be missing from the ruleset: RE617
            entry.update(program="r1", points=draw(st.integers(1, 300)), coupon=f"C-{n}")
            later = (at + timedelta(days=draw(st.integers(0, 40)))).isoformat()
            entry.update(draw(st.sampled_from([{}, {"used_at": later}, {"revoked_at": later}])))
        activity.append(entry)
    customer = {
        "id": "c1",
        "tier": draw(st.sampled_from(["gold", None])),
        "excluded": draw(st.integers(0, 9)) == 0,
        "birthday": draw(st.sampled_from([None, "1990-08-20", "1992-02-29"])),
    }
    return {"customer": customer, "activity": activity}


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(rules=rulesets(), snapshot=snapshots())
@example(  # a zero adjustment once made a 0-point batch, listed in `expiring` (schema: > 0)
    rules="version: 1\nprogram: z\ncurrency: USD\ntimezone: UTC\nearning:\n"
    "  - {id: e0, name: E, on: order, points: '10'}\n"
    f"points:\n  expiry: {EXPIRIES[1]}\n",
    snapshot={
        "customer": {"id": "c1", "excluded": False},
        "activity": [
            {"type": "order", "id": "o1", "at": "2026-02-01T00:00:00Z", "subtotal": "5"},
            {"type": "adjustment", "id": "a1", "at": "2026-03-01T00:00:00Z", "points": 0},
        ],
    },
)
@example(  # a fixed date passed with nothing active once expired points earned after it
    rules="version: 1\nprogram: z\ncurrency: USD\ntimezone: UTC\nearning:\n"
    "  - {id: e0, name: E, on: order, points: '100'}\n"
    f"points:\n  expiry: {EXPIRIES[2]}\n"
    "redeeming:\n  - {id: r1, name: R, cost: 100, reward: {discount_amount: 1}}\n",
    snapshot={
        "customer": {"id": "c1", "excluded": False},
        "activity": [
            {"type": "order", "id": "o1", "at": "2026-02-01T00:00:00Z", "subtotal": "5"},
            {"type": "redemption", "id": "r", "at": "2026-02-02T00:00:00Z"}
            | {"program": "r1", "points": 100, "coupon": "C-1"},
            {"type": "adjustment", "id": "a1", "at": "2026-07-10T00:00:00Z", "points": 300},
        ],
    },
)
def test_engine_invariants(rules: str, snapshot: dict[str, Any]) -> None:
    engine = Engine(load_ruleset(rules))
    result = engine.evaluate(snapshot, now=NOW, explain=True)
    _ledger_as_it_happened(engine, snapshot, result.to_json())
    output = result.to_json()
    assert not list(RESULT_SCHEMA.iter_errors(output)), list(RESULT_SCHEMA.iter_errors(output))
    assert engine.evaluate(snapshot, now=NOW, explain=True).dumps() == result.dumps()
    keys = [d["key"] for d in output["decisions"]]
    assert len(keys) == len(set(keys)), keys
    for decision in output["decisions"]:
        if decision["logic"] == "customer_picks":
            assert len(decision["rewards"]) >= decision["pick"] >= 1
        for reward in decision["rewards"]:
            if reward["type"] in ("store_credit", "discount_amount"):
                assert isinstance(reward["value"], str)
                Decimal(reward["value"])
    if snapshot["customer"]["excluded"]:
        # No rule grants them anything; points the store sent (adjustments) still expire.
        ledger = ("points_expired", "expiry_warning")
        assert [d["key"] for d in output["decisions"] if d["kind"] not in ledger] == []
    carried_out = [d["key"] for d in output["decisions"] if d["status"] != "pending"]
    again = engine.evaluate({**snapshot, "granted": carried_out}, now=NOW).to_json()
    assert all(d["status"] == "pending" for d in again["decisions"]), again["decisions"]


def _ledger_as_it_happened(engine: Engine, snapshot: dict[str, Any], output: Any) -> None:
    """The timeline is in time order, and no expiry or warning takes points before they
    existed: the balance at its moment (before what happened then) covers its points."""
    entries = engine.timeline(snapshot, now=NOW).entries
    moments = [entry.at for entry in entries]
    assert moments == sorted(moments), [(e.at, e.text) for e in entries]
    for decision in output["decisions"]:
        if decision["kind"] not in ("points_expired", "expiry_warning"):
            continue
        at = datetime.fromisoformat(decision["achieved_at"])
        before = [e.balance for e in entries if e.at < at]
        balance = max([before[-1] if before else 0] + [e.balance for e in entries if e.at == at])
        assert decision["rewards"][0]["value"] <= balance, (decision, entries)
