"""Printing ASTs: s-expressions for golden tests, canonical source text for the formatter.

`to_sexpr` shows the tree's shape without any precedence rules, so a golden test states exactly
which tree an expression parses to. `to_source` is its counterpart for people: it writes the
minimal parentheses that make parsing the text give back the same tree, which the parse-case
tests check for every expression in the corpus.
"""

from __future__ import annotations

import enum
import json
from datetime import date, datetime
from decimal import Decimal
from typing import assert_never

from ruleengine.expr.ast import (
    BinaryOp,
    BinaryOperator,
    Call,
    Conditional,
    Constant,
    ConstantValue,
    Expr,
    FieldAccess,
    Index,
    ListExpr,
    Name,
    UnaryOp,
    UnaryOperator,
)
from ruleengine.expr.lalr import tokenize
from ruleengine.expr.values import Duration


class Level(enum.IntEnum):
    """Binding strength of the grammar's levels, loosest first (see `grammar/expr.lark`)."""

    CONDITIONAL = 1
    OR = 2
    AND = 3
    NOT = 4
    COMPARISON = 5
    SUM = 6
    PRODUCT = 7
    NEGATION = 8
    POSTFIX = 9
    ATOM = 10


BINARY_LEVELS: dict[BinaryOperator, Level] = {
    BinaryOperator.OR: Level.OR,
    BinaryOperator.AND: Level.AND,
    BinaryOperator.EQ: Level.COMPARISON,
    BinaryOperator.NE: Level.COMPARISON,
    BinaryOperator.LT: Level.COMPARISON,
    BinaryOperator.LE: Level.COMPARISON,
    BinaryOperator.GT: Level.COMPARISON,
    BinaryOperator.GE: Level.COMPARISON,
    BinaryOperator.IN: Level.COMPARISON,
    BinaryOperator.NOT_IN: Level.COMPARISON,
    BinaryOperator.ADD: Level.SUM,
    BinaryOperator.SUB: Level.SUM,
    BinaryOperator.MUL: Level.PRODUCT,
    BinaryOperator.DIV: Level.PRODUCT,
    BinaryOperator.MOD: Level.PRODUCT,
}

UNARY_SEXPR: dict[UnaryOperator, str] = {UnaryOperator.NOT: "not", UnaryOperator.NEG: "neg"}

# `not in` is two words in source; in an s-expression the head must be one atom.
BINARY_SEXPR: dict[BinaryOperator, str] = {op: op.value for op in BinaryOperator} | {
    BinaryOperator.NOT_IN: "not-in"
}


# S-expressions


def to_sexpr(expr: Expr) -> str:
    """The tree as an s-expression: `(op operand ...)`, names bare, literals as in source."""
    match expr:
        case Constant(value=value):
            return _constant_sexpr(value)
        case Name(name=name):
            return name
        case FieldAccess(target=target, name=name):
            return f"(. {to_sexpr(target)} {name})"
        case Index(target=target, index=index):
            return f"(index {to_sexpr(target)} {to_sexpr(index)})"
        case BinaryOp(op=op, left=left, right=right):
            return f"({BINARY_SEXPR[op]} {to_sexpr(left)} {to_sexpr(right)})"
        case UnaryOp(op=op, operand=operand):
            return f"({UNARY_SEXPR[op]} {to_sexpr(operand)})"
        case Call(name=name, args=args):
            return _sexpr_list("call", name, *(to_sexpr(a) for a in args))
        case ListExpr(items=items):
            return _sexpr_list("list", *(to_sexpr(i) for i in items))
        case Conditional(condition=condition, then_branch=then_branch, else_branch=else_branch):
            return _sexpr_list(
                "if", to_sexpr(condition), to_sexpr(then_branch), to_sexpr(else_branch)
            )
        case _:
            assert_never(expr)


def _sexpr_list(*parts: str) -> str:
    return "(" + " ".join(parts) + ")"


def _constant_sexpr(value: ConstantValue) -> str:
    # Dates never come from the parser (the checker may fold `date("...")` into a constant);
    # they print as the call they stand for.
    if isinstance(value, date):
        return f"(date {json.dumps(value.isoformat())})"
    return _literal(value)


def _literal(value: ConstantValue) -> str:
    """A constant as source text; shared by both printers, so they agree on literals."""
    match value:
        case None:
            return "null"
        case bool():  # before int: bool is a subclass of int
            return "true" if value else "false"
        case int():
            return str(value)
        case Decimal():
            # `format(..., "f")` never uses exponent notation (`str` would give `1E-7`), and
            # keeps trailing zeros: `1.50` stays `1.50`.
            return format(value, "f")
        case str():
            return _quote(value)
        case Duration():
            return str(value)
        case datetime() | date():
            return f"date({_quote(value.isoformat())})"
        case _:
            assert_never(value)


