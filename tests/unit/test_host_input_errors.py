"""A host's malformed input to the Python API raises the documented, located error, never a
raw Python one from inside (`UnicodeDecodeError`, `RecursionError`, `AttributeError`, a
`TypeError` about subscripting): snapshot bytes that are not UTF-8, a scope declaration that
is not a mapping or nests without end, and variables that are not a mapping."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ruleengine import Engine, SnapshotError, compile_expression, declare_scope, load_ruleset
from ruleengine.api import MAX_DECLARATION_DEPTH, compile_conditions

NOW = datetime(2026, 6, 1, tzinfo=UTC)
RULES = """\
version: 1
program: bytes
currency: USD
timezone: UTC
earning:
  - id: op
    name: order points
    on: order
    points: floor(order.subtotal)
"""
SNAPSHOT = '{"customer": {"id": "c1", "name": "Zoë"},\n "activity": []}'


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_ruleset(RULES))


def test_snapshot_bytes_are_read_as_utf8(engine: Engine) -> None:
    assert engine.read_snapshot_text(SNAPSHOT.encode()).customer_id == "c1"


@pytest.mark.parametrize(
    ("data", "line", "column", "byte"),
    [
        (b"\xff{}", 1, 1, 0xFF),
        (SNAPSHOT.encode().replace("ë".encode(), b"\xe9"), 1, 38, 0xE9),  # Latin-1 text
        (SNAPSHOT.encode().replace(b"[]", b'["\xc3"]'), 2, 16, 0xC3),  # a cut sequence
    ],
)
def test_snapshot_bytes_not_utf8_are_re611_at_the_byte(
    engine: Engine, data: bytes, line: int, column: int, byte: int
) -> None:
    with pytest.raises(SnapshotError) as error:
        engine.read_snapshot_text(data, name="c1.json")
    [problem] = error.value.problems
    assert (problem.code, problem.path, problem.line, problem.column) == (
        "RE611",
        "$",
        line,
        column,
    )
    assert problem.message == f"the snapshot is not UTF-8 text: byte 0x{byte:02X}"
    assert error.value.name == "c1.json"


@settings(max_examples=200, deadline=None)
@given(prefix=st.text(max_size=40), junk=st.binary(min_size=1, max_size=8))
def test_any_bytes_give_a_snapshot_or_a_snapshot_error(
    engine: Engine, prefix: str, junk: bytes
) -> None:
    data = prefix.encode() + junk + SNAPSHOT.encode()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        with pytest.raises(SnapshotError) as error:
            engine.read_snapshot_text(data)
        assert error.value.problems[0].code == "RE611"
    else:
        with contextlib.suppress(SnapshotError):  # text, not a snapshot: worded like any
            engine.read_snapshot_text(data)


@pytest.mark.parametrize("roots", [[{"order": "money"}], "order", None, 5])
def test_a_scope_that_is_not_a_mapping_is_a_type_error(roots: Any) -> None:
    with pytest.raises(TypeError, match=rf"got {type(roots).__name__}$"):
        declare_scope(roots)


def _nested(depth: int, leaf: Any = "int") -> Any:
    declaration = leaf
    for index in range(depth):
        declaration = {"f": declaration} if index % 2 else [declaration]
    return declaration


@pytest.mark.parametrize("depth", [MAX_DECLARATION_DEPTH + 1, 2_000, 100_000])
def test_a_declaration_nested_too_deeply_is_a_value_error(depth: int) -> None:
    with pytest.raises(
        ValueError, match=r"^`r\.f\.(f|item)\.\.\.`: declarations nest more than 64 levels deep$"
    ):
        declare_scope({"r": {"f": _nested(depth)}})


def test_a_declaration_at_the_depth_limit_is_read() -> None:
    scope = declare_scope({"r": _nested(MAX_DECLARATION_DEPTH - 2, {"x": "int"})})
    assert "r" in scope.roots


NOT_MAPPINGS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.decimals(allow_nan=False),
    st.text(),
    st.lists(st.integers(), max_size=3),
    st.tuples(st.text()),
)
EXPRESSIONS = ["order.subtotal > 5 and points > 1", "points + 1", "order.at < now()"]


@settings(max_examples=60, deadline=None)
@given(value=NOT_MAPPINGS, text=st.sampled_from(EXPRESSIONS))
def test_variables_that_are_not_a_mapping_are_a_type_error_naming_the_scope(
    value: Any, text: str
) -> None:
    scope = declare_scope({"order": {"subtotal": "money", "at": "datetime"}, "points": "int"})
    expression = compile_expression(text, scope)
    conditions = compile_conditions([text, "points > 2"], scope)
    calls = [
        lambda: expression.evaluate(value, now=NOW),
        lambda: expression.bind(now=NOW, convert=True)(value),
        lambda: expression.convert(value),
        lambda: expression.read(value),
        lambda: conditions.evaluate(value, now=NOW),
        lambda: conditions.bind(now=NOW, convert=True)(value),
    ]
    message = (
        "expected a mapping of the scope's names (`order`, `points`) to values, "
        f"got {type(value).__name__}"
    )
    for call in calls:
        with pytest.raises(TypeError) as error:
            call()
        assert str(error.value) == message
