"""CheckedExpr -> Evaluator: a tree of closures, specialised by node kind and static type.

Only checked expressions compile, so every operation here is known to fit its operands; the
closures do no type tests of their own beyond what the static types leave open. There is no
`eval`/`exec`: user text only ever becomes data (constants) inside closures.
"""

from __future__ import annotations

import decimal
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, assert_never

from ruleengine.expr.ast import (
    BinaryOp,
    BinaryOperator,
    Call,
    Conditional,
    Constant,
    Expr,
    FieldAccess,
    Index,
    ListExpr,
    Name,
    UnaryOp,
    UnaryOperator,
)
from ruleengine.expr.checker import CheckedExpr
from ruleengine.expr.functions import BOUND_NAME, FUNCTIONS
from ruleengine.expr.runtime import ARITHMETIC, EvalContext, EvaluationError, shift
from ruleengine.expr.types import (
    DateTimeType,
    DateType,
    DecimalType,
    DurationType,
    IntType,
    ListType,
    MoneyType,
    OptionalType,
    StrType,
    Type,
)
from ruleengine.expr.values import Duration
from ruleengine.source import Span


@dataclass(slots=True)
class Env:
    """The values an evaluation sees: root records and bound variables, and the context."""

    ctx: EvalContext
    variables: dict[str, Any]

    def bind(self, name: str, value: Any) -> Env:
        return Env(self.ctx, {**self.variables, name: value})


Evaluator = Callable[[Env], Any]


def compile_expression(checked: CheckedExpr) -> Evaluator:
    """Compile a checked expression into a function of an `Env`."""
    return _Compiler(checked).compile(checked.root)


_COMPARE: dict[BinaryOperator, Callable[[Any, Any], bool]] = {
    BinaryOperator.EQ: operator.eq,
    BinaryOperator.NE: operator.ne,
    BinaryOperator.LT: operator.lt,
    BinaryOperator.LE: operator.le,
    BinaryOperator.GT: operator.gt,
    BinaryOperator.GE: operator.ge,
}


