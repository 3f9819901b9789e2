"""Expressions evaluate to exact values (tests/cases/values/expressions.yaml)."""

from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
import yaml

from caseio import CASES_ROOT, ROOT, expect_golden
from ruleengine.api import compile_expression
from ruleengine.diagnostics.diagnostic import RuleSetError
from ruleengine.expr.values import Duration

CASES = CASES_ROOT / "values" / "expressions.yaml"

SNAPSHOT: dict[str, Any] = {
    "customer": {
        "id": "c1",
        "email": "a@example.com",
        "tags": ["vip", "newsletter"],
        "tier": "gold",
        "excluded": False,
        "birthday": "1990-05-01",
        "created_at": "2026-01-05T10:00:00Z",
    },
    "stats": {
        "orders_count": 4,
        "amount_spent": "310.25",
        "points_earned": 1200,
        "reviews_count": 2,
        "referrals_count": 1,
        "first_order_at": "2026-01-10T10:00:00Z",
        "last_order_at": "2026-05-20T10:00:00Z",
        "days_since_last_order": 12,
    },
    "order": {
        "id": "o1",
        "at": "2026-05-20T10:00:00Z",
        "subtotal": "42.50",
        "channel": "online",
        "items": [
            {"product_id": "p1", "vendor": "Acme", "quantity": 2, "price": "12.50"},
            {"product_id": "p2", "vendor": "Other", "quantity": 1, "price": "17.50"},
        ],
    },
}


def show(value: Any) -> Any:
    """Values as a case writes them: decimals, dates and durations as text."""
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, Decimal | Duration):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [show(v) for v in value]
    return value


def variables(case: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(SNAPSHOT)
    for name, fields in case.get("vars", {}).items():
        merged[name].update(fields)
    return merged


def load_cases() -> list[Any]:
    cases = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    return [pytest.param(c, id=f"values/expressions.yaml::{c['name']}") for c in cases]


@pytest.mark.parametrize("case", load_cases())
def test_expression_value(case: dict[str, Any]) -> None:
    expression = compile_expression(case["expr"])
    now = datetime.fromisoformat(case.get("now", "2026-06-01T12:00:00Z"))
    zone = case.get("timezone", "America/New_York")
    if "error" in case:
        with pytest.raises(RuleSetError) as raised:
            expression.evaluate(variables(case), now=now, timezone=zone)
        assert [d.code for d in raised.value.diagnostics] == [case["error"]]
        return
    result = expression.evaluate(variables(case), now=now, timezone=zone)
    expect_golden("values", case["name"], "value", show(result), case["value"])


def test_money_never_goes_through_float() -> None:
    expression = compile_expression("order.subtotal * 3")
    data = variables({"vars": {"order": {"subtotal": "0.10"}}})
    result = expression.evaluate(data, now=datetime.fromisoformat("2026-06-01T00:00:00Z"))
    assert result == Decimal("0.30") and str(result) == "0.30"


def test_now_must_be_aware() -> None:
    expression = compile_expression("now() > order.at")
    with pytest.raises(ValueError, match="aware"):
        expression.evaluate(variables({}), now=datetime(2026, 6, 1))


@pytest.mark.parametrize(
    "now", [date(2026, 6, 1), "2026-06-01T00:00:00Z", 1780272000], ids=["date", "str", "int"]
)
def test_now_that_is_not_a_datetime_is_a_type_error_saying_what_is_expected(now: Any) -> None:
    from ruleengine import Engine, load_ruleset

    expression = compile_expression("now() > order.at")
    engine = Engine(load_ruleset(ROOT / "examples/rules/acme.yaml"))
    snapshot = {"customer": {"id": "c1", "region": "EU"}}
    calls = [
        lambda: expression.evaluate(variables({}), now=now),
        lambda: expression.bind(now=now),
        lambda: engine.evaluate(snapshot, now=now),
        lambda: engine.explain(snapshot, now=now),
        lambda: engine.evaluate_many([snapshot], now=now),
    ]
    for call in calls:
        with pytest.raises(TypeError, match=r"`now` must be an aware datetime, such as"):
            call()


def test_float_amounts_from_python_are_read_as_their_shortest_text() -> None:
    # Documented in README ("Python API"): a float is converted through `repr`, the shortest
    # text that reads back as the same float, so `json.load` without `parse_float` still
    # gives the amounts the JSON text wrote; never the float's binary expansion.
    expression = compile_expression("order.subtotal * 3")
    data = variables({"vars": {"order": {"subtotal": 0.1}}})
    result = expression.evaluate(data, now=datetime.fromisoformat("2026-06-01T00:00:00Z"))
    assert result == Decimal("0.3") and str(result) == "0.3"
