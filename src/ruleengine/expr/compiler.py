"""CheckedExpr -> fast Python callables: closures specialised by node kind and static type.

Only checked expressions compile, so every operation here is known to fit its operands; the
closures do no type tests of their own beyond what the static types leave open. There is no
`eval`/`exec`: user text only ever becomes data (constants) inside closures, so a rule file can
never run code, and the closures are plain functions a profiler can see.

Why it is fast (see `docs/performance.md` for the measurements):

* **One argument.** A compiled function takes the variables dict and nothing else. Programs
  that never read the evaluation context (`now`, the ruleset's zone) are compiled once and
  shared by every binding. One that does is compiled once more for each context a host binds
  it to (`Expression.bind`), with `now()`, `today()` and the zone as constants of the closures;
  the engine, which binds per activity moment, uses a form compiled once that reads the context
  from the call instead (`CONTEXT`), so its bindings cost nothing.
* **Specialised per node and static type.** `order.subtotal >= 20` is one closure that loads
  the field and compares it with `Decimal(20)` (literals are converted to the operand's runtime
  type once; a Decimal compares faster with a Decimal than with an int); `and`/`or` chains are
  flattened into one closure that short-circuits, and a chain of two or three field tests
  calls C-level tests (`partial(le, 20)` for `>= 20`) from that one closure; `x in ["a", "b"]`
  tests a frozenset; `not (x in y)` becomes `x not in y`.
* **Constant folding.** A node whose operands are constants is evaluated once, at compile
  time: `2 * 90d`, `date("2026-01-01")`, `today() - 30d` once bound, `if true then a else b`.
  A fold that would fail (`1 / (2 - 2)`) is left to fail at run time, where it would have, so
  an error is reported exactly when and where it was before.
* **Errors are raised in their final form.** `Program.bind(ctx, fail)` compiles `fail` (which
  turns an `EvaluationError` into the caller's exception) into the closures that can fail, so a
  host's fast path needs no wrapper function and no `try` around every call.

`compile_conditions` compiles conditions that are evaluated together (the rules that share a
trigger) into one function returning all their values: tiers (`order.subtotal >= K` for several
K, alone or behind one shared filter) are decided by one binary search instead of one closure
per rule. Measured in `docs/performance.md`.
"""

from __future__ import annotations

import bisect
import decimal
import math
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from operator import itemgetter
from typing import Any, assert_never

from ruleengine.diagnostics.source import Span
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
    NeverType,
    NullType,
    OptionalType,
    StrType,
    Type,
)
from ruleengine.expr.values import Duration


@dataclass(slots=True)
class Env:
    """The values an evaluation sees: root records and bound variables, and the context."""

    ctx: EvalContext
    variables: dict[str, Any]

    def bind(self, name: str, value: Any) -> Env:
        return Env(self.ctx, {**self.variables, name: value})


Evaluator = Callable[[Env], Any]
"""The classic interface: a function of an `Env`. `Program` is one; so is any wrapper a host
puts around one (the rule test runner records conditions that way)."""

Fn = Callable[[dict[str, Any]], Any]
"""A bound program: a function of the variables alone (the fast path)."""

Fail = Callable[[EvaluationError], BaseException]
"""Turns an evaluation failure into the exception the caller wants raised."""


def _same(error: EvaluationError) -> BaseException:
    return error


def compile_expression(checked: CheckedExpr) -> Program:
    """Compile a checked expression. The result is an `Evaluator` (call it with an `Env`) and
    can be bound to a context for the fast path (`Program.bind`)."""
    return Program(checked)


def bind(evaluator: Evaluator, ctx: EvalContext) -> Fn:
    """The fast function of `evaluator` at `ctx`: `Program.bind` for a compiled program, a
    small adapter for any other evaluator (so wrapped evaluators keep working)."""
    if isinstance(evaluator, Program):
        return evaluator.bind(ctx)
    return lambda variables: evaluator(Env(ctx, variables))


def context_free(evaluator: Evaluator) -> Fn | None:
    """The function of a compiled program that never reads the context: the same at every
    binding, so it can be bound once for good. None for a program that reads the context
    (`now()`, `today()`, ...) and for any other evaluator (a wrapper the engine cannot see
    into): those are bound to each context they run in."""
    if isinstance(evaluator, Program) and not evaluator.contextual:
        return evaluator.bind(_NO_CONTEXT)
    return None


def roots_of(evaluator: Evaluator) -> frozenset[str] | None:
    """The root names a compiled program reads (`{"order", "customer"}`), so a caller can
    leave out values nobody reads (the engine's `stats`); None when unknown (a wrapper)."""
    return evaluator.roots if isinstance(evaluator, Program) else None


class _NeedsContextError(Exception):
    """Raised while compiling without a context by a node that reads it (`now()`)."""


class _Dynamic:
    """Compile against the context of each call: context nodes read `v[CONTEXT]`."""