class _Compiler:
    def __init__(self, checked: CheckedExpr) -> None:
        self.checked = checked

    def type_of(self, node: Expr) -> Type:
        return self.checked.type_of(node)

    def compile(self, node: Expr) -> Evaluator:
        evaluator = self._compile(node)
        if isinstance(node, Call | Conditional | ListExpr) and _is_decimal(self.type_of(node)):
            # A whole-number literal that joined money or decimals (`min(order.subtotal, 40)`,
            # `if c then 1 else 2.5`, `[1, 2.5]`) becomes a Decimal, as its type says.
            if isinstance(node, ListExpr):
                return lambda env: [_decimal(v) for v in evaluator(env)]
            return lambda env: _decimal(evaluator(env))
        return evaluator

    def _compile(self, node: Expr) -> Evaluator:
        match node:
            case Constant(value=value):
                return lambda env: value
            case Name(name=name):
                return lambda env: env.variables[name]
            case FieldAccess():
                return self._field(node)
            case Index():
                return self._index(node)
            case UnaryOp():
                return self._unary(node)
            case BinaryOp():
                return self._binary(node)
            case Call():
                return self._call(node)
            case ListExpr():
                items = [self.compile(item) for item in node.items]
                if all(isinstance(item, Constant) for item in node.items):
                    constant = [item.value for item in node.items if isinstance(item, Constant)]
                    return lambda env: constant
                return lambda env: [item(env) for item in items]
            case Conditional():
                condition = self.compile(node.condition)
                then = self.compile(node.then_branch)
                other = self.compile(node.else_branch)
                return lambda env: then(env) if condition(env) else other(env)
            case _:
                assert_never(node)

    def _field(self, node: FieldAccess) -> Evaluator:
        name = node.name
        if isinstance(node.target, Name):
            root = node.target.name
            return lambda env: env.variables[root].get(name)
        target = self.compile(node.target)
        return lambda env: target(env).get(name)

    def _index(self, node: Index) -> Evaluator:
        target = self.compile(node.target)
        index = self.compile(node.index)

        def evaluate(env: Env) -> Any:
            sequence = target(env)
            position = index(env)
            return sequence[position] if 0 <= position < len(sequence) else None

        return evaluate

    def _unary(self, node: UnaryOp) -> Evaluator:
        operand = self.compile(node.operand)
        if node.op is UnaryOperator.NOT:
            return lambda env: not operand(env)
        if isinstance(self.type_of(node.operand), DurationType):
            return lambda env: Duration(-operand(env).months, -operand(env).seconds)
        return lambda env: -operand(env)

    def _binary(self, node: BinaryOp) -> Evaluator:
        left = self.compile(node.left)
        right = self.compile(node.right)
        op = node.op
        if op is BinaryOperator.AND:
            return lambda env: left(env) and right(env)
        if op is BinaryOperator.OR:
            return lambda env: left(env) or right(env)
        if op is BinaryOperator.IN:
            return lambda env: left(env) in right(env)
        if op is BinaryOperator.NOT_IN:
            return lambda env: left(env) not in right(env)
        if op in _COMPARE:
            return self._compare(node, left, right)
        return self._arithmetic(node, left, right)

    def _compare(self, node: BinaryOp, left: Evaluator, right: Evaluator) -> Evaluator:
        compare = _COMPARE[node.op]
        left_type, right_type = self.type_of(node.left), self.type_of(node.right)
        days = (DateType, DateTimeType)
        if (
            isinstance(left_type, days)
            and isinstance(right_type, days)
            and type(left_type) is not type(right_type)
        ):
            # A timestamp against a day compares the timestamp's day in the ruleset's zone.
            def by_day(env: Env) -> bool:
                a, b = left(env), right(env)
                if a is None or b is None:
                    return compare(a, b)
                return compare(env.ctx.local_date(a), env.ctx.local_date(b))

            return by_day
        if isinstance(left_type, DurationType):
            return lambda env: compare(_seconds(left(env)), _seconds(right(env)))
        return lambda env: compare(left(env), right(env))

    def _arithmetic(self, node: BinaryOp, left: Evaluator, right: Evaluator) -> Evaluator:
        op = node.op
        left_type, right_type = self.type_of(node.left), self.type_of(node.right)
        span = node.span
        if isinstance(left_type, DateType | DateTimeType) and isinstance(right_type, DurationType):
            sign = 1 if op is BinaryOperator.ADD else -1
            return lambda env: shift(left(env), right(env), sign, env.ctx)
        if isinstance(left_type, DurationType) and isinstance(right_type, DateType | DateTimeType):
            return lambda env: shift(right(env), left(env), 1, env.ctx)
        if isinstance(left_type, DateType | DateTimeType):  # difference of two days or instants
            return lambda env: _difference(left(env), right(env))
        if isinstance(right_type, DurationType) and op is BinaryOperator.MUL:
            return _duration_arithmetic(op, right, left)  # `2 * 90d`: the duration first
        if isinstance(left_type, DurationType):
            return _duration_arithmetic(op, left, right)
        if isinstance(left_type, IntType) and isinstance(right_type, IntType):
            return _int_arithmetic(op, left, right, span)
        if isinstance(left_type, StrType):
            return lambda env: left(env) + right(env)
        function = _DECIMAL_OPERATIONS[op]

        divides = op in (BinaryOperator.DIV, BinaryOperator.MOD)

        def evaluate(env: Env) -> Any:
            a, b = left(env), right(env)
            if divides and b == 0:  # 0 / 0 too, which decimal reports as an invalid operation
                raise EvaluationError("RE601", "division by zero", span)
            try:
                return function(a, b)
            except (decimal.InvalidOperation, decimal.Overflow):
                raise EvaluationError("RE602", "number out of range", span) from None

        return evaluate

    def _call(self, node: Call) -> Evaluator:
        function = FUNCTIONS[node.name]
        args = [self.compile(arg) for arg in node.args]
        if function.binds_item:
            return self._quantifier(node, args)
        implement = function.implement
        assert implement is not None
        if node.name == "date":
            value = implement(
                None, node.args[0].value if isinstance(node.args[0], Constant) else ""
            )
            return lambda env: value
        span = node.span
        if not args:
            return lambda env: implement(env.ctx)
        if len(args) == 1:
            (only,) = args
            return lambda env: implement(env.ctx, only(env))

        def evaluate(env: Env) -> Any:
            try:
                return implement(env.ctx, *(arg(env) for arg in args))
            except (decimal.InvalidOperation, decimal.Overflow):
                raise EvaluationError("RE602", "number out of range", span) from None

        return evaluate

    def _quantifier(self, node: Call, args: list[Evaluator]) -> Evaluator:
        items = args[0]
        name = node.name
        if len(args) == 1:
            if name == "count":
                return lambda env: len(items(env))
            if name == "sum":
                return lambda env: _sum(items(env))
            if name == "any":
                return lambda env: any(items(env))
            return lambda env: all(items(env))
        predicate = args[1]

        def per_item(env: Env) -> list[Any]:
            return [predicate(env.bind(BOUND_NAME, element)) for element in items(env)]

        if name == "any":
            return lambda env: any(predicate(env.bind(BOUND_NAME, e)) for e in items(env))
        if name == "all":
            return lambda env: all(predicate(env.bind(BOUND_NAME, e)) for e in items(env))
        if name == "count":
            return lambda env: sum(1 for hit in per_item(env) if hit)
        return lambda env: _sum(per_item(env))


