"""How the earning evaluator groups rules into occasions and orders them.

Each activity is decided once, with every enabled rule on its trigger in file order, in the
total order of occasions (time, then type, then id); birthday rules whose periods start at the
same moment share one occasion. These cases pin what that order decides (limits, stacking and
the order of explanations), and that explaining never changes a decision.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from benchmarks import data

from caseio import ROOT
from ruleengine import load_ruleset
from ruleengine.engine.engine import Engine

NOW = datetime(2026, 3, 1, tzinfo=UTC)
RULES = ROOT / "examples" / "rules"


def engine(rules: str) -> Engine:
    header = "version: 1\nprogram: occasions\ncurrency: USD\ntimezone: UTC\nearning:\n"
    return Engine(load_ruleset(header + rules))


def order(activity_id: str, at: str, subtotal: str = "10") -> dict[str, Any]:
    return {"type": "order", "id": activity_id, "at": at, "subtotal": subtotal}


def test_same_moment_activities_are_decided_by_id() -> None:
    # "o10" sorts before "o2": it takes the one grant the daily limit allows.
    rules = """\
  - id: daily
    name: Once a day
    on: order
    points: 5
    limit: {times: 1, per: day}
"""
    at = "2026-02-01T10:00:00Z"
    snapshot = {"customer": {"id": "c1"}, "activity": [order("o2", at), order("o10", at)]}
    result = engine(rules).evaluate(snapshot, now=NOW, explain=True)
    assert [d.key for d in result.decisions] == ["daily/o10"]
    assert [(e.activity, e.status) for e in result.explanations] == [
        ("o10", "granted"),
        ("o2", "not_eligible"),
    ]


def test_same_moment_activities_of_different_types_are_decided_by_type() -> None:
    rules = """\
  - id: welcome
    name: Welcome
    on: signup
    points: 100
  - id: per-order
    name: Per order
    on: order
    points: 5
"""
    at = "2026-02-01T10:00:00Z"
    activity = [{"type": "signup", "id": "a", "at": at}, order("b", at)]
    result = engine(rules).evaluate({"customer": {"id": "c1"}, "activity": activity}, now=NOW)
    explained = engine(rules).evaluate(
        {"customer": {"id": "c1"}, "activity": activity}, now=NOW, explain=True
    )
    assert {d.key for d in result.decisions} == {"welcome/a", "per-order/b"}
    # `order` sorts before `signup`; within an occasion, rules go in file order.
    assert [(e.rule, e.activity) for e in explained.explanations] == [
        ("per-order", "b"),
        ("welcome", "a"),
    ]


BIRTHDAYS = """\
  - id: small
    name: Small treat
    on: birthday
    points: 50
    stacking: best
  - id: big
    name: Big treat
    on: birthday
    points: 80
    stacking: best
  - id: early
    name: Early treat
    on: birthday
    points: 90
    stacking: best
    birthday: {days_before: 7}
  - id: always
    name: Always
    on: birthday
    points: 5
"""


def test_birthday_rules_with_the_same_period_share_an_occasion() -> None:
    snapshot = {"customer": {"id": "c1", "birthday": "1990-02-20"}}
    result = engine(BIRTHDAYS).evaluate(snapshot, now=NOW, explain=True)
    # `small` and `big` start on the birthday: one occasion, the best of the two grants (with
    # `always`, which combines). `early` starts a week before: an occasion of its own.
    assert sorted(d.key for d in result.decisions) == ["always/2026", "big/2026", "early/2026"]
    statuses = {e.rule: e.status for e in result.explanations}
    assert statuses == {
        "early": "granted",
        "small": "not_applied",
        "big": "granted",
        "always": "granted",
    }
    assert [e.rule for e in result.explanations] == ["early", "small", "big", "always"]


EXAMPLES = ["acme", "greenleaf-market", "northwind-coffee", "urban-threads"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_explaining_never_changes_what_is_decided(name: str) -> None:
    example = Engine(load_ruleset(RULES / f"{name}.yaml"))
    customers = data.generic_customers(example.ruleset.model, 40)
    for number, customer in enumerate(customers):
        customer["customer"]["excluded"] = number % 9 == 0
        snapshot = example.read_snapshot(data.as_json(customer))
        for now in (data.NOW, datetime(2026, 11, 29, tzinfo=UTC)):
            quiet = example.evaluate(snapshot, now=now)
            explained = example.evaluate(snapshot, now=now, explain=True)
            assert quiet.decisions == explained.decisions
            assert quiet.problems == explained.problems
