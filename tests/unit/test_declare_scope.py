"""A host declares its own data with `declare_scope`, in the type names rule files use."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from ruleengine import compile_expression, declare_scope
from ruleengine.api import compile_conditions
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


@pytest.mark.parametrize(
    ("declared", "named"),
    [
        ({"item": "int"}, "`item`"),  # the element inside any/all: never read from the host
        ({"and": "int"}, "`and`"),
        ({"order": {"first-name": "string"}}, "`order.first-name`"),
        ({"order": {"null": "string"}}, "`order.null`"),
        ({"2fa": "bool"}, "`2fa`"),
    ],
)
def test_a_name_no_expression_could_use_is_refused(declared: dict[str, Any], named: str) -> None:
    """A root called `item` compiled, then never read the host's value (KeyError)."""
    with pytest.raises(ValueError, match=named):
        declare_scope(declared)


def test_fields_and_list_elements_may_still_be_called_item() -> None:
    scope = declare_scope({"order": {"item": "int", "lines": [{"sku": "string"}]}})
    expression = compile_expression('order.item > 1 and any(order.lines, item.sku == "a")', scope)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert expression.evaluate({"order": {"item": 2, "lines": [{"sku": "a"}]}}, now=now) is True


@pytest.mark.parametrize("zone", [None, 5, b"UTC"])
@pytest.mark.parametrize("text", ['today() > date("2026-01-01")', "1 > 0"])
def test_a_timezone_that_is_not_a_zone_is_refused(zone: Any, text: str) -> None:
    """`None` meant the machine's own zone to `datetime`; a number failed only for
    expressions that read the clock."""
    expression = compile_expression(text, declare_scope({}))
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    with pytest.raises(TypeError, match="IANA zone name"):
        expression.evaluate({}, now=now, timezone=zone)
    with pytest.raises(TypeError, match="IANA zone name"):
        expression.bind(now=now, timezone=zone)
    with pytest.raises(TypeError, match="IANA zone name"):
        compile_conditions([text], declare_scope({})).evaluate({}, now=now, timezone=zone)


@pytest.mark.parametrize("zone", ["localtime", "posixrules", "Factory"])
def test_a_zone_name_that_is_no_place_is_refused_as_in_rule_files(zone: str) -> None:
    """`localtime` is the machine's own zone: results would depend on the host."""
    expression = compile_expression('today() > date("2026-01-01")', declare_scope({}))
    with pytest.raises(ValueError, match="not a place's time zone"):
        expression.evaluate({}, now=datetime(2026, 6, 1, 12, tzinfo=UTC), timezone=zone)


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("x != null and x > 1", [False, False, True]),
        ("x == null or x > 1", [True, False, True]),
        ("if x != null then x + 1 else 0", [0, 1, 3]),
    ],
)
def test_a_null_test_narrows_an_optional_root_as_it_does_a_field(
    text: str, values: list[Any]
) -> None:
    """`x != null and x > 1` was RE409 for a root `x` (`o.x` compiled): a bare name is a
    path too (docs/language.md)."""
    expression = compile_expression(text, declare_scope({"x": "int?"}))
    now = datetime(2026, 6, 1, tzinfo=UTC)
    for value, expected in zip([None, 0, 2], values, strict=True):
        assert expression.evaluate({"x": value}, now=now) == expected
        assert expression.bind(now=now, convert=True)({"x": value}) == expected
        assert expression.bind(now=now)(expression.convert({"x": value})) == expected
