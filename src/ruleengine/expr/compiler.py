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
import math
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
from ruleengine.expr.checked import CheckedExpr
from ruleengine.expr.closures import (
    _COMPARE,
    _DECIMAL_OPERATIONS,
    _EQ,
    _FLIPPED,
    _NE,
    _REFLECTED,
    Atom,
    Code,
    Fail,
    Fn,
    _chain,
    _compare_constant,
    _compare_functions,
    _compare_path,
    _constant,
    _container,
    _decimal,
    _difference,
    _duration_arithmetic,
    _fused_chain,
    _is_decimal,
    _literal_for,
    _load,
    _seconds,
    _sum,
)
from ruleengine.expr.functions import BOUND_NAME, FUNCTIONS
from ruleengine.expr.runtime import ARITHMETIC, EvalContext, EvaluationError, shift
from ruleengine.expr.types import (
    DateTimeType,
    DateType,
    DecimalType,
    DurationType,
    IntType,
    MoneyType,
    NeverType,
    NullType,
    StrType,
    Type,
)
from ruleengine.expr.values import Duration


class NeedsContextError(Exception):
    """Raised while compiling without a context by a node that reads it (`now()`)."""


class _Dynamic:
    """Compile against the context of each call: context nodes read `v[CONTEXT]`."""


DYNAMIC = _Dynamic()
CONTEXT: Any = object()
"""The key under which a dynamic program finds its `EvalContext` in the variables: an object,
not text, so it can never collide with a name of the language."""


class Compiler:
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
            raise NeedsContextError
        return None if isinstance(self.ctx, _Dynamic) else self.ctx

    def compile_root(self) -> Fn:
        return self.compile(self.checked.root).fn

    def compile(self, node: Expr) -> Code:
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
                return Code(lambda v: [_decimal(item) for item in inner(v)])
            return Code(lambda v: _decimal(inner(v)))
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

    def _fold(self, fn: Fn, *children: Code) -> Code:
        """`fn` as a constant when its operands are; a fold that fails stays a function, to
        fail (or not, in an untaken branch) at run time as before."""
        if all(child.constant for child in children):
            try:
                return _constant(fn({}))
            except Exception:  # any failure: leave it to run time
                return Code(fn)
        return Code(fn)

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
        return self._fold(lambda v: -inner(v), operand)

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
        if isinstance(left_type, DateType | DateTimeType) and isinstance(right_type, DurationType):
            sign = 1 if op is BinaryOperator.ADD else -1
            return self._shift(node, a, b, sign, left, right)
        if isinstance(left_type, DurationType) and isinstance(right_type, DateType | DateTimeType):
            return self._shift(node, b, a, 1, left, right)
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
                return ARITHMETIC.divide(Decimal(a(v)), Decimal(divisor))
            x = a(v)  # the remainder takes the dividend's sign, as for decimals: -7 % 2 is -1
            return abs(x) % abs(divisor) * (1 if x >= 0 else -1)

        return evaluate

    def _decimal_arithmetic(self, node: BinaryOp, left: Code, right: Code) -> Fn:
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

    # -- calls -------------------------------------------------------------------------------------

    def _call(self, node: Call) -> Code:  # noqa: C901  # one specialisation per function
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
                    return Code(lambda v: v[CONTEXT].now)
                return Code(lambda v: v[CONTEXT].today)
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

    def _days(self, name: str, x: Fn, arg_type: Type, only: Code) -> Code:
        """`days_since`/`days_until`, with today and the zone folded in (or read per call)."""
        ctx = self.context()
        since = name == "days_since"
        if ctx is None:
            if since:
                return Code(lambda v: (v[CONTEXT].today - v[CONTEXT].local_date(x(v))).days)
            return Code(lambda v: (v[CONTEXT].local_date(x(v)) - v[CONTEXT].today).days)
        today, zone = ctx.today, ctx.tz
        if isinstance(arg_type, DateTimeType):
            if since:
                return self._fold(lambda v: (today - x(v).astimezone(zone).date()).days, only)
            return self._fold(lambda v: (x(v).astimezone(zone).date() - today).days, only)
        local_date = ctx.local_date
        if since:
            return self._fold(lambda v: (today - local_date(x(v))).days, only)
        return self._fold(lambda v: (local_date(x(v)) - today).days, only)

    def _quantifier(self, node: Call, args: list[Code]) -> Code:  # noqa: C901  # one per form
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

            return Code(any_item)
        if name == "all":

            def all_items(v: dict[str, Any]) -> bool:
                local = dict(v)
                for element in items(v):
                    local[BOUND_NAME] = element
                    if not predicate(local):
                        return False
                return True

            return Code(all_items)

        def per_item(v: dict[str, Any]) -> list[Any]:
            local = dict(v)
            values = []
            for element in items(v):
                local[BOUND_NAME] = element
                values.append(predicate(local))
            return values

        if name == "count":
            return Code(lambda v: sum(1 for hit in per_item(v) if hit))
        if isinstance(self.type_of(node), IntType):
            return Code(lambda v: sum(per_item(v)))  # whole numbers: the builtin is exact
        return Code(lambda v: _sum(per_item(v)))
