"""Parser properties the golden corpus cannot express: node spans, positions in a surrounding
file, literal types, robustness on junk, the depth limit, and how the grammar is loaded."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from ruleengine.diagnostics.source import SourceFile, Span, align_value
from ruleengine.expr.ast import (
    BinaryOp,
    Call,
    Conditional,
    Constant,
    Expr,
    FieldAccess,
    Index,
    ListExpr,
    Name,
    UnaryOp,
)
from ruleengine.expr.grammar import expression_parser
from ruleengine.expr.parser import MAX_DEPTH, ExpressionSource, parse_expression
from ruleengine.expr.printer import to_sexpr, to_source


def parse(text: str) -> Expr:
    expr, diagnostics = parse_expression(ExpressionSource.standalone(text))
    assert diagnostics == []
    assert expr is not None
    return expr


def text_of(text: str, span: Span) -> str:
    return text[span.start : span.end]


# Spans


def test_spans_of_a_postfix_chain() -> None:
    text = "order.items[0].price + 1"
    expr = parse(text)
    assert isinstance(expr, BinaryOp)
    price = expr.left
    assert isinstance(price, FieldAccess)
    assert text_of(text, price.span) == "order.items[0].price"
    assert text_of(text, price.name_span) == "price"
    index = price.target
    assert isinstance(index, Index)
    assert text_of(text, index.span) == "order.items[0]"
    assert text_of(text, index.index.span) == "0"
    items = index.target
    assert isinstance(items, FieldAccess)
    assert text_of(text, items.name_span) == "items"
    assert text_of(text, items.target.span) == "order"
    assert expr.span == Span(0, len(text))


def test_span_of_call_and_its_name() -> None:
    text = "floor( order.subtotal * 5 )"
    expr = parse(text)
    assert isinstance(expr, Call)
    assert expr.span == Span(0, len(text))
    assert text_of(text, expr.name_span) == "floor"
    assert text_of(text, expr.args[0].span) == "order.subtotal * 5"


def test_parentheses_belong_to_the_enclosing_node() -> None:
    text = "(a + b) * c"
    expr = parse(text)
    assert isinstance(expr, BinaryOp)
    assert expr.span == Span(0, 11)
    assert text_of(text, expr.left.span) == "a + b"


def test_folded_negative_literal_covers_the_minus() -> None:
    text = "x * - 5"
    expr = parse(text)
    assert isinstance(expr, BinaryOp)
    assert expr.right == Constant(-5, Span(4, 7))


def test_spans_of_literals_lists_and_conditionals() -> None:
    text = "if ok then ['a', \"b\\n\"] else []"
    expr = parse(text)
    assert isinstance(expr, Conditional)
    assert expr.span == Span(0, len(text))
    items = expr.then_branch
    assert isinstance(items, ListExpr)
    assert text_of(text, items.span) == "['a', \"b\\n\"]"
    assert [text_of(text, item.span) for item in items.items] == ["'a'", '"b\\n"']
    assert text_of(text, expr.else_branch.span) == "[]"


def test_spans_of_unary_operators() -> None:
    text = "not -x.y"
    expr = parse(text)
    assert isinstance(expr, UnaryOp)
    assert expr.span == Span(0, 8)
    assert isinstance(expr.operand, UnaryOp)
    assert text_of(text, expr.operand.span) == "-x.y"


# Literal values


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2", 2),
        ("1.5", Decimal("1.5")),
        ("0.10", Decimal("0.10")),
        ("-3", -3),
        ("-0.5", Decimal("-0.5")),
        ("true", True),
        ("false", False),
        ("null", None),
        ("'a\\tb'", "a\tb"),
    ],
)
def test_literal_values_and_types(text: str, value: object) -> None:
    expr = parse(text)
    assert isinstance(expr, Constant)
    assert expr.value == value
    assert type(expr.value) is type(value)  # never float, and bool only for true/false


def test_keywords_are_not_names_but_may_start_names() -> None:
    assert parse("notable") == Name("notable", Span(0, 7))
    assert parse("null.x")  # parses; the checker rejects it
    _, diagnostics = parse_expression(ExpressionSource.standalone("a.null"))
    assert [d.code for d in diagnostics] == ["RE301"]


def test_every_invalid_escape_is_reported() -> None:
    expr, diagnostics = parse_expression(ExpressionSource.standalone(r'["\a", "ok", "\b"]'))
    assert expr is None
    assert [(d.code, d.column) for d in diagnostics] == [("RE305", 3), ("RE305", 15)]


# Positions in a rule file


RULES = """\
version: 1
earning:
  - id: big-orders
    when: order.subtotal >= and 20
    points: |
      floor(order.subtotal
        * 5
    note: "customer.tier == \\"gold"
"""


def embedded(key: str) -> ExpressionSource:
    """The expression under `key` of RULES, as the YAML loader hands it to the parser: the
    value, and an offset map built from the scalar's raw text in the file."""
    import yaml

    document = yaml.compose(RULES)
    assert document is not None
    rule = document.value[1][1].value[0]  # earning[0]
    node = next(v for k, v in rule.value if k.value == key)
    raw = RULES[node.start_mark.index : node.end_mark.index].rstrip("\n")
    offsets = align_value(node.value, raw, node.start_mark.index)
    return ExpressionSource(
        node.value, SourceFile("rules.yaml", RULES), offsets, ("earning", 0, key)
    )


def test_error_in_a_plain_scalar_reports_file_position() -> None:
    expr, diagnostics = parse_expression(embedded("when"))
    assert expr is None
    (d,) = diagnostics
    assert (d.code, d.file, d.line, d.column) == ("RE301", "rules.yaml", 4, 29)
    assert (d.end_line, d.end_column) == (4, 32)
    assert d.path == ("earning", 0, "when")
    assert d.snippet == "    when: order.subtotal >= and 20"


def test_error_in_a_block_scalar_reports_file_position() -> None:
    expr, diagnostics = parse_expression(embedded("points"))
    assert expr is None
    (d,) = diagnostics
    assert (d.code, d.line, d.column) == ("RE303", 7, 11)
    assert d.hint == "the `(` at line 6, column 12 is not closed"


def test_error_at_an_escape_covers_the_escape_sequence() -> None:
    src = embedded("note")
    assert src.text == 'customer.tier == "gold'
    assert src.offsets.exact  # the `\"` escape is aligned with the `"` it stands for
    expr, diagnostics = parse_expression(src)
    assert expr is None
    (d,) = diagnostics
    assert (d.code, d.line, d.column) == ("RE304", 8, 29)
    assert (d.end_line, d.end_column) == (8, 31)  # both characters of `\"`


def test_standalone_source_is_its_own_file() -> None:
    src = ExpressionSource.standalone("a +", name="<expr>")
    (d,) = parse_expression(src)[1]
    assert (d.file, d.line, d.column, d.path) == ("<expr>", 1, 4, ())
    assert src.file_span(Span(1, 2)) == Span(1, 2)


# Robustness


NASTY = [
    "",
    " ",
    "\n\t",
    "(((((",
    ")))))",
    '"',
    "'",
    '"\\',
    '"\\"',
    "\\",
    "1..2",
    "a..b",
    "((((" * 500,
    "[[[[" * 500,
    "(" * 3000 + "a" + ")" * 3000,
    "-" * 3000 + "1",
    "not " * 3000 + "a",
    "a" + " + a" * 3000,
    "f(" * 1000,
    "\x00",
    "é",
    "\u00a0",
    "\ufeffa",
    "a\u2028b",
    "9" * 5000,
    "9" * 5000 + "d",
    "1" + ".0" * 100,
    "if",
    "if a then",
    "else",
    "not",
    "not in",
    "a not",
    "in",
    ",",
    "a,",
    "[,]",
    "f(,)",
    "()",
    "[]]",
    "a[",
    "a.",
    ".",
    "-",
    "--",
    "a ==",
    "== a",
    "a = = b",
    "a !== b",
    "&&",
    "||",
    "!",
    "a ! b",
    "`a`",
    "{a: 1}",
    "a; b",
    "a\\nb",
    "'\\u0041'",
    '"\\\n"',
]


@pytest.mark.parametrize("text", NASTY, ids=range(len(NASTY)))
def test_junk_gives_diagnostics_not_exceptions(text: str) -> None:
    expr, diagnostics = parse_expression(ExpressionSource.standalone(text))
    assert (expr is None) == bool(diagnostics)
    for d in diagnostics:
        assert d.code.startswith("RE30")
        assert "\n" not in d.message


TOKENS = [
    "a", "b.c", "1", "2.5", "90d", "'s'", '"t"', "true", "null", "f", "(", ")", "[", "]",
    ",", ".", "+", "-", "*", "/", "%", "==", "<", ">=", "!=", "and", "or", "not", "in",
    "if", "then", "else", "=", "&", "\\", '"', "\n", "é",
]  # fmt: skip


def test_random_token_soup_never_raises_and_round_trips() -> None:
    rng = random.Random(20260101)
    parsed = 0
    for _ in range(3000):
        text = " ".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 12)))
        expr, diagnostics = parse_expression(ExpressionSource.standalone(text))
        assert (expr is None) == bool(diagnostics), text
        if expr is not None:
            parsed += 1
            again = parse(to_source(expr))
            assert to_sexpr(again) == to_sexpr(expr), text
    assert parsed > 50  # the soup must exercise successes too


def test_depth_limit() -> None:
    assert parse(" + ".join(["a"] * MAX_DEPTH))  # a chain of n operands is n levels deep
    expr, diagnostics = parse_expression(
        ExpressionSource.standalone(" + ".join(["a"] * (MAX_DEPTH + 1)))
    )
    assert expr is None
    assert [d.code for d in diagnostics] == ["RE301"]
    assert "nested too deeply" in diagnostics[0].message


def test_parentheses_do_not_count_towards_depth() -> None:
    assert parse("(" * 1000 + "a" + ")" * 1000) == Name("a", Span(1000, 1001))


# The grammar


def test_grammar_is_conflict_free() -> None:
    from lark.parsers.lalr_analysis import LALR_Analyzer

    analyzer = LALR_Analyzer(expression_parser().parser.parser_conf, strict=True)
    analyzer.compute_lalr()  # type: ignore[no-untyped-call]  # raises GrammarError on any shift/reduce or reduce/reduce conflict


def test_grammar_is_built_once() -> None:
    assert expression_parser() is expression_parser()


def test_importing_the_parser_does_not_import_lark() -> None:
    src = Path(__file__).resolve().parents[3] / "src"
    code = "import sys, ruleengine.expr.parser; print('lark' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "False"
