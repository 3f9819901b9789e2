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
in `checked`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import assert_never

from ruleengine.diagnostics.diagnostic import Diagnostic
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
from ruleengine.expr.checked import CheckedExpr, forget, nonnull_facts, path_of
from ruleengine.expr.functions import BOUND_NAME, FUNCTIONS, Argument, SignatureError
from ruleengine.expr.parser import ExpressionSource
from ruleengine.expr.scope import Scope
from ruleengine.expr.type_rules import (
    EQUALITY,
    MEMBERSHIP,
    ORDERING,
    SECONDS_PER_DAY,
    VERB,
    arithmetic_type,
    arity,
    comparable_operands,
    constant_duration,
    is_number_literal,
    is_number_literal_list,
    is_text,
    is_text_list,
    is_zero,
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
    BoolType,
    DateTimeType,
    DateType,
    DecimalType,
    DurationType,
    IntType,
    ListType,
    MoneyType,
    NullType,
    OptionalType,
    RecordType,
    StrType,
    Type,
    fits_element,
    is_numeric,
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


class _Checker:
    def __init__(self, scope: Scope, src: ExpressionSource) -> None:
        self.scope = scope
        self.src = src
        self.diagnostics: list[Diagnostic] = []
        self.types: dict[int, Type] = {}
        self.bound: dict[str, Type] = {}
        # Unknown bare names reported without a hint, by id(node) -> index in `diagnostics`:
        # the one that turns out to stand where text belongs gets the quote hint.
        self.unquoted: dict[int, int] = {}

    # -- helpers -----------------------------------------------------------------------------

    def error(self, span: Span, code: str, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(self.src.report(span, code, message, hint=hint))

    def text(self, node: Expr) -> str:
        return self.src.text[node.span.start : node.span.end]

    def null_error(self, node: Expr, doing: str) -> None:
        text = self.text(node)
        self.error(
            node.span,
            "RE409",
            f"`{text}` may be null, so it cannot be {doing}",
            f"give a default with `coalesce({text}, ...)`, or test `{text} != null and ...`",
        )

    def check(self, node: Expr, narrowed: frozenset[str]) -> Type | None:
        result = self._check(node, narrowed)
        if result is not None:
            self.types[id(node)] = result
        return result

    # -- nodes ----------------------------------------------------------------------------------

    def _check(self, node: Expr, narrowed: frozenset[str]) -> Type | None:
        match node:
            case Constant():
                return self._constant(node)
            case Name():
                return self._name(node)
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

    def _name(self, node: Name) -> Type | None:
        if node.name in self.bound:
            return self.bound[node.name]
        if node.name in self.scope.roots:
            return self.scope.roots[node.name]
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
            else suggest(node.name, names)
        )
        if hint is None:
            self.unquoted[id(node)] = len(self.diagnostics)
        self.error(node.span, "RE401", f"unknown name `{node.name}`", hint)
        return None

    def quote_hint(self, node: Expr) -> None:
        """`customer.tier == gold`: an unknown bare name where text belongs (compared with,
        searched for in, or listed with text) is most likely text without its quotes. Only
        for a name that got no other hint: a close known name (`did you mean`) wins."""
        index = self.unquoted.pop(id(node), None)
        if index is not None and isinstance(node, Name):
            hint = f'text needs quotes: did you mean the string `"{node.name}"`?'
            self.diagnostics[index] = replace(self.diagnostics[index], hint=hint)

    def quote_hints(self, node: BinaryOp, left: Type | None, right: Type | None) -> None:
        """The quote hint for the operands of `==`, `!=`, `in` and `not in` that stand where
        text belongs: beside text, before `in` text or a list of text, or in a list written
        after `in` for text (`customer.tier in [gold, silver]`)."""
        if is_text(right) or (node.op in MEMBERSHIP and is_text_list(right)):
            self.quote_hint(node.left)
        if is_text(left):
            if node.op in EQUALITY:
                self.quote_hint(node.right)
            elif isinstance(node.right, ListExpr):
                for item in node.right.items:
                    self.quote_hint(item)

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
        if not isinstance(indexed, ListType | StrType):
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

    def _need_bool(self, node: Expr, t: Type, where: str) -> Type | None:
        if isinstance(t, BoolType):
            return BOOL
        if isinstance(t, OptionalType) and isinstance(t.inner, BoolType):
            self.null_error(node, f"used with {where}")
            return None
        self.error(
            node.span, "RE405", f"{where} needs true/false, but `{self.text(node)}` is `{t}`"
        )
        return None

    def _binary(self, node: BinaryOp, narrowed: frozenset[str]) -> Type | None:
        op = node.op
        if op in (BinaryOperator.AND, BinaryOperator.OR):
            left = self.check(node.left, narrowed)
            right_narrowed = narrowed | nonnull_facts(node.left, op is BinaryOperator.AND)
            right = self.check(node.right, right_narrowed)
            ok_left = left is not None and self._need_bool(node.left, left, f"`{op.value}`")
            ok_right = right is not None and self._need_bool(node.right, right, f"`{op.value}`")
            return BOOL if ok_left and ok_right else None
        left = self.check(node.left, narrowed)
        right = self.check(node.right, narrowed)
        if op in EQUALITY or op in MEMBERSHIP:
            self.quote_hints(node, left, right)
        if left is None or right is None:
            return None
        if op in EQUALITY:
            return self._equality(node, left, right)
        if op in ORDERING:
            return self._ordering(node, left, right)
        if op in MEMBERSHIP:
            return self._membership(node, left, right)
        return self._arithmetic(node, left, right)

    def _equality(self, node: BinaryOp, left: Type, right: Type) -> Type | None:
        if isinstance(left, NullType) or isinstance(right, NullType):
            other, other_node = (
                (right, node.right) if isinstance(left, NullType) else (left, node.left)
            )
            if is_optional(other):
                return BOOL
            self.error(
                node.span,
                "RE405",
                f"`{self.text(other_node)}` is `{other}` and never "
                "null, so this comparison is always "
                f"{'false' if node.op is BinaryOperator.EQ else 'true'}",
            )
            return None
        if comparable_operands(
            strip_optional(left), node.left, strip_optional(right), node.right, ordering=False
        ):
            return BOOL
        if not self._duration_mismatch(node, strip_optional(left), strip_optional(right)):
            self._mismatch(node, left, right, "compare")
        return None

    def _ordering(self, node: BinaryOp, left: Type, right: Type) -> Type | None:
        # The types first: a value that could never be ordered is not a question of null.
        inner_left, inner_right = strip_optional(left), strip_optional(right)
        if not comparable_operands(inner_left, node.left, inner_right, node.right, ordering=True):
            if not self._duration_mismatch(node, inner_left, inner_right):
                self._mismatch(node, left, right, "compare")
            return None
        for side, t in ((node.left, left), (node.right, right)):
            if is_optional(t):
                self.null_error(side, f"compared with `{node.op.value}`")
                return None
        return BOOL

    def _duration_mismatch(self, node: BinaryOp, left: Type, right: Type) -> bool:
        """Report a comparison of durations that have no single answer; False if these are
        not two durations."""
        if not (isinstance(left, DurationType) and isinstance(right, DurationType)):
            return False
        message = (
            "calendar durations (months, years) cannot be ordered"
            if left.calendar and right.calendar
            else "calendar durations (months, years) cannot be compared with exact durations"
        )
        self.error(
            node.span, "RE405", message, "compare dates instead, e.g. `order.at < now() - 3mo`"
        )
        return True

    def _membership(self, node: BinaryOp, left: Type, right: Type) -> Type | None:
        container = strip_optional(right)
        if isinstance(container, StrType):
            if not isinstance(strip_optional(left), StrType):
                self._mismatch(node, left, right, "search")
                return None
        elif isinstance(container, ListType):
            if not fits_element(
                left,
                container.element,
                value_literal=is_number_literal(node.left),
                literal_elements=is_number_literal_list(node.right),
            ):
                self.error(
                    node.span,
                    "RE405",
                    f"cannot look for `{left}` in `{right}`",
                    "the value and the list elements must have the same type",
                )
                return None
        else:
            self.error(
                node.right.span,
                "RE414",
                f"`{self.text(node.right)}` is `{right}`, "
                f"not a list or text, so `{node.op.value}` cannot search it",
            )
            return None
        # The types fit; only now is a possibly missing value worth mentioning.
        if is_optional(right):
            self.null_error(node.right, f"searched with `{node.op.value}`")
            return None
        if isinstance(container, StrType) and is_optional(left):
            self.null_error(node.left, "searched for in text")
            return None
        return BOOL

    def _arithmetic(self, node: BinaryOp, left: Type, right: Type) -> Type | None:
        # The types first: text plus a number is wrong whether or not the text may be null.
        result = arithmetic_type(
            node.op, strip_optional(left), node.left, strip_optional(right), node.right
        )
        if result is not None:
            for side, t in ((node.left, left), (node.right, right)):
                if is_optional(t):
                    self.null_error(side, f"used with `{node.op.value}`")
                    return None
            if node.op in (BinaryOperator.DIV, BinaryOperator.MOD) and is_zero(node.right):
                self.error(node.right.span, "RE405", "division by zero")
                return None
            if isinstance(result, DateType) and not self._shifts_by_days(node, left):
                return None
            return result
        self._mismatch(node, left, right, VERB[node.op])
        return None

    def _shifts_by_days(self, node: BinaryOp, left: Type) -> bool:
        """A date moves by whole days: report a duration added to or subtracted from a date
        that is not (or may not be) a whole number of days, which would be cut silently."""
        duration = node.right if isinstance(left, DateType) else node.left
        if self._whole_days(duration):
            return True
        verb = "added to" if node.op is BinaryOperator.ADD else "subtracted from"
        text = self.text(duration)
        if constant_duration(duration) is not None:
            self.error(
                duration.span,
                "RE405",
                f"`{text}` is not a whole number of days, so it cannot be {verb} a date",
                "dates move by whole days: write days or weeks (`1d`, `2w`), or use a "
                "datetime, as in `now() - 12h`",
            )
        else:
            self.error(
                duration.span,
                "RE405",
                f"`{text}` may not be a whole number of days, so it cannot be {verb} a date",
                "dates move by whole days: use durations written in days, weeks, months or "
                "years (`7d`, `2w`, `3mo`), or datetimes such as `now()` instead of `today()`",
            )
        return False

    def _whole_days(self, node: Expr) -> bool:
        """Whether a duration is known to be whole days (plus any months): a constant that is,
        or made of such durations and differences of dates by `+`, `-`, `*`, negation and
        `if`."""
        constant = constant_duration(node)
        if constant is not None:
            return constant.seconds % SECONDS_PER_DAY == 0
        match node:
            case UnaryOp(op=UnaryOperator.NEG):
                return self._whole_days(node.operand)
            case BinaryOp(op=BinaryOperator.SUB) if isinstance(
                self.types.get(id(node.left)), DateType
            ):
                return True  # `date - date`
            case BinaryOp(op=BinaryOperator.ADD | BinaryOperator.SUB):
                return self._whole_days(node.left) and self._whole_days(node.right)
            case BinaryOp(op=BinaryOperator.MUL):  # a whole number times a duration
                left_is_int = isinstance(self.types.get(id(node.left)), IntType)
                return self._whole_days(node.right if left_is_int else node.left)
            case Conditional():
                return self._whole_days(node.then_branch) and self._whole_days(node.else_branch)
        return False

    def _mismatch(self, node: BinaryOp, shown_left: Type, shown_right: Type, verb: str) -> None:
        hint: str | None = None
        left, right = strip_optional(shown_left), strip_optional(shown_right)  # for the hint
        money = {isinstance(left, MoneyType), isinstance(right, MoneyType)}
        if money == {True, False} and (is_numeric(left) or is_numeric(right)):
            hint = (
                "money and plain numbers do not mix: convert the amount with `floor(...)`, "
                "or compare with a number literal such as `20`"
            )
        elif node.op in ORDERING and (isinstance(left, ListType) or isinstance(right, ListType)):
            side = node.left if isinstance(left, ListType) else node.right
            hint = f"compare its length: `len({self.text(side)})`"
        elif {type(left), type(right)} == {StrType, IntType} and node.op is BinaryOperator.ADD:
            hint = "text and numbers cannot be added"
        elif (isinstance(left, DateType | DateTimeType) and is_numeric(right)) or (
            isinstance(right, DateType | DateTimeType) and is_numeric(left)
        ):
            hint = 'compare dates with dates (`date("2026-01-01")`) or use `days_since(...)`'
        preposition = "with" if verb in ("compare", "search") else "and"
        self.error(
            node.span,
            "RE405",
            f"cannot {verb} `{shown_left}` {preposition} `{shown_right}` (`{node.op.value}`)",
            hint,
        )

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
            date.fromisoformat(arg.value)
            if len(arg.value) != 10:
                raise ValueError(arg.value)
        except ValueError:
            self.error(
                arg.span,
                "RE411",
                f"`{arg.value}` is not a valid date",
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
