"""A host declares its own data with `declare_scope`, in the type names rule files use."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from ruleengine import compile_expression, declare_scope
from ruleengine.expr.scope import Scope
from ruleengine.expr.types import (
    INT,
    MONEY,
    STRING,
    ListType,
    OptionalType,
    RecordType,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_a_declaration_becomes_the_scope_the_checker_uses() -> None:
    scope = declare_scope(
        {
            "order": {"subtotal": "money", "coupon": "string?", "items": [{"price": "money"}]},
            "points": "int",
        }
    )
    item = RecordType("item", (("price", MONEY),))
    order = RecordType(
        "order",
        (("subtotal", MONEY), ("coupon", OptionalType(STRING)), ("items", ListType(item))),
    )
    assert scope == Scope({"order": order, "points": INT})


def test_expressions_compile_and_evaluate_against_a_declared_scope() -> None:
    scope = declare_scope({"order": {"subtotal": "money", "items": [{"price": "money"}]}})
    expression = compile_expression("order.subtotal * 2 + sum(order.items, item.price)", scope)
    data = {"order": {"subtotal": "10.25", "items": [{"price": 1}, {"price": "0.50"}]}}
    assert expression.evaluate(data, now=NOW) == Decimal("22.00")


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ({"a": "float"}, "`a`: unknown type `float`"),
        ({"o": {"x": "money!"}}, "`o.x`: unknown type `money!`"),
        ({"o": {"items": ["int", "int"]}}, "`o.items`: a declaration is a type name"),
        ({"o": 3}, "`o`: a declaration is a type name"),
    ],
)
def test_a_declaration_that_cannot_be_read_says_where(declaration: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        declare_scope(declaration)
