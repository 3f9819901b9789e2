"""Amounts of up to 30 digits on each side of the point add, subtract, multiply, negate, take
their absolute value and round exactly, whatever the calling thread's decimal context; only a
division that cannot be exact is carried to 34 significant digits (docs/language.md,
"Numbers"). Before: 34 digits for everything (so `a + 0` of a 37-digit amount rounded), and
`-m`, `abs(m)`, `round(m, places)` and negative literals in the thread's own context."""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ruleengine.api import compile_expression, declare_scope
from ruleengine.diagnostics.diagnostic import RuleSetError

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SCOPE = declare_scope({"a": "money", "b": "money", "k": "decimal"})
BIG = "-123456789012345678901234567890"
LONG = "1234567890123456789012345678.901234567"
TINY = "0.000000000000000000000000000001"


@contextmanager
def thread_context(prec: int) -> Iterator[None]:
    """The calling thread's context made hostile: few digits, no trap for invalid results."""
    with decimal.localcontext() as context:
        context.prec = prec
        context.traps[decimal.InvalidOperation] = False
        yield


def paths(text: str) -> list[Callable[[dict[str, Any]], Any]]:
    expression = compile_expression(text, SCOPE)
    return [
        lambda d: expression.evaluate(d, now=NOW),
        expression.bind(now=NOW, convert=True),
        lambda d: expression.bind(now=NOW)(expression.convert(d)),
    ]


@pytest.mark.parametrize("prec", [6, 28])
@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        ("-a", {"a": BIG}, Decimal(BIG[1:])),
        ("abs(a)", {"a": BIG}, Decimal(BIG[1:])),
        ("abs(a) == 0 - a", {"a": BIG}, True),
        ("round(a, 1)", {"a": BIG}, Decimal(BIG + ".0")),
        ("-a", {"a": "-12345.678"}, Decimal("12345.678")),
        ("a + 0", {"a": LONG}, Decimal(LONG)),
        ("a + b", {"a": LONG, "b": TINY}, Decimal(LONG + "000000000000000000001")),
        ("a + b > a", {"a": "100000", "b": TINY}, True),
        ("a * k", {"a": LONG, "k": LONG}, "a * k"),
        (
            "a - 123456789012345678901234567.891",
            {"a": "0"},
            Decimal("-123456789012345678901234567.891"),
        ),
        ("k % 7", {"k": LONG}, "k % 7"),
    ],
)
def test_arithmetic_is_exact_in_any_thread_context(
    text: str, data: dict[str, Any], expected: Any, prec: int
) -> None:
    with decimal.localcontext(decimal.Context(prec=200)):
        if isinstance(expected, str):  # computed here, in a context wide enough to be exact
            x = Decimal(data.get("a", data.get("k", "0")))
            expected = x * x if expected == "a * k" else x % 7
        exact = expected
    with thread_context(prec):
        for evaluate in paths(text):
            value = evaluate(data)
            assert value == exact and str(value) == str(exact), (text, value)


def test_a_division_is_carried_to_34_digits() -> None:
    with thread_context(6):
        for evaluate in paths("a / 3"):
            assert evaluate({"a": "10"}) == Decimal("3.333333333333333333333333333333333")


def test_rounding_to_very_many_places_is_an_error_not_a_huge_number() -> None:
    for evaluate in paths("round(a, 1000000) > 0"):
        with pytest.raises(RuleSetError, match="RE602"):
            evaluate({"a": "1"})


amounts = st.builds(
    lambda sign, whole, fraction: f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}",
    st.sampled_from(["", "-"]),
    st.integers(0, 10**30 - 1),
    st.text("0123456789", max_size=30),
)


@settings(max_examples=200, deadline=None, database=None)
@given(
    a=amounts,
    b=amounts,
    text=st.sampled_from(["a + b", "a - b", "a * k", "-a + b", "abs(a) - b", "a * -k + a"]),
    prec=st.integers(1, 34),
)
def test_fuzzed_amounts_compute_what_exact_decimals_do(
    a: str, b: str, text: str, prec: int
) -> None:
    """Every path gives the exact result (computed here in a context wide enough for it)."""
    x, y = Decimal(a), Decimal(b)
    with decimal.localcontext(decimal.Context(prec=500)):
        exact = {
            "a + b": x + y,
            "a - b": x - y,
            "a * k": x * y,
            "-a + b": -x + y,
            "abs(a) - b": abs(x) - y,
            "a * -k + a": x * -y + x,
        }[text]
    with thread_context(prec):
        for evaluate in paths(text):
            value = evaluate({"a": a, "b": b, "k": b})
            assert value == exact and str(value) == str(exact), (text, a, b, value, exact)
