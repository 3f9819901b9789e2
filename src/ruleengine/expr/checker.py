"""The static pass: (AST, scope) -> CheckedExpr with a type for every node, or diagnostics.

The checker reports every problem it finds in one pass. A node whose check failed gets no type
(None), and its parents stay quiet about it, so one mistake gives one diagnostic, not a cascade.

Null is explicit. An optional value (`customer.tier`, typed `string?`) may be compared with
`==`/`!=`/`in`, which are false for null, but any other use needs a test or a default. Tests
narrow: in `customer.birthday != null and days_since(customer.birthday) < 30` the right side
sees `customer.birthday` as a `date`. `if X != null then ... else ...` narrows its `then`
branch, and `X == null or ...` its right side. A quantifier's condition binds a new `item`,
so it starts without the facts about the outer `item` (`item`, `item.vendor`, `item[0]`...).

The typing rules of operators are in `type_rules`; what the checker produces, `CheckedExpr`,
in `checked`; the checker's helpers and the checks of binary operators in `checker_base`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import assert_never

from ruleengine.diagnostics.diagnostic import Diagnostic
from ruleengine.expr.ast import (
    BinaryOp,
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
from ruleengine.expr.checked import CheckedExpr, forget, nonnull_facts, path_of
from ruleengine.expr.checker_base import CheckerBase
from ruleengine.expr.functions import BOUND_NAME, FUNCTIONS, Argument, SignatureError
from ruleengine.expr.parser import ExpressionSource
from ruleengine.expr.runtime import parse_day
from ruleengine.expr.scope import Scope
from ruleengine.expr.type_rules import (
    arity,
    is_number_literal,
    is_number_literal_list,
    is_text,
    suggest,
)
from ruleengine.expr.types import (
    BOOL,
    CALENDAR_DURATION,
    DATE,
    DECIMAL,
    DURATION,
    INT,
    NEVER,
    NULL,
    STRING,
    DecimalType,
    DurationType,
    IntType,
    ListType,
    MoneyType,
    OptionalType,
    RecordType,
    StrType,
    Type,
    is_optional,
    join,
    optional,
    strip_optional,
)
from ruleengine.expr.values import Duration

# Names that are other languages' spellings of the keywords `true`, `false` and `null`
# (`True`, `NULL`, `None`, ...), by their lower-case form.
_KEYWORD_SPELLINGS = {
    "true": "true",
    "false": "false",
    "null": "null",
    "none": "null",
    "nil": "null",
}


def check_expression(
    expr: Expr, scope: Scope, src: ExpressionSource
) -> tuple[CheckedExpr | None, list[Diagnostic]]:
    """Type-check `expr` in `scope`; returns the checked expression or all diagnostics."""
    checker = _Checker(scope, src)
    result = checker.check(expr, frozenset())
    if result is None or checker.diagnostics:
        return None, checker.diagnostics
    return CheckedExpr(expr, result, checker.types, src), []


class _Checker(CheckerBase):
    # -- nodes ----------------------------------------------------------------------------------

    def _check(self, node: Expr, narrowed: frozenset[str]) -> Type | None:
        match node:
            case Constant():
                return self._constant(node)
            case Name():
                return self._name(node, narrowed)
            case FieldAccess():
                return self._field(node, narrowed)
            case Index():
                return self._index(node, narrowed)
            case UnaryOp():
                return self._unary(node, narrowed)
            case BinaryOp():
                return self._binary(node, narrowed)
            case Call():
                return self._call(node, narrowed)
            case ListExpr():
                return self._list(node, narrowed)
            case Conditional():
                return self._conditional(node, narrowed)
            case _:
                assert_never(node)

    def _constant(self, node: Constant) -> Type:
        value = node.value
        if value is None:
            return NULL
        if isinstance(value, bool):
            return BOOL
        if isinstance(value, int):
            return INT
        if isinstance(value, Decimal):
            return DECIMAL
        if isinstance(value, str):
            return STRING
        if isinstance(value, Duration):
            return CALENDAR_DURATION if value.is_calendar else DURATION
        if isinstance(value, date):
            return DATE
        assert_never(value)

    def _name(self, node: Name, narrowed: frozenset[str]) -> Type | None:
        found = self.bound.get(node.name, self.scope.roots.get(node.name))
        if found is not None:
            # a bare name is a path too: `x != null and x > 1` narrows `x`, as it does a field
            return strip_optional(found) if node.name in narrowed else found
        if node.name in self.scope.elsewhere:
            visible = ", ".join(f"`{n}`" for n in self.scope.roots)
            self.error(
                node.span,
                "RE410",
                self.scope.elsewhere[node.name],
                f"{self.scope.context} can use {visible}",
            )
            return None
        if node.name == BOUND_NAME:
            self.error(
                node.span,
                "RE401",
                f"`{BOUND_NAME}` is only defined inside `any`, `all`, `count` and `sum`",
                f"for example `any(order.items, {BOUND_NAME}.quantity > 1)`",
            )
            return None
        if node.name in FUNCTIONS:
            takes_nothing = FUNCTIONS[node.name].max_args == 0
            self.error(
                node.span,
                "RE401",
                f"`{node.name}` is a function, not a value",
                f"call it: `{node.name}({'' if takes_nothing else '...'})`",
            )
            return None
        names = [*self.bound, *self.scope.roots]
        keyword = _KEYWORD_SPELLINGS.get(node.name.lower())
        hint = (
            f"did you mean `{keyword}`? `true`, `false` and `null` are written in lower case"
            if keyword is not None
            else suggest(node.name, names) or self.field_hint(node.name)
        )
        if hint is None:
            self.unquoted[id(node)] = len(self.diagnostics)
        self.error(node.span, "RE401", f"unknown name `{node.name}`", hint)
        return None

    def field_hint(self, name: str) -> str | None:
        """`region == "EU"`: a bare name that is a field of a root (`customer.region`, an
        attribute, or `order.subtotal`) is that field without its record."""
        found = [
            f"`{root}.{name}`"
            for root, kind in self.scope.roots.items()
            if isinstance(kind, RecordType) and kind.field(name) is not None
        ]
        if not found:
            return None
        return f"did you mean {' or '.join(found)}? fields are read through their record"

    def _field(self, node: FieldAccess, narrowed: frozenset[str]) -> Type | None:
        target = self.check(node.target, narrowed)
        if target is None:
            return None
        if isinstance(target, OptionalType) and isinstance(target.inner, RecordType):
            self.null_error(node.target, "used for field access")
            return None
        if not isinstance(target, RecordType):
            self.error(
                node.name_span,
                "RE412",
                f"`{self.text(node.target)}` is `{target}`, which has no field `{node.name}`",
            )
            return None
        field = target.field(node.name)
        if field is None:
            hint = suggest(node.name, target.field_names, prefix=f"{path_of(node.target)}.")
            if hint is None and target.name == "customer":
                hint = "declare custom customer fields under `attributes`"
            self.error(
                node.name_span, "RE402", f"unknown field `{node.name}` on `{target.name}`", hint
            )
            return None
        path = path_of(node)
        if path is not None and path in narrowed:
            return strip_optional(field)
        return field

    def _index(self, node: Index, narrowed: frozenset[str]) -> Type | None:
        target = self.check(node.target, narrowed)
        index = self.check(node.index, narrowed)
        if target is None or index is None:
            return None
        indexed = strip_optional(target)
        if not isinstance(indexed, (ListType, StrType)):
            self.error(
                node.target.span,
                "RE412",
                f"`{self.text(node.target)}` is `{target}`, which cannot be indexed",
            )
            return None
        if is_optional(target):
            self.null_error(node.target, "indexed")
            return None
        if not isinstance(strip_optional(index), IntType):
            self.error(node.index.span, "RE405", f"an index must be a whole number, not `{index}`")
            return None
        if is_optional(index):
            self.null_error(node.index, "used as an index")
            return None
        # Out of range gives null: the language is total.
        path = path_of(node)
        element = indexed.element if isinstance(indexed, ListType) else STRING
        return element if path is not None and path in narrowed else optional(element)

    def _unary(self, node: UnaryOp, narrowed: frozenset[str]) -> Type | None:
        operand = self.check(node.operand, narrowed)
        if operand is None:
            return None
        if node.op is UnaryOperator.NOT:
            return self._need_bool(node.operand, operand, "`not`")
        # The type first: text can never be negated, whether it is present or not.
        if not isinstance(
            strip_optional(operand), IntType | DecimalType | MoneyType | DurationType
        ):
            self.error(node.span, "RE405", f"cannot negate `{operand}`")
            return None
        if is_optional(operand):
            self.null_error(node.operand, "negated")
            return None
        return operand

    def _call(self, node: Call, narrowed: frozenset[str]) -> Type | None:
        function = FUNCTIONS.get(node.name)
        if function is None:
            self.error(
                node.name_span,
                "RE403",
                f"unknown function `{node.name}`",
                suggest(node.name, FUNCTIONS, suffix="()"),
            )
            for arg in node.args:
                self.check(arg, narrowed)
            return None
        count = len(node.args)
        if count < function.min_args or (
            function.max_args is not None and count > function.max_args
        ):
            self.error(
                node.span,
                "RE404",
                f"`{node.name}` takes {arity(function.min_args, function.max_args)}, got {count}",
                f"usage: {function.signature}",
            )
            return None
        if node.name == "date":
            return self._date_literal(node)
        arg_types: list[Type | None] = []
        for index, arg in enumerate(node.args):
            if function.binds_item and index == 1:
                # An optional list still binds `item`, so the predicate is checked; the list
                # itself is then reported as possibly null (RE409) by the signature check.
                first = strip_optional(arg_types[0]) if arg_types[0] is not None else None
                if first is None or not isinstance(first, ListType):
                    arg_types.append(None)
                    continue
                saved = self.bound.get(BOUND_NAME)
                self.bound[BOUND_NAME] = first.element
                # `item` is a new variable here: what the outer scope knew about its own
                # `item` (`item.vendor != null and any(..., item.vendor ...)`) does not apply.
                arg_types.append(self.check(arg, forget(narrowed, BOUND_NAME)))
                if saved is None:
                    del self.bound[BOUND_NAME]
                else:
                    self.bound[BOUND_NAME] = saved
            else:
                arg_types.append(self.check(arg, narrowed))
        if any(t is None for t in arg_types):
            if (
                function.binds_item
                and arg_types
                and arg_types[0] is not None
                and not isinstance(strip_optional(arg_types[0]), ListType)
            ):
                self._signature_problem(
                    node,
                    SignatureError("RE414", f"argument 1 must be a list, not `{arg_types[0]}`", 0),
                )
            return None
        arguments = [
            Argument(t, is_number_literal(a), is_number_literal_list(a))
            for t, a in zip(arg_types, node.args, strict=True)
            if t
        ]
        try:
            return function.check(arguments)
        except SignatureError as problem:
            self._signature_problem(node, problem)
            return None

    def _signature_problem(self, node: Call, problem: SignatureError) -> None:
        span = node.span if problem.argument is None else node.args[problem.argument].span
        if problem.code == "RE409" and problem.argument is not None:
            self.null_error(node.args[problem.argument], f"passed to `{node.name}`")
            return
        self.error(span, problem.code, f"`{node.name}`: {problem.message}", problem.hint)

    def _date_literal(self, node: Call) -> Type | None:
        (arg,) = node.args
        if not (isinstance(arg, Constant) and isinstance(arg.value, str)):
            self.error(
                arg.span, "RE406", '`date` takes a literal text such as `date("2026-01-01")`'
            )
            return None
        try:
            parse_day(arg.value)
        except ValueError as error:
            self.error(
                arg.span,
                "RE411",
                str(error),
                'write the date as YYYY-MM-DD, such as `date("2026-01-31")`',
            )
            return None
        self.types[id(arg)] = STRING
        return DATE

    def _list(self, node: ListExpr, narrowed: frozenset[str]) -> Type | None:
        element: Type = NEVER
        literal = True
        ok = True
        text = False
        for item in node.items:
            t = self.check(item, narrowed)
            text = text or is_text(t)
            if t is None:
                ok = False
                continue
            joined = join(element, t, a_literal=literal, b_literal=is_number_literal(item))
            if joined is None:
                self.error(
                    item.span,
                    "RE413",
                    f"list elements must have one type; this one is "
                    f"`{t}`, the ones before are `{element}`",
                )
                ok = False
                continue
            element, literal = joined, literal and is_number_literal(item)
        if text:  # `["gold", silver]`: `silver` is text without its quotes
            for item in node.items:
                self.quote_hint(item)
        return ListType(element) if ok else None

    def _conditional(self, node: Conditional, narrowed: frozenset[str]) -> Type | None:
        condition = self.check(node.condition, narrowed)
        then = self.check(node.then_branch, narrowed | nonnull_facts(node.condition, True))
        other = self.check(node.else_branch, narrowed | nonnull_facts(node.condition, False))
        if condition is None or then is None or other is None:
            return None
        if not self._need_bool(node.condition, condition, "`if`"):
            return None
        joined = join(
            then,
            other,
            a_literal=is_number_literal(node.then_branch),
            b_literal=is_number_literal(node.else_branch),
        )
        if joined is None:
            self.error(
                node.span,
                "RE405",
                f"the branches of `if` have different types: `{then}` and `{other}`",
            )
            return None
        return joined