DYNAMIC = _Dynamic()
_NO_CONTEXT: Any = None  # what `context_free` binds with: a program that reads none ignores it
CONTEXT: Any = object()
"""The key under which a dynamic program finds its `EvalContext` in the variables: an object,
not text, so it can never collide with a name of the language."""


class Program:
    """A compiled expression, immutable and safe to share between threads.

    Most expressions never read the context (`now()`, `today()`, `days_since`, a timestamp
    against a day, calendar shifts); they are compiled once, here, and every binding returns
    the same function. One that does is compiled in two forms: `bind(ctx, fail)` (a host's
    fast path, `Expression.bind`) compiles it with the context's values folded in, the fastest
    per call; `bind(ctx)` (the engine, which binds per activity moment) returns the dynamic form,
    compiled once here, which reads the context from the call, so binding costs nothing.
    """

    __slots__ = ("_dynamic", "_free", "checked", "contextual", "may_fail", "roots")

    def __init__(self, checked: CheckedExpr) -> None:
        self.checked = checked
        self.may_fail = _may_fail(checked.root, checked)
        self.roots = _names(checked.root)
        self._dynamic: Fn | None = None
        try:
            self._free: Fn | None = _Compiler(checked, None, _same).compile_root()
        except _NeedsContextError:
            self._free = None
            self._dynamic = _Compiler(checked, DYNAMIC, _same).compile_root()
        self.contextual = self._free is None

    def __call__(self, env: Env) -> Any:
        return self.bind(env.ctx)(env.variables)

    def bind(self, ctx: EvalContext, fail: Fail | None = None) -> Fn:
        """A function of the variables, evaluated at `ctx`. It raises `EvaluationError`, or
        what `fail` makes of one. With `fail`, a program that reads the context is compiled
        for `ctx` (folded constants: meant to be bound once and called many times); without,
        binding is free."""
        if fail is not None and (self.may_fail or self.contextual):
            return _Compiler(self.checked, ctx, fail).compile_root()
        if self._free is not None:
            return self._free
        dynamic = self._dynamic
        assert dynamic is not None
        return lambda variables: dynamic({**variables, CONTEXT: ctx})


# -- compile results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Code:
    """A compiled node: its function, its value when it is a constant, and its field path
    (`("order", "subtotal")`) when it only reads one, so parents can fuse the load."""

    fn: Fn
    constant: bool = False
    value: Any = None
    path: tuple[str, ...] | None = None
    atom: _Atom | None = None  # when the node tests one field against a constant


@dataclass(frozen=True, slots=True)
class _Atom:
    """A test of one loaded value against a constant: `path OP constant` (`kind` "cmp"),
    `path in constant` ("in") or `constant in path` ("has"). `test` is the same test as a C
    callable of the value (`partial(le, 20)` for `>= 20`), for fused `and`/`or` chains; None
    when no C callable raises the same errors. Condition sets group comparisons into tiers."""

    path: tuple[str, ...]
    kind: str
    op: BinaryOperator | None
    constant: Any
    test: Callable[[Any], Any] | None


def _constant(value: Any) -> _Code:
    return _Code(lambda v: value, True, value)


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
    return isinstance(inner, DecimalType | MoneyType)


def _decimal(value: Any) -> Any:
    return Decimal(value) if type(value) is int else value


def _literal_for(value: Any, other: Type) -> Any:
    """A whole-number literal compared with or applied to money/decimals, as a Decimal (the
    same number, so results do not change; Decimal operations with a Decimal are faster)."""
    if type(value) is int and _is_decimal(other):
        return Decimal(value)
    return value


