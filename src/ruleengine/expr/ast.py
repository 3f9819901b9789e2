"""The typed expression AST: frozen nodes, each with the span of its source text.

Spans are offsets into the *expression text*; `ExpressionSource` (in `parser.py`) maps them to
file offsets when a diagnostic is built. Node classes are named after the syntax, and the
grammar's aliases are their snake_case names.

Nodes are `msgspec.Struct`s: made in C (a module of frozen dataclasses costs a few ms to
create at start-up), equal and hashed by value, and untracked by the garbage collector
(`gc=False`), since a node holds only other nodes, spans and immutable constants.
"""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from typing import TypeAlias

import msgspec

from ruleengine.diagnostics.source import Span
from ruleengine.expr.values import Duration

ConstantValue: TypeAlias = bool | int | Decimal | str | Duration | date | None


class BinaryOperator(enum.Enum):
    OR = "or"
    AND = "and"
    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    NOT_IN = "not in"
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"
    MOD = "%"

    # `Enum.__hash__` is a Python function (`hash(self._name_)`); the checker and the
    # compiler look operators up in sets and dicts dozens of times per expression. Members
    # are singletons compared by identity, so identity's C-level hash is equally valid (and,
    # like the name's string hash, differs between processes).
    __hash__ = object.__hash__


class UnaryOperator(enum.Enum):
    NOT = "not"
    NEG = "-"

    __hash__ = object.__hash__  # as `BinaryOperator`


class Constant(msgspec.Struct, frozen=True, gc=False):
    """A literal: integer (`int`), decimal (`Decimal`), string, boolean, null or duration."""

    value: ConstantValue
    span: Span


class Name(msgspec.Struct, frozen=True, gc=False):
    """A bare name: a root record (`customer`, `order`) or a bound variable (`item`)."""

    name: str
    span: Span


class FieldAccess(msgspec.Struct, frozen=True, gc=False):
    """`target.name`; `name_span` covers just the field name, for precise diagnostics."""

    target: Expr
    name: str
    name_span: Span
    span: Span


class Index(msgspec.Struct, frozen=True, gc=False):
    """`target[index]`."""

    target: Expr
    index: Expr
    span: Span


class BinaryOp(msgspec.Struct, frozen=True, gc=False):
    op: BinaryOperator
    left: Expr
    right: Expr
    span: Span


class UnaryOp(msgspec.Struct, frozen=True, gc=False):
    op: UnaryOperator
    operand: Expr
    span: Span


class Call(msgspec.Struct, frozen=True, gc=False):
    """`name(args...)`; `name_span` covers the function name."""

    name: str
    args: tuple[Expr, ...]
    name_span: Span
    span: Span


class ListExpr(msgspec.Struct, frozen=True, gc=False):
    items: tuple[Expr, ...]
    span: Span


class Conditional(msgspec.Struct, frozen=True, gc=False):
    """`if condition then then_branch else else_branch`."""

    condition: Expr
    then_branch: Expr
    else_branch: Expr
    span: Span


Expr: TypeAlias = (
    Constant | Name | FieldAccess | Index | BinaryOp | UnaryOp | Call | ListExpr | Conditional
)


def child_nodes(node: Expr) -> tuple[Expr, ...]:
    """The direct subexpressions of `node`, in source order (for walks without recursion)."""
    match node:
        case FieldAccess(target=target) | UnaryOp(operand=target):
            return (target,)
        case Index(target=target, index=index):
            return (target, index)
        case BinaryOp(left=left, right=right):
            return (left, right)
        case Call(args=items) | ListExpr(items=items):
            return items
        case Conditional(condition=condition, then_branch=then, else_branch=otherwise):
            return (condition, then, otherwise)
        case _:
            return ()
