"""The expression records are msgspec structs (made in C at start-up): they must keep what the
frozen dataclasses they were gave their users. Durations reach hosts as values, types are dict
keys, a source file's line table is derived and neither compared nor shown, and AST nodes are
compared by value (the parser's differential tests rely on it)."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime

import pytest

from ruleengine import compile_expression
from ruleengine.diagnostics.diagnostic import DiagnosticSink
from ruleengine.diagnostics.source import Location, SourceFile, Span
from ruleengine.expr.parser import ExpressionSource, parse_expression
from ruleengine.expr.types import (
    BOOL,
    INT,
    MONEY,
    STRING,
    ListType,
    OptionalType,
    RecordType,
    parse_type_name,
)
from ruleengine.expr.values import Duration

NOW = datetime(2026, 6, 1, tzinfo=UTC)
RULES = "program: acme-rewards\ncurrency: EUR\nrules:\n  - id: welcome\n    on: signup\n"


def test_a_duration_a_host_receives_compares_hashes_and_pickles_by_value() -> None:
    ninety_days = compile_expression("90d", None).evaluate({}, now=NOW)
    assert ninety_days == Duration(seconds=90 * 86_400)
    assert hash(ninety_days) == hash((0, 90 * 86_400))  # the dataclass's hash: its fields' tuple
    assert repr(ninety_days) == "Duration(months=0, seconds=7776000)"
    assert str(ninety_days) == "90d"
    assert pickle.loads(pickle.dumps(ninety_days)) == ninety_days
    assert copy.deepcopy(ninety_days) == ninety_days
    assert {ninety_days, Duration.parse("90d"), Duration.parse("3mo")} == {
        Duration(seconds=7_776_000),
        Duration(months=3),
    }
    assert sorted([Duration.parse("12h"), Duration.parse("1d"), Duration.parse("1h")]) == [
        Duration(seconds=3_600),
        Duration(seconds=43_200),
        Duration(seconds=86_400),
    ]
    with pytest.raises(TypeError):
        _ = ninety_days < (0, 1)  # type: ignore[operator]
    with pytest.raises(AttributeError):
        ninety_days.seconds = 1  # type: ignore[misc]


def test_types_are_equal_and_hashed_by_value_as_dict_keys() -> None:
    items = RecordType("item", (("sku", STRING), ("price", MONEY), ("quantity", INT)))
    same = RecordType(
        "item", (("sku", parse_type_name("string")), ("price", MONEY), ("quantity", INT))
    )
    table = {ListType(items): "items", OptionalType(STRING): "coupon", BOOL: "vip"}
    assert table[ListType(same)] == "items"
    assert table[parse_type_name("string?")] == "coupon"
    assert parse_type_name("list[string]") == ListType(STRING)
    assert parse_type_name("int") != parse_type_name("decimal")  # no fields, other classes
    assert repr(ListType(MONEY)) == "ListType(element=MoneyType())"
    assert str(OptionalType(ListType(STRING))) == "list[string]?"
    with pytest.raises(AttributeError):
        items.name = "order"  # type: ignore[misc]


def test_a_source_file_is_its_name_and_text_and_survives_pickling() -> None:
    rules = SourceFile("rules/acme.yaml", RULES)
    again = SourceFile("rules/acme.yaml", RULES)
    assert rules == again and hash(rules) == hash(again)
    assert rules != SourceFile("rules/other.yaml", RULES)
    assert repr(rules) == f"SourceFile(name='rules/acme.yaml', text={RULES!r})"
    copied = pickle.loads(pickle.dumps(rules))
    assert copied == rules
    assert copied.location(RULES.index("signup")) == Location(5, 9)
    assert copied.line_text(4) == "  - id: welcome"
    with pytest.raises(AttributeError):
        rules.text = ""  # type: ignore[misc]


def test_a_sink_counts_what_it_drops_outside_its_fields() -> None:
    sink = DiagnosticSink(SourceFile("rules/acme.yaml", RULES), limit=1)
    for offset in (0, 9):
        sink.report(Span(offset, offset + 1), "RE201", "unknown key")
    assert len(sink.diagnostics) == 1 and sink.dropped == [1, 0, 0] and sink.has_errors
    assert "dropped" not in repr(sink)
    assert [d.code for d in sink.finished()] == ["RE201", "RE110"]


def test_ast_nodes_are_equal_by_value_and_immutable() -> None:
    first, _ = parse_expression(ExpressionSource.standalone("order.subtotal >= 20"))
    second, _ = parse_expression(ExpressionSource.standalone("order.subtotal >= 20"))
    assert first is not None and first == second and hash(first) == hash(second)
    assert repr(first).startswith("BinaryOp(op=<BinaryOperator.GE: '>='>, left=FieldAccess(")
    with pytest.raises(AttributeError):
        first.span = Span(0, 1)  # type: ignore[misc]