class _Compiler:
    def __init__(
        self,
        checked: CheckedExpr,
        ctx: EvalContext | _Dynamic | None,
        fail: Fail,
    ) -> None:
        self.checked = checked
        self.ctx = ctx  # None: no context (fail if a node needs one); DYNAMIC: `v[CONTEXT]`
        self.fail = fail

    def type_of(self, node: Expr) -> Type:
        return self.checked.type_of(node)

    def context(self) -> EvalContext | None:
        """The context to fold in; None when it is read per call (`v[CONTEXT]`)."""
        if self.ctx is None:
            raise _NeedsContextError
        return None if isinstance(self.ctx, _Dynamic) else self.ctx

    def compile_root(self) -> Fn:
        return self.compile(self.checked.root).fn

    def compile(self, node: Expr) -> _Code:
        code = self._compile(node)
        if isinstance(node, Call | Conditional | ListExpr) and self._needs_decimal(node):
            # A whole-number literal that joined money or decimals (`min(order.subtotal, 40)`,
            # `if c then 1 else 2.5`, `[1, 2.5]`) becomes a Decimal, as its type says.
            if code.constant:
                value = code.value
                return _constant(
                    [_decimal(v) for v in value] if isinstance(node, ListExpr) else _decimal(value)
                )
            inner = code.fn
            if isinstance(node, ListExpr):
                return _Code(lambda v: [_decimal(item) for item in inner(v)])
            return _Code(lambda v: _decimal(inner(v)))
        return code

    def _needs_decimal(self, node: Call | Conditional | ListExpr) -> bool:
        if not _is_decimal(self.type_of(node)):
            return False
        if isinstance(node, Conditional):
            # Both branches already give Decimals (or null): nothing to convert.
            return not all(
                _is_decimal(t) or isinstance(t, NullType | NeverType)
                for t in (self.type_of(node.then_branch), self.type_of(node.else_branch))
            )
        if isinstance(node, Call):
            return not (node.name == "abs" or (node.name == "round" and len(node.args) == 2))
        return True

    def _fold(self, fn: Fn, *children: _Code) -> _Code:
        """`fn` as a constant when its operands are; a fold that fails stays a function, to
        fail (or not, in an untaken branch) at run time as before."""
        if all(child.constant for child in children):
            try:
                return _constant(fn({}))
            except Exception:  # any failure: leave it to run time
                return _Code(fn)
        return _Code(fn)

    def _compile(self, node: Expr) -> _Code:
        match node:
            case Constant(value=value):
                return _constant(value)
            case Name(name=name):
                return _Code(lambda v: v[name], path=(name,))
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
                functions = [item.fn for item in items]
                return self._fold(lambda v: [item(v) for item in functions], *items)
            case Conditional():
                return self._conditional(node)
            case _:
                assert_never(node)

    # -- loads -------------------------------------------------------------------------------------

    def _field(self, node: FieldAccess) -> _Code:
        target = self.compile(node.target)
        if target.path is None:
            inner, name = target.fn, node.name
            return _Code(lambda v: inner(v).get(name))
        path = (*target.path, node.name)
        return _Code(_load(path), path=path)

    def _index(self, node: Index) -> _Code:
        target = self.compile(node.target)
        index = self.compile(node.index)
        sequence, position = target.fn, index.fn
        if index.constant and type(index.value) is int and index.value >= 0:
            at = index.value
            # `len(...) > at` is the same test as `0 <= at < len(...)` for a known `at >= 0`.
            return self._fold(lambda v: s[at] if len(s := sequence(v)) > at else None, target)

        def evaluate(v: dict[str, Any]) -> Any:
            items = sequence(v)
            i = position(v)
            return items[i] if 0 <= i < len(items) else None

        return self._fold(evaluate, target, index)

    # -- operators ---------------------------------------------------------------------------------

    def _unary(self, node: UnaryOp) -> _Code:
        if node.op is UnaryOperator.NOT:
            operand_node = node.operand
            if isinstance(operand_node, BinaryOp) and operand_node.op in (
                BinaryOperator.IN,
                BinaryOperator.NOT_IN,
            ):
                flipped = (
                    BinaryOperator.NOT_IN
                    if operand_node.op is BinaryOperator.IN
                    else BinaryOperator.IN
                )
                return self._membership(operand_node, flipped)
            operand = self.compile(operand_node)
            if operand.path is not None and len(operand.path) == 2:
                root, name = operand.path
                return _Code(lambda v: not v[root].get(name))
            inner = operand.fn
            return self._fold(lambda v: not inner(v), operand)
        operand = self.compile(node.operand)
        inner = operand.fn
        if isinstance(self.type_of(node.operand), DurationType):
            return self._fold(lambda v: Duration(-inner(v).months, -inner(v).seconds), operand)
        return self._fold(lambda v: -inner(v), operand)

    def _binary(self, node: BinaryOp) -> _Code:
        op = node.op
        if op in (BinaryOperator.AND, BinaryOperator.OR):
            return self._logic(node)
        if op in (BinaryOperator.IN, BinaryOperator.NOT_IN):
            return self._membership(node, op)
        left = self.compile(node.left)
        right = self.compile(node.right)
        if op in _FLIPPED:
            return self._compare(node, left, right)
        return self._arithmetic(node, left, right)

    def _logic(self, node: BinaryOp) -> _Code:
        """A flattened `and`/`or` chain: one closure, left to right, stopping at the first
        operand that decides (the ones after it are never evaluated)."""
        op = node.op
        operands: list[Expr] = []
        stack: list[Expr] = [node]
        while stack:  # left to right through the chain of the same operator
            item = stack.pop()
            if isinstance(item, BinaryOp) and item.op is op:
                stack.append(item.right)
                stack.append(item.left)
            else:
                operands.append(item)
        deciding = op is BinaryOperator.OR  # `true` decides an `or`, `false` an `and`
        codes: list[_Code] = []
        for operand in operands:
            code = self.compile(operand)
            if code.constant:
                if bool(code.value) is deciding:
                    if not codes:
                        return _constant(code.value)
                    codes.append(code)
                    break  # nothing after a deciding constant is ever evaluated
                continue  # a neutral constant (`true and ...`) changes nothing
            codes.append(code)
        if not codes:
            return _constant(not deciding)
        if len(codes) == 1:
            return codes[0]
        fused = _fused_chain(codes, deciding)
        return _Code(fused if fused is not None else _chain([c.fn for c in codes], deciding))

    def _compare(self, node: BinaryOp, left: _Code, right: _Code) -> _Code:
        op = node.op
        left_type, right_type = self.type_of(node.left), self.type_of(node.right)
        days = (DateType, DateTimeType)
        if (
            isinstance(left_type, days)
            and isinstance(right_type, days)
            and type(left_type) is not type(right_type)
        ):
            return self._compare_days(op, left, right)
        compare = _COMPARE[op]
        if isinstance(left_type, DurationType) and op not in (_EQ, _NE):  # ==: months and seconds
            a, b = left.fn, right.fn
            return self._fold(lambda v: compare(_seconds(a(v)), _seconds(b(v))), left, right)
        if left.constant and not right.constant:
            # `20 <= order.subtotal` is `order.subtotal >= 20`: put the constant on the right.
            left, right, op = right, left, _FLIPPED[op]
            left_type, right_type = right_type, left_type
        if right.constant and not left.constant:
            constant = _literal_for(right.value, left_type)
            if left.path is not None and len(left.path) <= 2:
                atom = _Atom(left.path, "cmp", op, constant, partial(_REFLECTED[op], constant))
                return _Code(_compare_path(op, left.path, constant), atom=atom)
            return _Code(_compare_constant(op, left.fn, constant))
        return self._fold(_compare_functions(op, left.fn, right.fn), left, right)

    def _compare_days(self, op: BinaryOperator, left: _Code, right: _Code) -> _Code:
        """A timestamp against a day compares the timestamp's day in the ruleset's zone."""
        compare = _COMPARE[op]
        ctx = self.context()
        a, b = left.fn, right.fn

        def by_day(v: dict[str, Any]) -> bool:
            x, y = a(v), b(v)
            if x is None or y is None:
                return compare(x, y)
            local_date = (ctx or v[CONTEXT]).local_date
            return compare(local_date(x), local_date(y))

        return self._fold(by_day, left, right)

    def _membership(self, node: BinaryOp, op: BinaryOperator) -> _Code:
        left = self.compile(node.left)
        right = self.compile(node.right)
        negate = op is BinaryOperator.NOT_IN
        needle, haystack = left.fn, right.fn
        if right.constant and isinstance(right.value, list):
            container = _container(right.value, self.type_of(node.left))
            if left.path is not None and len(left.path) == 2:
                root, name = left.path
                if negate:
                    return _Code(lambda v: v[root].get(name) not in container)
                atom = _Atom(left.path, "in", None, container, container.__contains__)
                return _Code(lambda v: v[root].get(name) in container, atom=atom)
            if left.path is not None and len(left.path) == 1:
                (key,) = left.path
                if negate:
                    return _Code(lambda v: v[key] not in container)
                atom = _Atom(left.path, "in", None, container, container.__contains__)
                return _Code(lambda v: v[key] in container, atom=atom)
            if left.constant:
                value = left.value in container
                return _constant(not value if negate else value)
            if negate:
                return _Code(lambda v: needle(v) not in container)
            return _Code(lambda v: needle(v) in container)
        if left.constant and right.path is not None and len(right.path) == 1:
            value, (key,) = left.value, right.path
            if negate:
                return _Code(lambda v: value not in v[key])
            atom = _Atom(right.path, "has", None, value, None)
            return _Code(lambda v: value in v[key], atom=atom)
        if left.constant and right.path is not None and len(right.path) == 2:
            value, (root, name) = left.value, right.path
            if negate:
                return _Code(lambda v: value not in v[root].get(name))
            atom = _Atom(right.path, "has", None, value, None)
            return _Code(lambda v: value in v[root].get(name), atom=atom)
        if negate:
            return self._fold(lambda v: needle(v) not in haystack(v), left, right)
        return self._fold(lambda v: needle(v) in haystack(v), left, right)

    def _arithmetic(self, node: BinaryOp, left: _Code, right: _Code) -> _Code:
        op = node.op
        left_type, right_type = self.type_of(node.left), self.type_of(node.right)
        a, b = left.fn, right.fn
        if isinstance(left_type, DateType | DateTimeType) and isinstance(right_type, DurationType):
            sign = 1 if op is BinaryOperator.ADD else -1
            ctx = self.context()
            return self._fold(lambda v: shift(a(v), b(v), sign, ctx or v[CONTEXT]), left, right)
        if isinstance(left_type, DurationType) and isinstance(right_type, DateType | DateTimeType):
            ctx = self.context()
            return self._fold(lambda v: shift(b(v), a(v), 1, ctx or v[CONTEXT]), left, right)
        if isinstance(left_type, DateType | DateTimeType):  # difference of two days or instants
            return self._fold(lambda v: _difference(a(v), b(v)), left, right)
        if isinstance(right_type, DurationType) and op is BinaryOperator.MUL:
            return self._fold(_duration_arithmetic(op, b, a), left, right)  # `2 * 90d`
        if isinstance(left_type, DurationType):
            return self._fold(_duration_arithmetic(op, a, b), left, right)
        if isinstance(left_type, IntType) and isinstance(right_type, IntType):
            return self._fold(self._int_arithmetic(op, left, right, node.span), left, right)
        if isinstance(left_type, StrType):
            return self._fold(lambda v: a(v) + b(v), left, right)
        return self._fold(self._decimal_arithmetic(node, left, right), left, right)

    def _int_arithmetic(self, op: BinaryOperator, left: _Code, right: _Code, span: Span) -> Fn:
        a, b = left.fn, right.fn
        if op in (BinaryOperator.ADD, BinaryOperator.SUB, BinaryOperator.MUL):
            if right.constant and not left.constant:
                k = right.value
                if op is BinaryOperator.ADD:
                    return lambda v: a(v) + k
                if op is BinaryOperator.SUB:
                    return lambda v: a(v) - k
                return lambda v: a(v) * k
            if op is BinaryOperator.ADD:
                return lambda v: a(v) + b(v)
            if op is BinaryOperator.SUB:
                return lambda v: a(v) - b(v)
            return lambda v: a(v) * b(v)
        fail, divide = self.fail, op is BinaryOperator.DIV

        def evaluate(v: dict[str, Any]) -> Any:
            divisor = b(v)
            if divisor == 0:
                raise fail(EvaluationError("RE601", "division by zero", span))
            if divide:
                return ARITHMETIC.divide(Decimal(a(v)), Decimal(divisor))
            x = a(v)  # the remainder takes the dividend's sign, as for decimals: -7 % 2 is -1
            return abs(x) % abs(divisor) * (1 if x >= 0 else -1)

        return evaluate

    def _decimal_arithmetic(self, node: BinaryOp, left: _Code, right: _Code) -> Fn:
        """Exact decimal arithmetic in the one explicit context (`ARITHMETIC`), whatever the
        calling thread's decimal settings."""
        operation = _DECIMAL_OPERATIONS[node.op]
        fail, span = self.fail, node.span
        a, b = left.fn, right.fn
        divides = node.op in (BinaryOperator.DIV, BinaryOperator.MOD)
        if right.constant and not left.constant and not (divides and right.value == 0):
            k = _literal_for(right.value, self.type_of(node.left))
            k = Decimal(k) if type(k) is int else k  # the context would convert it every call

            def with_constant(v: dict[str, Any]) -> Any:
                x = a(v)
                try:
                    return operation(x, k)
                except (decimal.InvalidOperation, decimal.Overflow):
                    raise fail(EvaluationError("RE602", "number out of range", span)) from None

            return with_constant

        def evaluate(v: dict[str, Any]) -> Any:
            x, y = a(v), b(v)
            if divides and y == 0:  # 0 / 0 too, which decimal reports as an invalid operation
                raise fail(EvaluationError("RE601", "division by zero", span))
            try:
                return operation(x, y)
            except (decimal.InvalidOperation, decimal.Overflow):
                raise fail(EvaluationError("RE602", "number out of range", span)) from None

        return evaluate

    def _conditional(self, node: Conditional) -> _Code:
        condition = self.compile(node.condition)
        if condition.constant:  # `if true then a else b` is `a`; `b` is never evaluated
            return self.compile(node.then_branch if condition.value else node.else_branch)
        then = self.compile(node.then_branch)
        other = self.compile(node.else_branch)
        test = condition.fn
        if then.constant and other.constant:
            yes, no = then.value, other.value
            return _Code(lambda v: yes if test(v) else no)
        a, b = then.fn, other.fn
        return _Code(lambda v: a(v) if test(v) else b(v))

    # -- calls -------------------------------------------------------------------------------------

    def _call(self, node: Call) -> _Code:  # noqa: C901  # one specialisation per function
        name = node.name
        function = FUNCTIONS[name]
        if name == "date":
            argument = node.args[0]
            assert function.implement is not None
            return _constant(
                function.implement(None, argument.value if isinstance(argument, Constant) else "")
            )
        if name in ("now", "today"):
            ctx = self.context()
            if ctx is None:
                if name == "now":
                    return _Code(lambda v: v[CONTEXT].now)
                return _Code(lambda v: v[CONTEXT].today)
            return _constant(ctx.now if name == "now" else ctx.today)
        args = [self.compile(arg) for arg in node.args]
        if function.binds_item:
            return self._quantifier(node, args)
        implement = function.implement
        assert implement is not None
        if len(args) == 1:
            (only,) = args
            x = only.fn
            arg_type = self.type_of(node.args[0])
            if name == "floor":
                return self._fold(lambda v: math.floor(x(v)), only)
            if name == "ceil":
                return self._fold(lambda v: math.ceil(x(v)), only)
            if name == "len":
                return self._fold(lambda v: len(x(v)), only)
            if name in ("days_since", "days_until"):
                return self._days(name, x, arg_type, only)
            if name == "round" and isinstance(arg_type, DecimalType | MoneyType):
                half_up = decimal.ROUND_HALF_UP
                return self._fold(lambda v: int(x(v).to_integral_value(rounding=half_up)), only)
            ctx = self.ctx if isinstance(self.ctx, EvalContext) else None  # not read by these
            return self._fold(lambda v: implement(ctx, x(v)), only)
        ctx = self.ctx if isinstance(self.ctx, EvalContext) else None
        fail, span = self.fail, node.span
        functions = [arg.fn for arg in args]
        if len(functions) == 2:
            a, b = functions

            def call_two(v: dict[str, Any]) -> Any:
                x, y = a(v), b(v)
                try:
                    return implement(ctx, x, y)
                except (decimal.InvalidOperation, decimal.Overflow):
                    raise fail(EvaluationError("RE602", "number out of range", span)) from None

            return self._fold(call_two, *args)

        def call(v: dict[str, Any]) -> Any:
            values = [arg(v) for arg in functions]
            try:
                return implement(ctx, *values)
            except (decimal.InvalidOperation, decimal.Overflow):
                raise fail(EvaluationError("RE602", "number out of range", span)) from None

        return self._fold(call, *args)

    def _days(self, name: str, x: Fn, arg_type: Type, only: _Code) -> _Code:
        """`days_since`/`days_until`, with today and the zone folded in (or read per call)."""
        ctx = self.context()
        since = name == "days_since"
        if ctx is None:
            if since:
                return _Code(lambda v: (v[CONTEXT].today - v[CONTEXT].local_date(x(v))).days)
            return _Code(lambda v: (v[CONTEXT].local_date(x(v)) - v[CONTEXT].today).days)
        today, zone = ctx.today, ctx.tz
        if isinstance(arg_type, DateTimeType):
            if since:
                return self._fold(lambda v: (today - x(v).astimezone(zone).date()).days, only)
            return self._fold(lambda v: (x(v).astimezone(zone).date() - today).days, only)
        local_date = ctx.local_date
        if since:
            return self._fold(lambda v: (today - local_date(x(v))).days, only)
        return self._fold(lambda v: (local_date(x(v)) - today).days, only)

    def _quantifier(self, node: Call, args: list[_Code]) -> _Code:  # noqa: C901  # one per form
        items = args[0].fn
        name = node.name
        if len(args) == 1:
            if name == "count":
                return self._fold(lambda v: len(items(v)), args[0])
            if name == "sum":
                return self._fold(lambda v: _sum(items(v)), args[0])
            if name == "any":
                return self._fold(lambda v: any(items(v)), args[0])
            return self._fold(lambda v: all(items(v)), args[0])
        predicate = args[1].fn
        # One copy of the variables per call, with `item` rebound per element (not a new dict
        # per element); nested quantifiers copy again, so an inner `item` never leaks out.
        if name == "any":

            def any_item(v: dict[str, Any]) -> bool:
                local = dict(v)
                for element in items(v):
                    local[BOUND_NAME] = element
                    if predicate(local):
                        return True
                return False

            return _Code(any_item)
        if name == "all":

            def all_items(v: dict[str, Any]) -> bool:
                local = dict(v)
                for element in items(v):
                    local[BOUND_NAME] = element
                    if not predicate(local):
                        return False
                return True

            return _Code(all_items)

        def per_item(v: dict[str, Any]) -> list[Any]:
            local = dict(v)
            values = []
            for element in items(v):
                local[BOUND_NAME] = element
                values.append(predicate(local))
            return values

        if name == "count":
            return _Code(lambda v: sum(1 for hit in per_item(v) if hit))
        if isinstance(self.type_of(node), IntType):
            return _Code(lambda v: sum(per_item(v)))  # whole numbers: the builtin is exact
        return _Code(lambda v: _sum(per_item(v)))


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


