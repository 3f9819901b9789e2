"""The generated-table parser (`expr/lalr.py`) against lark on the same grammar.

`parse_fast` answers only for text that parses cleanly; everything else goes to lark, which
words the diagnostic. So for every text, either `parse_fast` declines, or lark parses it too
and builds the very same AST: same node kinds, spans, operators and constant types (`repr`
tells `1` from `Decimal("1")` and `True`, which `==` does not). And it must not decline text
lark parses cleanly (or every compile would pay for lark). Inputs: every expression of the
corpora, hypothesis mutations of them, random token soup, arbitrary text, and edge cases
written for the reductions (parentheses in spans, `not in`, trailing commas, escapes,
folded negatives, the depth limit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ruleengine.expr import grammar, parse_tables
from ruleengine.expr.ast import BinaryOp, ListExpr
from ruleengine.expr.build import build_ast
from ruleengine.expr.grammar import expression_parser, generate_tables
from ruleengine.expr.lalr import parse_fast, tokenize
from ruleengine.expr.parser import MAX_DEPTH, ExpressionSource, parse_expression
from test_fuzz_expressions import ALPHABET, CORPUS, fuzz_settings, mutated

ROOT = Path(__file__).resolve().parents[3]

EDGES = [
    "(a)",
    "((a or b)) and c",
    "-(5)",
    "- -5",
    "-5.50 * x",
    "-(a.b)[1]",
    "x not   in [1, 2,]",
    "not not a",
    "f()",
    "f(1,)",
    "f(1, 2, (3))",
    "[]",
    "[[1], [2, 3],]",
    "if a then b else if c then d else e",
    "(if a then 1 else 2) + 3",
    r'"tab\tnew\nq\"s\'b\\"',
    r"'single \' quote'",
    "90d + 3mo - 1y * 2",
    "3days",
    "android or iffy",
    "a.b.c[d.e][0] == null",
    "1 % 2 / 3 * 4",
    "  x  \n >= \t 1  ",
    "a <= b",
    "a < b < c",
    "a.in",
    r'"\a"',
    "9" * 5000,
    "@",
    "a ==",
    "",
    " ",
    "(" * (MAX_DEPTH - 1) + "1" + ")" * (MAX_DEPTH - 1),
    "-" * (MAX_DEPTH - 1) + "x",
    "-" * MAX_DEPTH + "x",
    "-" * (MAX_DEPTH + 1) + "x",
    " or ".join(["a"] * (MAX_DEPTH + 1)),
    " or ".join(["a"] * MAX_DEPTH),
]


def lark_ast(text: str) -> Any:
    """The AST lark's path builds, or None where it reports a problem."""
    from lark.exceptions import UnexpectedInput

    try:
        tree = expression_parser().parse(text)
    except UnexpectedInput:
        return None
    result = build_ast(tree)
    return None if result.problems else result.expr


def same_as_lark(text: str) -> None:
    fast = parse_fast(text, MAX_DEPTH)
    expr, problems = parse_expression(ExpressionSource.standalone(text))
    if fast is None:
        # Declined: lark must report something (a syntax error, a bad literal, too deep).
        assert expr is None and problems, text
        return
    assert not problems, text
    assert repr(fast) == repr(lark_ast(text)) == repr(expr), text


@pytest.mark.parametrize("text", EDGES, ids=range(len(EDGES)))
def test_edge_cases_match_lark(text: str) -> None:
    same_as_lark(text)


def test_every_corpus_expression_matches_lark() -> None:
    accepted = 0
    for text in CORPUS:
        same_as_lark(text)
        accepted += parse_fast(text, MAX_DEPTH) is not None
    assert accepted > len(CORPUS) // 2  # the corpus is mostly valid: the fast path is used


def test_clean_text_never_falls_back_to_lark() -> None:
    for text in [*CORPUS, *EDGES]:
        if len(text) < 1000 and lark_ast(text) is not None and not too_deep(text):
            assert parse_fast(text, MAX_DEPTH) is not None, text


def too_deep(text: str) -> bool:
    _, problems = parse_expression(ExpressionSource.standalone(text))
    return any("nested too deeply" in p.message for p in problems)


@fuzz_settings
@given(text=mutated())
def test_mutated_expressions_match_lark(text: str) -> None:
    same_as_lark(text)


@fuzz_settings
@given(text=st.lists(st.sampled_from(ALPHABET), max_size=30).map("".join))
def test_token_soup_matches_lark(text: str) -> None:
    same_as_lark(text)


@fuzz_settings
@given(text=st.text(alphabet=[c for c in ALPHABET if len(c) == 1], max_size=40))
def test_character_soup_matches_lark(text: str) -> None:
    same_as_lark(text)
    tokens = tokenize(text)
    if tokens is not None:
        lexed = [(t.type, str(t), t.start_pos, t.end_pos) for t in expression_parser().lex(text)]
        assert tokens == lexed, text


def test_committed_tables_are_generated_from_the_grammar() -> None:
    """Regenerating from grammar/expr.lark gives the committed module, byte for byte."""
    committed = (ROOT / grammar.TABLES_MODULE).read_text(encoding="utf-8")
    assert generate_tables() == committed, (
        f"stale: run `python -m ruleengine.expr.grammar > {grammar.TABLES_MODULE}`"
    )
    assert Path(parse_tables.__file__).resolve() == (ROOT / grammar.TABLES_MODULE).resolve()


def test_long_runs_of_blanks_lex_in_one_pass() -> None:
    """Blanks before a character no terminal matches are taken whole, once: as a plain
    `(?:[ \\t\\r\\n]+)*` prefix the lexer backtracked through every way of splitting them
    (24 blanks took 30 s), so a host's `compile_expression("a" + " " * 40 + "@")` hung."""
    blanks = " \t\r\n" * 2_500
    assert tokenize("a" + blanks + "@") is None
    assert tokenize("a" + blanks + "b" + blanks) == [
        ("NAME", "a", 0, 1),
        ("NAME", "b", 1 + len(blanks), 2 + len(blanks)),
    ]
    same_as_lark("a" + " " * 40 + "@")
    same_as_lark("order.channel ==" + " " * 40 + '"pos"')


def test_long_lists_build_in_one_pass() -> None:
    """A list literal grows by extending the list built so far, as lark does (copying it per
    element made 10,000 items take 5 s), and its depth is carried, not recounted."""
    text = "x in [" + ", ".join(str(i) for i in range(20_000)) + ",]"
    expr = parse_fast(text, MAX_DEPTH)
    assert isinstance(expr, BinaryOp) and isinstance(expr.right, ListExpr)
    assert [item.value for item in expr.right.items] == list(range(20_000))
    assert repr(expr) == repr(lark_ast(text))
