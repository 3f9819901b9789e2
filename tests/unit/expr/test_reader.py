"""The host's data is converted only where an expression reads it, with `coerce`'s errors."""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from ruleengine.api import compile_conditions, compile_expression, declare_scope
from ruleengine.diagnostics.diagnostic import RuleSetError
from ruleengine.expr.coerce import CoercionError
from ruleengine.expr.reader import ELEMENT, reads_of

NOW = datetime(2026, 6, 1, tzinfo=UTC)

HOST: dict[str, Any] = {
    "customer": {"id": "c1", "tags": ["vip"], "tier": "gold", "excluded": False},
    "stats": {
        "orders_count": 3,
        "amount_spent": "120.50",
        "points_earned": 10,
        "reviews_count": 0,
        "referrals_count": 0,
    },
    "order": {
        "id": "o1",
        "at": "2026-05-01T10:00:00Z",
        "subtotal": "42.50",
        "channel": "online",
        "items": [
            {"product_id": "p1", "quantity": 2, "price": "12.50", "tags": ["x"]},
            {"product_id": "p2", "quantity": 1, "price": 17},
        ],
    },
}


@pytest.mark.parametrize(
    ("text", "reads"),
    [
        ("order.subtotal >= 20", {"order": {"subtotal": None}}),
        (
            "customer.tier == 'gold' and stats.orders_count > 1",
            {"customer": {"tier": None}, "stats": {"orders_count": None}},
        ),
        ("any(order.items, item.price > 10)", {"order": {"items": {ELEMENT: {"price": None}}}}),
        (
            "order.items[0] != null and order.items[0].quantity > 1",
            {"order": {"items": {ELEMENT: None}}},
        ),
        ("len(order.items) > 0 and order.items[0] == null", {"order": {"items": None}}),
        ("count(order.items)", {"order": {"items": None}}),
        (
            "order.items[stats.orders_count] != null",
            {"order": {"items": {ELEMENT: None}}, "stats": {"orders_count": None}},
        ),
        (
            "any(order.items, any(item.tags, item == 'x'))",
            {"order": {"items": {ELEMENT: {"tags": {ELEMENT: None}}}}},
        ),
        (
            "sum(order.items, item.price * item.quantity) > 0",
            {"order": {"items": {ELEMENT: {"price": None, "quantity": None}}}},
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_reads_are_the_paths_the_expression_loads(text: str, reads: dict[str, Any]) -> None:
    assert reads_of([compile_expression(text).checked.root]) == reads


def test_read_converts_only_what_is_read() -> None:
    expression = compile_expression("order.subtotal >= 20 and any(order.items, item.price > 15)")
    assert expression.read(HOST) == {
        "order": {
            "subtotal": Decimal("42.50"),
            "items": [{"price": Decimal("12.50")}, {"price": Decimal(17)}],
        }
    }


def test_a_bad_value_nobody_reads_is_not_an_error() -> None:
    data = copy.deepcopy(HOST)
    data["stats"]["amount_spent"] = "lots"
    del data["customer"]["id"]
    assert compile_expression("order.subtotal >= 20").evaluate(data, now=NOW) is True


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("order.subtotal >= 20", lambda d: d["order"].update(subtotal="lots")),
        ("order.subtotal >= 20", lambda d: d["order"].update(subtotal=True)),
        ("order.subtotal >= 20", lambda d: d["order"].update(subtotal="NaN")),
        ("order.subtotal >= 20", lambda d: d["order"].pop("subtotal")),
        ("order.subtotal >= 20", lambda d: d.update(order=[1])),
        ("stats.orders_count > 1", lambda d: d["stats"].update(orders_count="3")),
        ("customer.tier == 'gold'", lambda d: d["customer"].update(tier=3)),
        ("order.at > now()", lambda d: d["order"].update(at="2026-05-01T10:00:00")),
        ("any(order.items, item.price > 10)", lambda d: d["order"]["items"][0].update(price="x")),
        ("any(order.items, item.price > 10)", lambda d: d["order"]["items"][0].pop("price")),
        ("any(order.items, item.price > 10)", lambda d: d["order"].update(items="many")),
        ("any(order.items, item.price > 10)", lambda d: d["order"]["items"].insert(0, None)),
    ],
)
def test_a_bad_value_read_raises_what_converting_it_whole_raises(text: str, change: Any) -> None:
    data = copy.deepcopy(HOST)
    change(data)
    expression = compile_expression(text)
    with pytest.raises(CoercionError) as whole:
        expression.convert(data)
    for call in (
        lambda: expression.evaluate(data, now=NOW),
        lambda: expression.bind(now=NOW, convert=True)(data),
        lambda: compile_conditions([text]).evaluate(data, now=NOW),
    ):
        with pytest.raises(CoercionError) as read:
            call()
        assert (read.value.path, read.value.message) == (whole.value.path, whole.value.message)


GOLD_OR_BIG = 'customer.tier == "gold" or order.subtotal > 50'


def host_paths(text: str) -> list[Any]:
    """Every way a host evaluates from its own data."""
    expression = compile_expression(text)
    return [
        lambda d: expression.evaluate(d, now=NOW),
        expression.bind(now=NOW, convert=True),
        lambda d: compile_conditions([text]).bind(now=NOW, convert=True)(d)[0],
        lambda d: compile_conditions([text]).evaluate(d, now=NOW)[0],
    ]


@pytest.mark.parametrize(
    ("text", "change", "value"),
    [
        (GOLD_OR_BIG, lambda d: d["order"].update(subtotal="abc"), True),
        (GOLD_OR_BIG, lambda d: d["order"].pop("subtotal"), True),
        (GOLD_OR_BIG, lambda d: d.update(order="not a record"), True),
        (
            'customer.tier == "silver" and order.subtotal > 50',
            lambda d: d["order"].update(subtotal=None),
            False,
        ),
        (
            "if stats.orders_count > 1 then 1 else stats.points_earned",
            lambda d: d["stats"].update(points_earned="x"),
            1,
        ),
        (
            "any(order.items, item.price > 10)",
            lambda d: d["order"]["items"][1].update(price="x"),
            True,
        ),
        ("all(order.items, item.price > 20)", lambda d: d["order"]["items"][1].pop("price"), False),
    ],
)
def test_a_bad_value_on_a_branch_not_taken_is_not_read(text: str, change: Any, value: Any) -> None:
    """As a hand-written function (and CEL's `false && error`): evaluation reads a value when
    it reaches it, so one that is malformed where evaluation does not go is not reported."""
    data = copy.deepcopy(HOST)
    change(data)
    with pytest.raises((CoercionError, KeyError)):
        compile_expression(text).convert(data)  # converting whole still checks everything
    for call in host_paths(text):
        assert call(data) == value


def test_a_bad_value_on_the_branch_taken_is_reported() -> None:
    data = copy.deepcopy(HOST)
    data["customer"]["tier"] = "silver"
    data["order"]["subtotal"] = "abc"
    for call in host_paths(GOLD_OR_BIG):
        with pytest.raises(CoercionError) as raised:
            call(data)
        assert (raised.value.path, raised.value.message) == (
            ("order", "subtotal"),
            "`abc` is not a number",
        )


def test_conditions_read_what_any_of_them_reads() -> None:
    conditions = compile_conditions(["order.subtotal >= 20", "customer.tier == 'gold'"])
    assert conditions.read(HOST) == {
        "order": {"subtotal": Decimal("42.50")},
        "customer": {"tier": "gold"},
    }
    assert conditions.bind(now=NOW, convert=True)(HOST) == [True, True]


def test_conditions_evaluate_raises_the_first_failing_conditions_error() -> None:
    texts = ["order.subtotal >= 20", "stats.orders_count / stats.referrals_count > 1"]
    conditions = compile_conditions(texts)
    for _ in range(2):  # the first call builds the function, the second reuses it
        with pytest.raises(RuleSetError) as raised:
            conditions.evaluate(HOST, now=NOW)
        assert [(d.code, d.file) for d in raised.value.diagnostics] == [("RE601", "<string>[1]")]


def test_conditions_that_read_the_clock_evaluate_at_each_moment() -> None:
    conditions = compile_conditions(["order.at < now()", "order.subtotal > 1"])
    assert conditions.evaluate(HOST, now=NOW) == [True, True]
    assert conditions.evaluate(HOST, now=datetime(2026, 4, 1, tzinfo=UTC)) == [False, True]


class _Proxy:
    """A stand-in for a host's value wrapper (as `wrapt.ObjectProxy` or a lazy proxy do it):
    it reports the wrapped value's class, which `isinstance` (and so `coerce`) believes."""

    def __init__(self, wrapped: Any) -> None:
        self._wrapped = wrapped

    @property  # type: ignore[misc]  # a property where `object` has an attribute
    def __class__(self) -> type:
        return type(self._wrapped)

    def __eq__(self, other: object) -> bool:
        return bool(self._wrapped == other)

    def __hash__(self) -> int:
        return hash(self._wrapped)

    def __ge__(self, other: Any) -> bool:
        return bool(self._wrapped >= other)

    def __gt__(self, other: Any) -> bool:
        return bool(self._wrapped > other)


@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        ("a >= 3 and b > 500", {"a": _Proxy(4), "b": _Proxy(501)}, True),
        ("a >= 3 and b > 500", {"a": _Proxy(4), "b": 500}, False),
        ("name == 'gold'", {"name": _Proxy("gold")}, True),
    ],
)
def test_a_value_that_reports_its_class_reads_as_coerce_reads_it(
    text: str, data: dict[str, Any], expected: bool
) -> None:
    """The generated code tests `__class__`, as `isinstance` does: a proxy reporting `int`
    gets the answer converting the data first gives, on both of the host's paths."""

    scope = declare_scope({"a": "int", "b": "int", "name": "string"})
    expression = compile_expression(text, scope)
    bound = expression.bind(now=NOW)
    assert bound(expression.convert(data)) is expected
    assert expression.bind(now=NOW, convert=True)(data) is expected
    assert expression.evaluate(data, now=NOW) is expected