def _fused_chain(codes: list[_Code], deciding: bool) -> Fn | None:
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


def _may_fail(node: Expr, checked: CheckedExpr) -> bool:
    """Whether evaluating `node` can raise an `EvaluationError` (division, decimal arithmetic,
    functions of several arguments); only then does a binding's `fail` matter."""
    stack: list[Expr] = [node]
    while stack:
        item = stack.pop()
        match item:
            case BinaryOp(op=op, left=left, right=right):
                if op in _DECIMAL_OPERATIONS and not (
                    op in (BinaryOperator.ADD, BinaryOperator.SUB, BinaryOperator.MUL)
                    and isinstance(checked.type_of(left), IntType | StrType | DurationType)
                    and isinstance(checked.type_of(right), IntType | StrType | DurationType)
                ):
                    return True
                stack += [left, right]
            case Call(name=name, args=args):
                if len(args) > 1 and not FUNCTIONS[name].binds_item:
                    return True
                stack.extend(args)
            case UnaryOp(operand=operand):
                stack.append(operand)
            case FieldAccess(target=target):
                stack.append(target)
            case Index(target=target, index=index):
                stack += [target, index]
            case ListExpr(items=items):
                stack.extend(items)
            case Conditional(condition=c, then_branch=t, else_branch=e):
                stack += [c, t, e]
            case Constant() | Name():
                pass
            case _:
                assert_never(item)
    return False


