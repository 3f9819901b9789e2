"""The building blocks the compiler assembles: compiled nodes (`Code`, `Atom`), loads of
field paths, fused `and`/`or` chains, specialised comparisons, and the arithmetic helpers.

Small pure functions of closures, kept apart from the node-by-node dispatch in `compiler`
so that each file holds one job. `Fn` is the shape of every closure: a function of the
variables alone.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec

from ruleengine.expr.ast import (
    BinaryOperator,
)
from ruleengine.expr.runtime import ARITHMETIC, DIVISION, EvaluationError
from ruleengine.expr.types import (
    DecimalType,
    IntType,
    ListType,
    MoneyType,
    OptionalType,
    StrType,
    Type,
)
from ruleengine.expr.values import Duration

Fn = Callable[[dict[str, Any]], Any]
"""A compiled closure: a function of the variables alone. A `Program` bound to a context is
one (`BoundProgram`); so is every node the compiler builds on the way."""

Fail = Callable[[EvaluationError], BaseException]
"""Turns an evaluation failure into the exception the caller wants raised."""


def same_error(error: EvaluationError) -> BaseException:
    return error


class Code(msgspec.Struct, frozen=True):
    """A compiled node: its function, its value when it is a constant, and its field path
    (`("order", "subtotal")`) when it only reads one, so parents can fuse the load."""

    fn: Fn
    constant: bool = False
    value: Any = None
    path: tuple[str, ...] | None = None
    atom: Atom | None = None  # when the node tests one field against a constant


class Atom(msgspec.Struct, frozen=True):
    """A test of one loaded value against a constant: `path OP constant` (`kind` "cmp"),
    `path in constant` ("in") or `constant in path` ("has"). `test` is the same test as a C
    callable of the value (`partial(le, 20)` for `>= 20`), for fused `and`/`or` chains; None
    when no C callable raises the same errors. Condition sets group comparisons into tiers."""

    path: tuple[str, ...]
    kind: str
    op: BinaryOperator | None
    constant: Any
    test: Callable[[Any], Any] | None


def _constant(value: Any) -> Code:
    return Code(lambda v: value, True, value)


def _load(path: tuple[str, ...]) -> Fn:
    """`v[root]`, then `.get(field)` per field: a missing field reads as null."""
    root = path[0]
    if len(path) == 1:
        return lambda v: v[root]
    if len(path) == 2:
        name = path[1]
        return lambda v: v[root].get(name)
    if len(path) == 3:
        first, second = path[1], path[2]
        return lambda v: v[root].get(first).get(second)
    rest = path[1:]

    def load(v: dict[str, Any]) -> Any:
        value = v[root]
        for name in rest:
            value = value.get(name)
        return value

    return load


_EQ, _NE, _LT, _LE, _GT, _GE = (
    BinaryOperator.EQ,
    BinaryOperator.NE,
    BinaryOperator.LT,
    BinaryOperator.LE,
    BinaryOperator.GT,
    BinaryOperator.GE,
)
_FLIPPED = {_EQ: _EQ, _NE: _NE, _LT: _GT, _LE: _GE, _GT: _LT, _GE: _LE}
# `x OP k` as `REFLECTED[OP](k, x)`, so `partial(REFLECTED[OP], k)` is a C-level test of `x`
# (`k <= x` is `x >= k` for the language's values: numbers, text, days, null with `==`).
_REFLECTED: dict[BinaryOperator, Callable[[Any, Any], Any]] = {
    _EQ: operator.eq,
    _NE: operator.ne,
    _LT: operator.gt,
    _LE: operator.ge,
    _GT: operator.lt,
    _GE: operator.le,
}
_COMPARE: dict[BinaryOperator, Callable[[Any, Any], bool]] = {
    _EQ: lambda a, b: a == b,
    _NE: lambda a, b: a != b,
    _LT: lambda a, b: a < b,
    _LE: lambda a, b: a <= b,
    _GT: lambda a, b: a > b,
    _GE: lambda a, b: a >= b,
}


def _is_decimal(t: Type) -> bool:
    """Whether values of `t` (or the elements of a list `t`) are Decimals."""
    inner = t.element if isinstance(t, ListType) else t
    inner = inner.inner if isinstance(inner, OptionalType) else inner
    return isinstance(inner, (DecimalType, MoneyType))


def _decimal(value: Any) -> Any:
    return Decimal(value) if type(value) is int else value


def _literal_for(value: Any, other: Type) -> Any:
    """A whole-number literal compared with or applied to money/decimals, as a Decimal (the
    same number, so results do not change; Decimal operations with a Decimal are faster)."""
    if type(value) is int and _is_decimal(other):
        return Decimal(value)
    return value


def _chain(functions: list[Fn], deciding: bool) -> Fn:
    """`a and b and ...` (or `or`) over compiled operands, as one closure."""
    if len(functions) == 1:
        return functions[0]
    if deciding:  # or
        if len(functions) == 2:
            a, b = functions
            return lambda v: a(v) or b(v)
        if len(functions) == 3:
            a, b, c = functions
            return lambda v: a(v) or b(v) or c(v)
    else:
        if len(functions) == 2:
            a, b = functions
            return lambda v: a(v) and b(v)
        if len(functions) == 3:
            a, b, c = functions
            return lambda v: a(v) and b(v) and c(v)
    *first, last = functions

    def chain(v: dict[str, Any]) -> Any:
        for function in first:
            value = function(v)
            if bool(value) is deciding:
                return value
        return last(v)

    return chain


def _fused_chain(codes: list[Code], deciding: bool) -> Fn | None:
    """Two or three tests of fields against constants (`order.subtotal >= 20 and
    order.channel == "online"`) as one closure calling C-level tests, instead of a closure
    per test; None for any other chain."""
    atoms = [code.atom for code in codes]
    tests = [a.test for a in atoms if a is not None and a.test is not None]
    if len(tests) != len(codes) or len(codes) > 3:
        return None
    paths = [a.path for a in atoms if a is not None]
    if all(len(path) == 1 for path in paths):
        keys = [path[0] for path in paths]
        if len(codes) == 2:
            (t1, t2), (k1, k2) = tests, keys
            if deciding:
                return lambda v: t1(v[k1]) or t2(v[k2])
            return lambda v: t1(v[k1]) and t2(v[k2])
        (t1, t2, t3), (k1, k2, k3) = tests, keys
        if deciding:
            return lambda v: t1(v[k1]) or t2(v[k2]) or t3(v[k3])
        return lambda v: t1(v[k1]) and t2(v[k2]) and t3(v[k3])
    if all(len(path) == 2 for path in paths) and len(codes) == 2:
        (t1, t2), ((r1, n1), (r2, n2)) = tests, paths
        if deciding:
            return lambda v: t1(v[r1].get(n1)) or t2(v[r2].get(n2))
        return lambda v: t1(v[r1].get(n1)) and t2(v[r2].get(n2))
    return None


def _compare_path(op: BinaryOperator, path: tuple[str, ...], k: Any) -> Fn:
    """`root OP k` or `root.field OP k` as one closure (the most common condition shape)."""
    root = path[0]
    if len(path) == 1:
        if op is _EQ:
            return lambda v: v[root] == k
        if op is _NE:
            return lambda v: v[root] != k
        if op is _LT:
            return lambda v: v[root] < k
        if op is _LE:
            return lambda v: v[root] <= k
        if op is _GT:
            return lambda v: v[root] > k
        return lambda v: v[root] >= k
    name = path[1]
    if op is _EQ:
        return lambda v: v[root].get(name) == k
    if op is _NE:
        return lambda v: v[root].get(name) != k
    if op is _LT:
        return lambda v: v[root].get(name) < k
    if op is _LE:
        return lambda v: v[root].get(name) <= k
    if op is _GT:
        return lambda v: v[root].get(name) > k
    return lambda v: v[root].get(name) >= k


def _compare_constant(op: BinaryOperator, a: Fn, k: Any) -> Fn:
    if op is _EQ:
        return lambda v: a(v) == k
    if op is _NE:
        return lambda v: a(v) != k
    if op is _LT:
        return lambda v: a(v) < k
    if op is _LE:
        return lambda v: a(v) <= k
    if op is _GT:
        return lambda v: a(v) > k
    return lambda v: a(v) >= k


def _compare_functions(op: BinaryOperator, a: Fn, b: Fn) -> Fn:
    if op is _EQ:
        return lambda v: a(v) == b(v)
    if op is _NE:
        return lambda v: a(v) != b(v)
    if op is _LT:
        return lambda v: a(v) < b(v)
    if op is _LE:
        return lambda v: a(v) <= b(v)
    if op is _GT:
        return lambda v: a(v) > b(v)
    return lambda v: a(v) >= b(v)


def _container(values: list[Any], needle: Type) -> Any:
    """A constant list to search: a frozenset when that gives the same answers (text or whole
    numbers looked up by a value of the same kind, whose hash agrees with `==`), else a
    tuple."""
    inner = needle.inner if isinstance(needle, OptionalType) else needle
    if isinstance(inner, StrType) and all(type(v) is str for v in values):
        return frozenset(values)
    if isinstance(inner, IntType) and all(type(v) is int for v in values):
        return frozenset(values)
    return tuple(values)


def _sum(values: Iterable[Any]) -> Any:
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


def _duration_arithmetic(op: BinaryOperator, left: Fn, right: Fn) -> Fn:
    if op is BinaryOperator.MUL:
        return lambda v: Duration(left(v).months * right(v), left(v).seconds * right(v))
    sign = 1 if op is BinaryOperator.ADD else -1

    def evaluate(v: dict[str, Any]) -> Duration:
        a, b = left(v), right(v)
        return Duration(a.months + sign * b.months, a.seconds + sign * b.seconds)

    return evaluate


_DECIMAL_OPERATIONS: dict[BinaryOperator, Callable[[Any, Any], Decimal]] = {
    BinaryOperator.ADD: ARITHMETIC.add,
    BinaryOperator.SUB: ARITHMETIC.subtract,
    BinaryOperator.MUL: ARITHMETIC.multiply,
    BinaryOperator.DIV: DIVISION.divide,
    BinaryOperator.MOD: ARITHMETIC.remainder,
}
