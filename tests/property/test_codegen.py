"""Generated code is made only of a fixed vocabulary, whatever the rule text says.

`ruleengine.expr.codegen` writes checked expressions out as Python source. The safety argument
(docs/performance.md, "Generated code") is that rule text reaches that source only as `repr()`
of checked `str`/`int`/`bool` constants and of field names, each one literal token. These
tests tokenize the source generated for every corpus expression, for mutations of them, and for
constants made to look like code, and require: every identifier is in `codegen.VOCABULARY` or
one of the generator's numbered locals, every string token is one literal, every number an
integer; and expressions that differ only in their constants generate the same code up to those
literals. That the generated functions compute what the reference interpreter computes is
checked with the compiler, case by case, in `test_compiler_reference.py` (`check_same` runs
the host's path, which is the generated code where there is one).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruleengine.api import compile_conditions, compile_expression
from ruleengine.diagnostics.diagnostic import RuleSetError
from ruleengine.expr.codegen import VOCABULARY, generate
from ruleengine.expr.runtime import EvalContext
from test_compiler_reference import BASE, CORPUS, EXTRA, mutated

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
CTX = EvalContext(NOW, ZoneInfo("America/New_York"))
NUMBERED = re.compile(r"_[rvk][0-9]+")
OPERATORS = {
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    ".",
    "=",
    ":=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
}


def source_of(text: str, ctx: EvalContext | None = CTX) -> str | None:
    try:
        expression = compile_expression(text)
    except RuleSetError:
        return None
    generated = generate([expression.checked], expression.scope.roots, ctx, lambda d: None)
    return None if generated is None else generated[1]


def tokens(source: str) -> list[tokenize.TokenInfo]:
    return list(tokenize.generate_tokens(io.StringIO(source).readline))


def assert_vocabulary(source: str) -> None:
    for token in tokens(source):
        if token.type == tokenize.NAME:
            assert token.string in VOCABULARY or NUMBERED.fullmatch(token.string), token
        elif token.type == tokenize.STRING:
            assert isinstance(ast.literal_eval(token.string), str), token
        elif token.type == tokenize.NUMBER:
            assert isinstance(ast.literal_eval(token.string), int), token
        elif token.type == tokenize.OP:
            assert token.string in OPERATORS, token
        else:
            assert token.type in (
                tokenize.NEWLINE,
                tokenize.NL,
                tokenize.INDENT,
                tokenize.DEDENT,
                tokenize.ENDMARKER,
            ), token


def shape(source: str) -> list[str]:
    """The source's tokens, literals replaced by their kind."""
    kinds = {tokenize.STRING: "<str>", tokenize.NUMBER: "<int>"}
    return [kinds.get(t.type, t.string) for t in tokens(source)]


@pytest.mark.parametrize("text", CORPUS + EXTRA)
def test_generated_source_uses_only_the_vocabulary(text: str) -> None:
    for ctx in (CTX, None):
        source = source_of(text, ctx)
        if source is not None:
            assert_vocabulary(source)


def test_the_usual_condition_shapes_are_generated() -> None:
    for text in [
        "order.subtotal >= 20",
        'not ("wholesale" in customer.tags) and (order.channel in ["online", "pos"] '
        'or customer.tier == "gold") and stats.orders_count >= 2',
        "floor(order.subtotal * 5) + stats.points_earned * 2 >= 1000",
        "stats.points_earned / 2 > 10 and order.at < now()",
    ]:
        assert source_of(text) is not None, text
    conditions = compile_conditions(["order.subtotal >= 20", 'customer.tier == "gold"'])
    bound = conditions.bind(now=NOW, convert=True)
    assert bound.__name__ == "_evaluate" and bound(BASE) == [True, True]


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(text=mutated())
def test_mutated_expressions_generate_only_the_vocabulary(text: str) -> None:
    source = source_of(text)
    if source is not None:
        assert_vocabulary(source)