def _names(node: Expr) -> frozenset[str]:
    """Every name an expression mentions (roots, and `item` inside quantifiers)."""
    names: set[str] = set()
    stack: list[Any] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Name):
            names.add(item.name)
        elif isinstance(item, FieldAccess):
            stack.append(item.target)
        elif isinstance(item, Index):
            stack += [item.target, item.index]
        elif isinstance(item, BinaryOp):
            stack += [item.left, item.right]
        elif isinstance(item, UnaryOp):
            stack.append(item.operand)
        elif isinstance(item, Call):
            stack.extend(item.args)
        elif isinstance(item, ListExpr):
            stack.extend(item.items)
        elif isinstance(item, Conditional):
            stack += [item.condition, item.then_branch, item.else_branch]
    return frozenset(names)


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
    BinaryOperator.DIV: ARITHMETIC.divide,
    BinaryOperator.MOD: ARITHMETIC.remainder,
}


# -- condition sets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramSet:
    """Several checked conditions evaluated together (see `compile_conditions`)."""

    checked: tuple[CheckedExpr, ...]

    def bind(
        self, ctx: EvalContext, fails: Sequence[Fail] | None = None
    ) -> Callable[[dict[str, Any]], list[Any]]:
        """One function of the variables that returns every condition's value, in order;
        `fails[i]` makes the exception condition `i` raises (each has its own source text).

        Rule sets are full of tiers: `order.subtotal >= 50`, `>= 100`, `>= 200`, often
        behind one shared filter (`customer.region == "EU" and order.subtotal >= K`). Such
        conditions, a threshold on one field alone or with the same filter, are decided
        together: the filter once, the field once, and one binary search over the sorted
        thresholds gives every answer (for `==`/`!=` against several constants, one dict
        lookup does). The other conditions run one closure each. If a
        shared evaluation fails, the call is redone condition by condition, so the values,
        and the error raised (the first failing condition's), are exactly those of
        evaluating each condition on its own.
        """
        makers = list(fails) if fails is not None else [_same] * len(self.checked)
        compilers = [_Compiler(c, ctx, f) for c, f in zip(self.checked, makers, strict=True)]
        return _evaluate_all(compilers)


