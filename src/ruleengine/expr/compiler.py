"""The specialiser: CheckedExpr -> fast Python closures, specialised by node kind and
static type. `program.Program` compiles through it.

Only checked expressions compile, so every operation here is known to fit its operands; the
closures do no type tests of their own beyond what the static types leave open. There is no
`eval`/`exec` here: user text only ever becomes data (constants) inside closures, so a rule file
can never run code, and the closures are plain functions a profiler can see. (The host's path
from its own dict is generated code where it can be, `codegen`, with these closures as the
fallback.)

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
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from functools import partial
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
from ruleengine.expr.closures import (
    _COMPARE,
    _DECIMAL_OPERATIONS,
    _EQ,
    _FLIPPED,
    _NE,
    _REFLECTED,
    Atom,
    Code,
    Fn,
    _chain,
    _compare_constant,
    _compare_functions,
    _compare_path,
    _constant,
    _container,
    _difference,
    _duration_arithmetic,
    _fused_chain,
    _literal_for,
    _load,
    _seconds,
)
from ruleengine.expr.compiler_base import CONTEXT, CompilerBase
from ruleengine.expr.runtime import DIVISION, EvaluationError, shift
from ruleengine.expr.types import (
    DateTimeType,
    DateType,
    DurationType,
    IntType,
    StrType,
)
from ruleengine.expr.values import Duration


class Compiler(CompilerBase):
    def _compile(self, node: Expr) -> Code:
        match node:
            case Constant(value=value):
                return _constant(value)
            case Name(name=name):
                return Code(lambda v: v[name], path=(name,))
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

    def _field(self, node: FieldAccess) -> Code:
        target = self.compile(node.target)
        if target.path is None:
            inner, name = target.fn, node.name
            return Code(lambda v: inner(v).get(name))
        path = (*target.path, node.name)
        return Code(_load(path), path=path)

    def _index(self, node: Index) -> Code:
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

    def _unary(self, node: UnaryOp) -> Code:
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
                return Code(lambda v: not v[root].get(name))
            inner = operand.fn
            return self._fold(lambda v: not inner(v), operand)
        operand = self.compile(node.operand)
        inner = operand.fn
        if isinstance(self.type_of(node.operand), DurationType):
            return self._fold(lambda v: Duration(-inner(v).months, -inner(v).seconds), operand)
        if isinstance(self.type_of(node.operand), IntType):
            return self._fold(lambda v: -inner(v), operand)
        # `-x` of a Decimal rounds to the calling thread's precision; `copy_negate` is exact
        return self._fold(lambda v: inner(v).copy_negate(), operand)

    def _binary(self, node: BinaryOp) -> Code:
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

    def _logic(self, node: BinaryOp) -> Code:
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
        codes: list[Code] = []
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
        return Code(fused if fused is not None else _chain([c.fn for c in codes], deciding))

    def _compare(self, node: BinaryOp, left: Code, right: Code) -> Code:
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
                atom = Atom(left.path, "cmp", op, constant, partial(_REFLECTED[op], constant))
                return Code(_compare_path(op, left.path, constant), atom=atom)
            return Code(_compare_constant(op, left.fn, constant))
        return self._fold(_compare_functions(op, left.fn, right.fn), left, right)

    def _compare_days(self, op: BinaryOperator, left: Code, right: Code) -> Code:
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

    def _membership(self, node: BinaryOp, op: BinaryOperator) -> Code:
        left = self.compile(node.left)
        right = self.compile(node.right)
        negate = op is BinaryOperator.NOT_IN
        needle, haystack = left.fn, right.fn
        if right.constant and isinstance(right.value, list):
            container = _container(right.value, self.type_of(node.left))
            if left.path is not None and len(left.path) == 2:
                root, name = left.path
                if negate:
                    return Code(lambda v: v[root].get(name) not in container)
                atom = Atom(left.path, "in", None, container, container.__contains__)
                return Code(lambda v: v[root].get(name) in container, atom=atom)
            if left.path is not None and len(left.path) == 1:
                (key,) = left.path
                if negate:
                    return Code(lambda v: v[key] not in container)
                atom = Atom(left.path, "in", None, container, container.__contains__)
                return Code(lambda v: v[key] in container, atom=atom)
            if left.constant:
                value = left.value in container
                return _constant(not value if negate else value)
            if negate:
                return Code(lambda v: needle(v) not in container)
            return Code(lambda v: needle(v) in container)
        if left.constant and right.path is not None and len(right.path) == 1:
            value, (key,) = left.value, right.path
            if negate:
                return Code(lambda v: value not in v[key])
            atom = Atom(right.path, "has", None, value, None)
            return Code(lambda v: value in v[key], atom=atom)
        if left.constant and right.path is not None and len(right.path) == 2:
            value, (root, name) = left.value, right.path
            if negate:
                return Code(lambda v: value not in v[root].get(name))
            atom = Atom(right.path, "has", None, value, None)
            return Code(lambda v: value in v[root].get(name), atom=atom)
        if negate:
            return self._fold(lambda v: needle(v) not in haystack(v), left, right)
        return self._fold(lambda v: needle(v) in haystack(v), left, right)

    def _shift(self, node: BinaryOp, day: Fn, by: Fn, sign: int, *operands: Code) -> Code:
        """A day or instant moved by a duration; a result outside the calendar is RE604."""
        ctx, fail, span = self.context(), self.fail, node.span

        def moved(v: dict[str, Any]) -> Any:
            try:
                return shift(day(v), by(v), sign, ctx or v[CONTEXT], span)
            except EvaluationError as error:
                raise fail(error) from None

        return self._fold(moved, *operands)

    def _arithmetic(self, node: BinaryOp, left: Code, right: Code) -> Code:
        op = node.op
        left_type, right_type = self.type_of(node.left), self.type_of(node.right)
        a, b = left.fn, right.fn
        if isinstance(left_type, (DateType, DateTimeType)) and isinstance(right_type, DurationType):
            sign = 1 if op is BinaryOperator.ADD else -1
            return self._shift(node, a, b, sign, left, right)
        if isinstance(left_type, DurationType) and isinstance(right_type, (DateType, DateTimeType)):
            return self._shift(node, b, a, 1, left, right)
        if isinstance(left_type, (DateType, DateTimeType)):  # difference of two days or instants
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

    def _int_arithmetic(self, op: BinaryOperator, left: Code, right: Code, span: Span) -> Fn:
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
                return DIVISION.divide(Decimal(a(v)), Decimal(divisor))
            x = a(v)  # the remainder takes the dividend's sign, as for decimals: -7 % 2 is -1
            return abs(x) % abs(divisor) * (1 if x >= 0 else -1)

        return evaluate

    def _decimal_arithmetic(self, node: BinaryOp, left: Code, right: Code) -> Fn:
        """Exact decimal arithmetic in the explicit contexts (`ARITHMETIC`, and `DIVISION`
        for `/`), whatever the calling thread's decimal settings."""
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

    def _conditional(self, node: Conditional) -> Code:
        condition = self.compile(node.condition)
        if condition.constant:  # `if true then a else b` is `a`; `b` is never evaluated
            return self.compile(node.then_branch if condition.value else node.else_branch)
        then = self.compile(node.then_branch)
        other = self.compile(node.else_branch)
        test = condition.fn
        if then.constant and other.constant:
            yes, no = then.value, other.value
            return Code(lambda v: yes if test(v) else no)
        a, b = then.fn, other.fn
        return Code(lambda v: a(v) if test(v) else b(v))
