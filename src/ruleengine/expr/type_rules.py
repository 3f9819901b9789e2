"""The typing rules of operators, as pure functions of types: which types compare, what
arithmetic on numbers, money, days and durations gives, and the wording helpers the checker
uses for suggestions and arities.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ruleengine.expr.ast import (
    BinaryOp,
    BinaryOperator,
    Constant,
    Expr,
    ListExpr,
    UnaryOp,
    UnaryOperator,
)
from ruleengine.expr.types import (
    DECIMAL,
    DURATION,
    INT,
    MONEY,
    STRING,
    DateTimeType,
    DateType,
    DurationType,
    IntType,
    ListType,
    MoneyType,
    StrType,
    Type,
    comparable,
    is_numeric,
    strip_optional,
)
from ruleengine.expr.values import Duration

SECONDS_PER_DAY = 86400


ORDERING = {BinaryOperator.LT, BinaryOperator.LE, BinaryOperator.GT, BinaryOperator.GE}


EQUALITY = {BinaryOperator.EQ, BinaryOperator.NE}


MEMBERSHIP = {BinaryOperator.IN, BinaryOperator.NOT_IN}


_ARITHMETIC = {
    BinaryOperator.ADD,
    BinaryOperator.SUB,
    BinaryOperator.MUL,
    BinaryOperator.DIV,
    BinaryOperator.MOD,
}


VERB = {
    BinaryOperator.ADD: "add",
    BinaryOperator.SUB: "subtract",
    BinaryOperator.MUL: "multiply",
    BinaryOperator.DIV: "divide",
    BinaryOperator.MOD: "take the remainder of",
}


def is_number_literal(node: Expr) -> bool:
    return (
        isinstance(node, Constant)
        and isinstance(node.value, (int, Decimal))
        and not isinstance(node.value, bool)
    )


def is_number_literal_list(node: Expr) -> bool:
    """`[10, 20]`: a list written out as number literals, whose elements may stand for money."""
    return (
        isinstance(node, ListExpr) and bool(node.items) and all(map(is_number_literal, node.items))
    )


def comparable_operands(
    left: Type, left_node: Expr, right: Type, right_node: Expr | None, *, ordering: bool
) -> bool:
    """Whether two (non-optional) types can be compared with `==` or, if `ordering`, `<`."""
    return comparable(
        left,
        right,
        ordering=ordering,
        left_literal=is_number_literal(left_node),
        right_literal=right_node is not None and is_number_literal(right_node),
    )


def arithmetic_type(
    op: BinaryOperator, left: Type, left_node: Expr, right: Type, right_node: Expr
) -> Type | None:
    """The result type of `left op right`, or None when the operator does not apply."""
    if is_numeric(left) and is_numeric(right):
        both_int = isinstance(left, IntType) and isinstance(right, IntType)
        return INT if both_int and op is not BinaryOperator.DIV else DECIMAL
    if isinstance(left, MoneyType) or isinstance(right, MoneyType):
        literal = is_number_literal(right_node if isinstance(left, MoneyType) else left_node)
        return _money_arithmetic(op, left, right, literal)
    if isinstance(left, (DateType, DateTimeType, DurationType)) or isinstance(
        right, DateType | DateTimeType | DurationType
    ):
        return _time_arithmetic(op, left, right)
    if op is BinaryOperator.ADD and isinstance(left, StrType) and isinstance(right, StrType):
        return STRING
    return None


def _money_arithmetic(op: BinaryOperator, left: Type, right: Type, literal: bool) -> Type | None:
    """Money scales by numbers and adds to money (or a number literal, which is an amount)."""
    other = right if isinstance(left, MoneyType) else left
    both = isinstance(other, MoneyType)
    if op in (BinaryOperator.ADD, BinaryOperator.SUB):
        return MONEY if both or (is_numeric(other) and literal) else None
    if op is BinaryOperator.MUL:
        return MONEY if is_numeric(other) else None
    if op is BinaryOperator.DIV and isinstance(left, MoneyType):
        return DECIMAL if both else MONEY if is_numeric(right) else None
    if op is BinaryOperator.MOD and both:
        return MONEY
    return None


def _time_arithmetic(op: BinaryOperator, left: Type, right: Type) -> Type | None:
    """Instants and days shift by durations; differences of instants or days are durations."""
    days = DateType | DateTimeType
    if op is BinaryOperator.ADD and isinstance(left, DurationType) and isinstance(right, days):
        return right
    if op in (BinaryOperator.ADD, BinaryOperator.SUB):
        if isinstance(left, days) and isinstance(right, DurationType):
            return left
        if isinstance(left, DurationType) and isinstance(right, DurationType):
            return DurationType(calendar=left.calendar or right.calendar)
        if op is BinaryOperator.SUB and isinstance(left, days) and type(left) is type(right):
            return DURATION
        return None
    if op is BinaryOperator.MUL:
        if isinstance(left, DurationType) and isinstance(right, IntType):
            return left
        if isinstance(left, IntType) and isinstance(right, DurationType):
            return right
    return None


def constant_duration(node: Expr) -> Duration | None:
    """The value of a duration written with literals only (`12h`, `2 * 12h`, `-(1d + 6h)`),
    or None."""
    match node:
        case Constant(value=Duration() as value):
            return value
        case UnaryOp(op=UnaryOperator.NEG):
            inner = constant_duration(node.operand)
            return None if inner is None else Duration(-inner.months, -inner.seconds)
        case BinaryOp(op=BinaryOperator.ADD | BinaryOperator.SUB):
            a, b = constant_duration(node.left), constant_duration(node.right)
            if a is None or b is None:
                return None
            sign = 1 if node.op is BinaryOperator.ADD else -1
            return Duration(a.months + sign * b.months, a.seconds + sign * b.seconds)
        case BinaryOp(op=BinaryOperator.MUL):
            for factor, other in ((node.left, node.right), (node.right, node.left)):
                if isinstance(factor, Constant) and is_number_literal(factor):
                    scaled = constant_duration(other)
                    if scaled is not None and isinstance(factor.value, int):
                        return Duration(scaled.months * factor.value, scaled.seconds * factor.value)
    return None


def is_text(t: Type | None) -> bool:
    """`string` or `string?`."""
    return t is not None and isinstance(strip_optional(t), StrType)


def is_text_list(t: Type | None) -> bool:
    """A list of text, possibly itself optional: `list[string]`."""
    inner = strip_optional(t) if t is not None else None
    return isinstance(inner, ListType) and is_text(inner.element)


def is_zero(node: Expr) -> bool:
    return is_number_literal(node) and isinstance(node, Constant) and node.value == 0


def arity(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low} argument{'s' if low != 1 else ''}"
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}" if low else "no arguments"
    return f"{low} to {high} arguments"


def suggest(
    name: str, choices: Mapping[str, object] | list[str], *, prefix: str = "", suffix: str = ""
) -> str | None:
    import difflib  # only for a problem's hint: not loaded on the valid path

    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"did you mean `{prefix}{matches[0]}{suffix}`?" if matches else None