_MIN_TIERS = 3  # below this, one closure per condition is as fast as a search
_Tier = tuple[Any, tuple[str, ...], BinaryOperator]  # (filter's key, field path, operator)


def _tier(compiler: _Compiler, node: Expr) -> tuple[_Tier, Fn | None, Any] | None:
    """`field OP k`, or `filter and/or field OP k` (either order): the group key, the
    filter's function and the threshold; None for any other condition."""
    code = compiler.compile(node)
    if _is_threshold(code.atom):
        assert code.atom is not None
        return (None, code.atom.path, code.atom.op or _GE), None, code.atom.constant
    if not (isinstance(node, BinaryOp) and node.op in (BinaryOperator.AND, BinaryOperator.OR)):
        return None
    for test, other in ((node.right, node.left), (node.left, node.right)):
        atom = compiler.compile(test).atom
        condition = compiler.compile(other)
        if _is_threshold(atom) and not condition.constant:
            assert atom is not None
            source = compiler.checked.source.text[other.span.start : other.span.end]
            key = (node.op, " ".join(source.split()))
            return (key, atom.path, atom.op or _GE), condition.fn, atom.constant
    return None


def _is_threshold(atom: _Atom | None) -> bool:
    """A comparison of a field with a constant (ordering, or `==`/`!=`)."""
    return atom is not None and atom.kind == "cmp" and atom.path[0] != BOUND_NAME