@pytest.mark.parametrize("value", [True, 3.0, Decimal("3.5"), "3", _Proxy(True)])
def test_a_value_of_another_class_is_refused_on_the_generated_path(value: Any) -> None:

    expression = compile_expression("a >= 3", declare_scope({"a": "int"}))
    with pytest.raises(CoercionError):
        expression.bind(now=NOW, convert=True)({"a": value})


def _outcome(call: Any) -> Any:
    try:
        return call()
    except CoercionError as error:
        return "CoercionError", error.path, error.message


@pytest.mark.parametrize(
    ("text", "root", "kind"),
    [
        ("order.subtotal > 20", "order", lambda d: defaultdict(lambda: "500", d)),
        ("order.subtotal > 20", "order", Counter),
        ('order.channel == "online" and stats.orders_count == 0', "stats", Counter),
        ('customer.tier == "gold"', None, lambda d: defaultdict(dict, d)),
    ],
)
def test_a_mapping_with_defaults_reads_as_a_dict_and_is_not_changed(
    text: str, root: str | None, kind: Any
) -> None:
    """A `defaultdict` supplied (and inserted) a value for a missing field, a `Counter` 0,
    on the generated path; now a missing value reads as it does in a dict, whatever the
    mapping, and the host's data is left as it was."""
    expression = compile_expression(text)
    raw = copy.deepcopy(HOST)
    if root is None:
        del raw["customer"]  # the missing one is a root
        data: Any = kind(raw)
    else:
        missing = {"order": "subtotal", "stats": "orders_count"}[root]
        del raw[root][missing]
        data = {**raw, root: kind(raw[root])}
    before = copy.deepcopy(data)
    expected = _outcome(lambda: expression.evaluate(raw, now=NOW))
    assert expected[0] == "CoercionError"
    conditions = compile_conditions([text])
    for host in (
        lambda d: expression.evaluate(d, now=NOW),
        expression.bind(now=NOW, convert=True),
        lambda d: conditions.bind(now=NOW, convert=True)(d)[0],
    ):
        assert _outcome(lambda h=host: h(data)) == expected
        assert data == before