def quoted(value: str) -> str:
    """`value` as a string literal of the rule language."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


HOSTILE = [
    "') or __import__('os').system('true') or ('",
    '"); import os; ("',
    "\\",
    "\n    return 1\n",
    "_slow(data)",
    "{data}",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_constant_that_looks_like_code_stays_one_literal(value: str) -> None:
    source = source_of(f"customer.tier == {quoted(value)}")
    assert source is not None
    assert_vocabulary(source)
    assert shape(source) == shape(source_of('customer.tier == "gold"') or "")
    expression = compile_expression(f"customer.tier == {quoted(value)}")
    data: dict[str, Any] = {**BASE, "customer": {**BASE["customer"], "tier": value}}
    assert expression.evaluate(data, now=NOW) is True


@settings(max_examples=300, deadline=None, database=None)
@given(
    text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
    number=st.integers(min_value=1, max_value=10**30 - 1),  # `/ 0` does not check; 30 digits
    form=st.sampled_from(
        [
            "customer.tier == {s} and stats.orders_count >= {n}",
            'order.channel in [{s}, "pos"] or order.subtotal * {n} > {n}',
            "{s} in customer.tags and stats.points_earned / {n} < 3",
        ]
    ),
)
def test_fuzzed_constants_never_change_the_shape_of_the_code(
    text: str, number: int, form: str
) -> None:
    source = source_of(form.format(s=quoted(text), n=number))
    reference = source_of(form.format(s='"x"', n=1))
    assert source is not None and reference is not None
    assert_vocabulary(source)
    assert shape(source) == shape(reference)


def test_generated_code_decides_most_cases_itself() -> None:
    """The fallback must not hide a generator that always declines: on the full record, the
    generated function itself gives the value for nearly every corpus expression it covers."""
    declined, decided = [], 0
    for text in CORPUS + EXTRA:
        try:
            expression = compile_expression(text)
        except RuleSetError:
            continue
        generated = generate([expression.checked], expression.scope.roots, CTX, lambda d: declined)
        if generated is None:
            continue
        value = generated[0](BASE)
        if value is declined:
            declined.append(text)
        else:
            decided += 1
            assert value == expression.bind(now=NOW, timezone=CTX.tz)(expression.convert(BASE))
    assert decided > 100 and len(declined) < decided / 10, declined


def changed(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    root, field = path.split(".")
    return {**data, root: {**data[root], field: value}}


BRANCHES = [
    # (condition, the value made malformed, its value then, the path deciding, what takes it)
    (
        'customer.tier == "gold" or order.subtotal > 50',
        "order.subtotal",
        True,
        "customer.tier",
        "x",
    ),
    (
        'customer.tier == "x" and stats.amount_spent > 1',
        "stats.amount_spent",
        False,
        "customer.tier",
        "x",
    ),
    (
        "if stats.orders_count > 1 then 1 else stats.points_earned",
        "stats.points_earned",
        1,
        "stats.orders_count",
        0,
    ),
    (
        'not ("vip" in customer.tags) and order.channel == "a"',
        "order.channel",
        False,
        "customer.tags",
        [],
    ),
]


@pytest.mark.parametrize(("text", "bad", "value", "reach", "taken"), BRANCHES)
def test_the_generated_function_reads_only_the_branch_taken(
    text: str, bad: str, value: Any, reach: str, taken: Any
) -> None:
    """The generated function itself (not its fallback) decides when a value it does not
    reach is malformed: a path is loaded and checked where evaluation first reaches it; when
    evaluation reaches it, the function declines and the fallback raises its error."""
    expression = compile_expression(text)
    declined: list[Any] = []
    generated = generate([expression.checked], expression.scope.roots, CTX, lambda d: declined)
    assert generated is not None
    data = changed(BASE, bad, {"abc"})  # no type the host's data can hold
    assert generated[0](data) == value
    assert generated[0](changed(data, reach, taken)) is declined