def _evaluate_all(compilers: list[_Compiler]) -> Callable[[dict[str, Any]], list[Any]]:
    exact = [compiler.compile_root() for compiler in compilers]
    tiers: dict[_Tier, list[tuple[int, Fn | None, Any]]] = {}
    for index, compiler in enumerate(compilers):
        shape = _tier(compiler, compiler.checked.root)
        if shape is not None:
            key, condition, threshold = shape
            tiers.setdefault(key, []).append((index, condition, threshold))
    order: list[int] = []
    steps: list[Callable[[dict[str, Any]], list[bool]]] = []
    grouped: set[int] = set()
    for (prefix, path, op), members in tiers.items():
        constants = [threshold for _, _, threshold in members]
        if len(members) < _MIN_TIERS:
            continue
        search: Callable[[dict[str, Any]], list[bool]]
        if op in (_EQ, _NE):
            if not _hashable(constants):
                continue
            ranked = list(range(len(members)))
            search = _equality_step(path, op, constants)
        else:
            if not _sortable(constants):
                continue
            ranked = sorted(range(len(members)), key=lambda j: constants[j])
            search = _threshold_step(path, op, [constants[j] for j in ranked])
        condition = members[0][1]
        if prefix is None or condition is None:
            steps.append(search)
        else:
            steps.append(_filtered(condition, prefix[0] is BinaryOperator.OR, search, len(members)))
        order += [members[j][0] for j in ranked]
        grouped.update(index for index, _, _ in members)
    if not steps:
        return lambda v: [function(v) for function in exact]
    functions = [function for i, function in enumerate(exact) if i not in grouped]
    order = [i for i in range(len(exact)) if i not in grouped] + order
    position = [0] * len(exact)  # condition `i`'s value is computed at `position[i]`
    for computed, index in enumerate(order):
        position[index] = computed
    arrange = itemgetter(*position)

    def evaluate(v: dict[str, Any]) -> list[Any]:
        try:
            values = [function(v) for function in functions]
            for step in steps:
                values += step(v)
        except Exception:  # one by one: the same values or the same error
            return [function(v) for function in exact]
        return list(arrange(values))

    return evaluate


