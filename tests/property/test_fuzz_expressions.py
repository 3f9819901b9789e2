"""Grammar fuzzing: random and mutated expressions always end in a value or a diagnostic.

Inputs are every expression of the parse and typing corpora, mutated (characters inserted,
deleted, swapped, tokens duplicated), plus random strings over the language's alphabet. Each
goes through parse -> check -> compile -> evaluate on a realistic record; nothing may raise
except the documented `RuleSetError` (a diagnostic) or `CoercionError`. The budget is small in
CI; set RULEENGINE_FUZZ_EXAMPLES for a long run. Crashes found are kept in
tests/cases/fuzz_regressions.yaml and replayed on every run.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseio import CASES_ROOT, load_cases
from ruleengine.api import compile_expression
from ruleengine.diagnostics.diagnostic import RuleSetError
from ruleengine.expr.parser import ExpressionSource, parse_expression

CASES = CASES_ROOT
EXAMPLES = int(os.environ.get("RULEENGINE_FUZZ_EXAMPLES", "300"))


def corpus() -> list[str]:
    found: list[str] = []
    for folder in ("parse", "types"):
        for path in sorted((CASES / folder).glob("*.yaml")):
            found.extend(str(case["expr"]) for case in load_cases(path) if "expr" in case)
    return found


CORPUS = corpus()
ALPHABET = [
    *"abcdefghijklmnopqrstuvwxyz_.,()[]\"' 0123456789+-*/%<>=!\n\t",
    *(" and ", " or ", " not ", " in ", " if ", " then ", " else ", "null", "true", "order"),
    *("customer", "stats", "item", "floor(", "any(", "90d", "3mo", 'date("2026-01-01")'),
]
RECORD = {
    "customer": {
        "id": "c1",
        "tags": ["vip"],
        "tier": "gold",
        "excluded": False,
        "birthday": "1990-02-28",
        "email": "a@example.com",
    },
    "stats": {
        "orders_count": 0,
        "amount_spent": "0",
        "points_earned": 0,
        "reviews_count": 0,
        "referrals_count": 0,
    },
    "order": {
        "id": "o1",
        "at": "2026-05-01T10:00:00Z",
        "subtotal": "0",
        "channel": None,
        "items": [{"product_id": "p", "quantity": 0, "price": "0"}],
    },
}
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def run_everything(text: str) -> None:
    """Parse, check, compile and evaluate; only diagnostics may come out."""
    expr, problems = parse_expression(ExpressionSource.standalone(text))
    assert (expr is None) == bool(problems), text
    try:
        expression = compile_expression(text)
    except RuleSetError as error:
        assert error.diagnostics, text
        return
    try:
        expression.evaluate(RECORD, now=NOW)
    except RuleSetError as error:  # runtime diagnostics such as division by zero
        assert all(d.code.startswith("RE6") for d in error.diagnostics), text


@st.composite
def mutated(draw: Any) -> str:
    text = draw(st.sampled_from(CORPUS))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "duplicate", "swap"]))
        if action == "insert":
            text = text[:position] + draw(st.sampled_from(ALPHABET)) + text[position:]
        elif action == "delete" and text:
            end = min(len(text), position + draw(st.integers(1, 5)))
            text = text[:position] + text[end:]
        elif action == "duplicate":
            end = min(len(text), position + draw(st.integers(1, 12)))
            text = text[:end] + text[position:end] + text[end:]
        elif len(text) > 1:
            a, b = sorted(draw(st.lists(st.integers(0, len(text) - 1), min_size=2, max_size=2)))
            text = text[:a] + text[b] + text[a + 1 : b] + text[a] + text[b + 1 :]
    return text


fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@fuzz_settings
@given(text=mutated())
def test_mutated_expressions_never_crash(text: str) -> None:
    run_everything(text)


@fuzz_settings
@given(text=st.lists(st.sampled_from(ALPHABET), max_size=30).map("".join))
def test_random_token_soup_never_crashes(text: str) -> None:
    run_everything(text)


@fuzz_settings
@given(text=st.text(max_size=40))
def test_arbitrary_text_never_crashes(text: str) -> None:
    run_everything(text)


# Dates moved by durations of any size, in either order and direction (issue 17, item 1): a
# result outside the calendar is RE604, in every time zone.
DAYS = ["order.at", "now()", "today()", 'date("9999-12-31")', 'date("0001-01-01")']
ZONES = ["UTC", "Asia/Tokyo", "Pacific/Kiritimati", "Etc/GMT+12", "America/New_York"]


@st.composite
def date_arithmetic(draw: Any) -> tuple[str, str]:
    day = draw(st.sampled_from(DAYS))
    amount = draw(st.one_of(st.integers(0, 10**4), st.integers(0, 10**12)))
    unit = draw(st.sampled_from(["d", "h", "mo", "y", "w", "m", "s"]))
    duration = f"{amount}{unit}"
    if draw(st.booleans()):
        duration = f"{duration} * {draw(st.integers(-(10**12), 10**12))}"
    moved = draw(
        st.sampled_from([f"{day} + {duration}", f"{day} - {duration}", f"({duration}) + {day}"])
    )
    text = draw(
        st.sampled_from(
            [f"{moved} > {day}", f"days_since({moved})", f"days_until({moved}) > 0", moved]
        )
    )
    return text, draw(st.sampled_from(ZONES))


@fuzz_settings
@given(case=date_arithmetic())
def test_date_arithmetic_is_a_value_or_re604(case: tuple[str, str]) -> None:
    text, zone = case
    try:
        expression = compile_expression(text)
    except RuleSetError as error:
        assert error.diagnostics, text
        return
    try:
        expression.evaluate(RECORD, now=NOW, timezone=zone)
    except RuleSetError as error:
        assert [d.code for d in error.diagnostics] == ["RE604"], text


def regressions() -> list[Any]:
    path = CASES / "fuzz_regressions.yaml"
    cases = load_cases(path) if path.exists() else []
    return [pytest.param(c["expr"], id=c["name"]) for c in cases or []]


@pytest.mark.parametrize("text", regressions())
def test_fuzz_regressions(text: str) -> None:
    run_everything(text)


def test_every_corpus_expression_runs() -> None:
    for text in CORPUS:
        run_everything(text)