@pytest.mark.parametrize(
    ("declared", "text", "value"),
    [
        ("string?", "x == null", True),
        ("list[string]", "len(x) == 0", True),
        ("int", "x > 1", ("CoercionError", ("x",), "missing field `x` (`int`)")),
    ],
)
def test_a_root_left_out_reads_as_a_missing_field(declared: str, text: str, value: Any) -> None:
    """It raised a bare `KeyError`; now null when optional, [] for a list, else the error
    naming it, on every host path (on values converted beforehand it is still a KeyError)."""
    expression = compile_expression(text, declare_scope({"x": declared}))
    for host in (
        lambda d: expression.evaluate(d, now=NOW),
        expression.bind(now=NOW, convert=True),
        lambda d: expression.bind(now=NOW)(expression.read(d)),
        lambda d: compile_conditions([text], expression.scope).evaluate(d, now=NOW)[0],
    ):
        assert _outcome(lambda h=host: h({})) == value


@pytest.mark.parametrize(
    "text",
    [
        'vip or (points > 100 and today() >= date("2026-01-01"))',
        "vip or days_since(at) > points",
    ],
)
def test_an_expression_reading_the_clock_reads_on_the_path_taken_too(text: str) -> None:
    """`evaluate` copied the view to add the context, which converted every root: a bad
    root on a branch not taken was reported there, and not by `bind(convert=True)`."""
    scope = declare_scope({"vip": "bool", "points": "int", "at": "datetime"})
    expression = compile_expression(text, scope)
    data = {"vip": True, "points": "n/a", "at": "not a time"}
    assert expression.evaluate(data, now=NOW) is True
    assert expression.bind(now=NOW, convert=True)(data) is True
    assert compile_conditions([text], scope).evaluate(data, now=NOW) == [True]
    data["vip"] = False
    with pytest.raises(CoercionError):
        expression.evaluate(data, now=NOW)
