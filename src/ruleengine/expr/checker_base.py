"""The checker's base: its state and helpers, and the checks of the operators.

`CheckerBase` holds what every check needs (the diagnostics, the types found so far, `error`,
`check`) and the checks of binary operators (`and`/`or`, equality, ordering, membership,
arithmetic), with the quote hints for text written without quotes. `checker._Checker` adds the
other nodes. The typing rules themselves are in `type_rules`.
"""

from __future__ import annotations

from dataclasses import replace

from ruleengine.diagnostics.diagnostic import Diagnostic
from ruleengine.diagnostics.source import Span
from ruleengine.expr.ast import (
    BinaryOp,
    BinaryOperator,
    Conditional,
    Expr,
    ListExpr,
    Name,
    UnaryOp,
    UnaryOperator,
)
from ruleengine.expr.checked import nonnull_facts
from ruleengine.expr.parser import ExpressionSource
from ruleengine.expr.scope import Scope
from ruleengine.expr.type_rules import (
    EQUALITY,
    MEMBERSHIP,
    ORDERING,
    SECONDS_PER_DAY,
    VERB,
    arithmetic_type,
    comparable_operands,
    constant_duration,
    is_number_literal,
    is_number_literal_list,
    is_text,
    is_text_list,
    is_zero,
)
from ruleengine.expr.types import (
    BOOL,
    BoolType,
    DateTimeType,
    DateType,
    DurationType,
    IntType,
    ListType,
    MoneyType,
    NullType,
    OptionalType,
    StrType,
    Type,
    fits_element,
    is_numeric,
    is_optional,
    strip_optional,
)


class CheckerBase:
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

    def _check(self, node: Expr, narrowed: frozenset[str]) -> Type | None:
        raise NotImplementedError

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
        elif (isinstance(left, (DateType, DateTimeType)) and is_numeric(right)) or (
            isinstance(right, (DateType, DateTimeType)) and is_numeric(left)
        ):
            hint = 'compare dates with dates (`date("2026-01-01")`) or use `days_since(...)`'
        preposition = "with" if verb in ("compare", "search") else "and"
        self.error(
            node.span,
            "RE405",
            f"cannot {verb} `{shown_left}` {preposition} `{shown_right}` (`{node.op.value}`)",
            hint,
        )