def _filtered(
    condition: Fn, deciding: bool, search: Callable[[dict[str, Any]], list[bool]], size: int
) -> Callable[[dict[str, Any]], list[bool]]:
    """`filter and tier` for every tier: all false when the filter is (all true for `or`
    when it holds), else the search's answers."""
    decided = [deciding] * size
    if deciding:
        return lambda v: decided if condition(v) else search(v)
    return lambda v: search(v) if condition(v) else decided


def _threshold_step(
    path: tuple[str, ...], op: BinaryOperator, thresholds: list[Any]
) -> Callable[[dict[str, Any]], list[bool]]:
    """Every `field OP k` of one ordering operator at once: with the thresholds sorted,
    `bisect(thresholds, x) = i` says the first i are below x, so their tests hold for
    `>=`/`>` (k <= x, k < x) and fail for `<=`/`<`, and the others the other way round."""
    m = len(thresholds)
    first = op in (_GE, _GT)
    patterns = [[first] * i + [not first] * (m - i) for i in range(m + 1)]
    search = bisect.bisect_right if op in (_GE, _LT) else bisect.bisect_left
    root = path[0]
    if len(path) == 1:
        return lambda v: patterns[search(thresholds, v[root])]
    name = path[1]
    return lambda v: patterns[search(thresholds, v[root].get(name))]


def _equality_step(
    path: tuple[str, ...], op: BinaryOperator, constants: list[Any]
) -> Callable[[dict[str, Any]], list[bool]]:
    """Every `field == k` (or `!=`) of one field at once: one dict lookup of the value gives
    the answers (a hash agrees with `==` for text, numbers, days, booleans and null)."""
    equal = op is _EQ
    nothing = [not equal] * len(constants)
    answers: dict[Any, list[bool]] = {}
    for k in constants:
        answers[k] = [(c == k) is equal for c in constants]
    root = path[0]
    if len(path) == 1:
        return lambda v: answers.get(v[root], nothing)
    name = path[1]
    return lambda v: answers.get(v[root].get(name), nothing)


def _hashable(constants: list[Any]) -> bool:
    """Constants whose hash agrees with `==` across the language's values."""
    return all(type(c) in (str, int, bool, Decimal, date) or c is None for c in constants)


def _sortable(constants: list[Any]) -> bool:
    """Constants with one total order consistent with `<` (numbers, or text, or days)."""
    kinds = {"number" if type(c) in (int, Decimal) else type(c).__name__ for c in constants}
    return len(kinds) == 1 and kinds <= {"number", "str", "date"}


def compile_conditions(checked: Sequence[CheckedExpr]) -> ProgramSet:
    """Compile conditions that are evaluated together on the same variables."""
    return ProgramSet(tuple(checked))


__all__ = [
    "CONTEXT",
    "Env",
    "EvaluationError",
    "Evaluator",
    "Fail",
    "Fn",
    "Program",
    "ProgramSet",
    "bind",
    "compile_conditions",
    "compile_expression",
    "roots_of",
]