def _quote(text: str) -> str:
    """A double-quoted string literal, using only the escapes the language knows.

    `json.dumps` would write `\\uXXXX` and `\\r` escapes, which the language does not have; a
    carriage return or other control character is legal inside a literal, so it stays raw.
    """
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t") + '"'


# Source text


def to_source(expr: Expr) -> str:
    """Canonical source text: single spaces around binary operators, `, ` between items, and
    parentheses only where the tree differs from what precedence and associativity give."""
    return _source(expr)[0]


def _source(expr: Expr) -> tuple[str, Level]:
    """The text of `expr` and the level it binds at, so the caller can decide on parentheses."""
    match expr:
        case Constant(value=value):
            text = _literal(value)
            # `-5` is a literal in the tree but a negation in the grammar: `(-5).x` needs the
            # parentheses, or it would parse as `-(5.x)`.
            return text, Level.NEGATION if text.startswith("-") else Level.ATOM
        case Name(name=name):
            return name, Level.ATOM
        case FieldAccess(target=target, name=name):
            return f"{_operand(target, Level.POSTFIX)}.{name}", Level.POSTFIX
        case Index(target=target, index=index):
            return f"{_operand(target, Level.POSTFIX)}[{to_source(index)}]", Level.POSTFIX
        case Call(name=name, args=args):
            return f"{name}({', '.join(to_source(a) for a in args)})", Level.ATOM
        case ListExpr(items=items):
            return f"[{', '.join(to_source(i) for i in items)}]", Level.ATOM
        case UnaryOp(op=UnaryOperator.NOT, operand=operand):
            # `not` is right-recursive, so `not not a` needs no parentheses.
            return f"not {_operand(operand, Level.NOT)}", Level.NOT
        case UnaryOp(operand=operand):  # UnaryOperator.NEG
            text = _operand(operand, Level.NEGATION)
            # `- -a` rather than `--a`: the same tokens, but readable.
            return ("- " if text.startswith("-") else "-") + text, Level.NEGATION
        case BinaryOp(op=op, left=left, right=right):
            level = BINARY_LEVELS[op]
            # Left-associative levels accept their own level on the left only; comparisons are
            # non-associative, so neither side may be a bare comparison.
            left_min = Level(level + 1) if level is Level.COMPARISON else level
            left_text = _operand(left, left_min)
            right_text = _operand(right, Level(level + 1))
            return f"{left_text} {op.value} {right_text}", level
        case Conditional(condition=condition, then_branch=then_branch, else_branch=else_branch):
            # All three parts are full expressions in the grammar; `then` and `else` delimit them.
            return (
                f"if {to_source(condition)} then {to_source(then_branch)} "
                f"else {to_source(else_branch)}",
                Level.CONDITIONAL,
            )
        case _:
            assert_never(expr)


def _operand(expr: Expr, minimum: Level) -> str:
    """The text of `expr` where the grammar needs at least `minimum`; parenthesised if looser."""
    text, level = _source(expr)
    return text if level >= minimum else f"({text})"


_BINARY = {
    "OR",
    "AND",
    "EQ",
    "NE",
    "LT",
    "LE",
    "GT",
    "GE",
    "PLUS",
    "MINUS",
    "STAR",
    "SLASH",
    "PERCENT",
    "_THEN",
    "_ELSE",
}
_OPENS_OPERAND = _BINARY | {"NOT", "IN", "_IF", "_LPAR", "_LSQB", "_COMMA"}
_VALUES = {"NAME", "NUMBER", "STRING", "DURATION", "TRUE", "FALSE", "NULL", "_RPAR", "_RSQB"}


def normalise_spacing(text: str) -> str:
    """The expression with canonical spacing between its tokens (it must already parse): what
    `fmt` writes, and what `ruleset_hash` hashes, so respacing changes neither meaning nor hash.
    Text that does not lex is returned as it is."""
    pieces: list[str] = []
    previous: str | None = None
    previous_unary = False
    tokens = tokenize(text)  # the generated tables' lexer: no lark to import
    if tokens is None:  # text that does not lex (only ever called on text that parses)
        return text
    for kind, value, _, _ in tokens:
        unary = kind == "MINUS" and (previous is None or previous in _OPENS_OPERAND)
        if previous is not None:
            glue = (
                kind in {"_RPAR", "_RSQB", "_COMMA", "_DOT"}
                or previous in {"_LPAR", "_LSQB", "_DOT"}
                or previous_unary
                or (kind in {"_LPAR", "_LSQB"} and previous in _VALUES)
            )
            pieces.append("" if glue else " ")
        pieces.append(value)
        previous, previous_unary = kind, unary
    return "".join(pieces)
