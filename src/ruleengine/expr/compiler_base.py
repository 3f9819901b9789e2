"""The compiler's state and the compilation of function calls (`Compiler`'s base).

`compiler.Compiler` specialises operators, fields and conditionals; this base holds what every
part of it shares (the checked expression, the context to fold in, `fail`, constant folding)
and the specialisations of the built-in functions and quantifiers (`len`, `floor`,
`days_since`, `any(items, ...)`, ...). Split from `compiler.py` to keep modules small; the
design notes are in its docstring.
"""

from __future__ import annotations

import decimal
import math
from typing import Any

from ruleengine.expr.ast import Call, Conditional, Constant, Expr, ListExpr
from ruleengine.expr.checked import CheckedExpr
from ruleengine.expr.closures import Code, Fail, Fn, _constant, _decimal, _is_decimal, _sum
from ruleengine.expr.functions import BOUND_NAME, FUNCTIONS
from ruleengine.expr.runtime import EvalContext, EvaluationError
from ruleengine.expr.types import (
    DateTimeType,
    DecimalType,
    IntType,
    MoneyType,
    NeverType,
    NullType,
    Type,
)


class NeedsContextError(Exception):
    """Raised while compiling without a context by a node that reads it (`now()`)."""


class _Dynamic:
    """Compile against the context of each call: context nodes read `v[CONTEXT]`."""


DYNAMIC = _Dynamic()
CONTEXT: Any = object()
"""The key under which a dynamic program finds its `EvalContext` in the variables: an object,
not text, so it can never collide with a name of the language."""


class CompilerBase:
    """What the compiler's parts share, and the calls; `Compiler` adds the rest."""

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
        if isinstance(node, (Call, Conditional, ListExpr)) and self._needs_decimal(node):
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
                _is_decimal(t) or isinstance(t, (NullType, NeverType))
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
        raise NotImplementedError  # `Compiler._compile`

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
            if name == "round" and isinstance(arg_type, (DecimalType, MoneyType)):
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