def _is_decimal(t: Type) -> bool:
    """Whether values of `t` (or the elements of a list `t`) are Decimals."""
    inner = t.element if isinstance(t, ListType) else t
    inner = inner.inner if isinstance(inner, OptionalType) else inner
    return isinstance(inner, DecimalType | MoneyType)


def _decimal(value: Any) -> Any:
    return Decimal(value) if type(value) is int else value


def _sum(values: list[Any]) -> Any:
    total: Any = 0
    for value in values:
        total = (
            total + value
            if isinstance(value, int) and isinstance(total, int)
            else (ARITHMETIC.add(total, value))
        )
    return total


def _seconds(value: Duration | None) -> int | None:
    return None if value is None else value.seconds


def _difference(a: date | datetime, b: date | datetime) -> Duration:
    delta = a - b  # type: ignore[operator]  # both dates or both datetimes, by the checker
    return Duration(seconds=int(delta.total_seconds()))


def _duration_arithmetic(op: BinaryOperator, left: Evaluator, right: Evaluator) -> Evaluator:
    if op is BinaryOperator.MUL:
        return lambda env: Duration(left(env).months * right(env), left(env).seconds * right(env))
    sign = 1 if op is BinaryOperator.ADD else -1

    def evaluate(env: Env) -> Duration:
        a, b = left(env), right(env)
        return Duration(a.months + sign * b.months, a.seconds + sign * b.seconds)

    return evaluate


def _int_arithmetic(op: BinaryOperator, left: Evaluator, right: Evaluator, span: Span) -> Evaluator:
    if op is BinaryOperator.ADD:
        return lambda env: left(env) + right(env)
    if op is BinaryOperator.SUB:
        return lambda env: left(env) - right(env)
    if op is BinaryOperator.MUL:
        return lambda env: left(env) * right(env)

    def evaluate(env: Env) -> Any:
        divisor = right(env)
        if divisor == 0:
            raise EvaluationError("RE601", "division by zero", span)
        if op is BinaryOperator.DIV:
            return ARITHMETIC.divide(Decimal(left(env)), Decimal(divisor))
        return left(env) % divisor

    return evaluate


_DECIMAL_OPERATIONS: dict[BinaryOperator, Callable[[Any, Any], Decimal]] = {
    BinaryOperator.ADD: ARITHMETIC.add,
    BinaryOperator.SUB: ARITHMETIC.subtract,
    BinaryOperator.MUL: ARITHMETIC.multiply,
    BinaryOperator.DIV: ARITHMETIC.divide,
    BinaryOperator.MOD: ARITHMETIC.remainder,
}

__all__ = ["Env", "EvaluationError", "Evaluator", "compile_expression"]
