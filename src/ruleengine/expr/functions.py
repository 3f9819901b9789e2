"""The built-in functions: signature checks for the checker, pure implementations for the compiler.

Each function has a `check` that receives the argument types and returns the result type or
raises `SignatureError`, and an `implement` that receives the evaluation context and argument
values. The quantifiers (`any`, `all`, `count`, `sum` with a predicate) evaluate their second
argument once per element, with the element bound to `item`; the compiler handles them itself.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec

from ruleengine.expr.runtime import ROUNDING, EvalContext, parse_day
from ruleengine.expr.types import (
    BOOL,
    DATE,
    DATETIME,
    DECIMAL,
    INT,
    NEVER,
    STRING,
    DateTimeType,
    DateType,
    IntType,
    ListType,
    NeverType,
    NullType,
    OptionalType,
    StrType,
    Type,
    fits_element,
    is_amount,
    join,
    optional,
    strip_optional,
)

BOUND_NAME = "item"


class SignatureError(Exception):
    """An argument does not fit; `argument` is its index, or None for the whole call."""

    def __init__(
        self, code: str, message: str, argument: int | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.argument = argument
        self.hint = hint


class Argument(msgspec.Struct, frozen=True):
    type: Type
    is_literal: bool  # a number literal, which may stand for money
    literal_elements: bool = False  # a list of number literals (`[10, 20]`), likewise


Check = Callable[[Sequence[Argument]], Type]
Implementation = Callable[..., Any]


class Function(msgspec.Struct, frozen=True):
    name: str
    min_args: int
    max_args: int | None  # None: any number
    signature: str  # as documented, e.g. "floor(number) -> int"
    summary: str
    check: Check
    implement: Implementation | None  # None for quantifiers (compiled specially)
    binds_item: bool = False  # the second argument is evaluated per element, as `item`


# -- argument helpers ----------------------------------------------------------------------


def _need(
    args: Sequence[Argument], index: int, accepted: Callable[[Type], bool], what: str
) -> Type:
    arg = args[index].type
    if isinstance(arg, OptionalType | NullType) and accepted(strip_optional(arg)):
        raise SignatureError("RE409", f"argument {index + 1} may be null", index)
    if not accepted(arg):
        raise SignatureError("RE406", f"argument {index + 1} must be {what}, not `{arg}`", index)
    return arg


def _is_string(t: Type) -> bool:
    return isinstance(t, StrType)


def _is_when(t: Type) -> bool:
    return isinstance(t, DateType | DateTimeType)


def _is_list(t: Type) -> bool:
    return isinstance(t, ListType)


def _element(t: Type) -> Type:
    assert isinstance(t, ListType)
    return t.element


# -- rounding and arithmetic -----------------------------------------------------------------


def _check_to_int(args: Sequence[Argument]) -> Type:
    _need(args, 0, is_amount, "a number or money")
    return INT


def _check_round(args: Sequence[Argument]) -> Type:
    value = _need(args, 0, is_amount, "a number or money")
    if len(args) == 1:
        return INT
    _need(args, 1, lambda t: isinstance(t, IntType), "a whole number of decimal places")
    return DECIMAL if isinstance(value, IntType) else value


def _to_integral(value: int | Decimal, rounding: str) -> int:
    if isinstance(value, int):
        return value
    return int(value.to_integral_value(rounding=rounding))


def _round(_: EvalContext, value: int | Decimal, places: int | None = None) -> int | Decimal:
    if places is None:
        return _to_integral(value, decimal.ROUND_HALF_UP)
    # in `ROUNDING`, not the calling thread's context: exact up to its 100 digits, an error
    # (RE602) beyond them
    exponent = ROUNDING.scaleb(Decimal(1), -places)
    return Decimal(value).quantize(exponent, context=ROUNDING)


def _check_abs(args: Sequence[Argument]) -> Type:
    return _need(args, 0, is_amount, "a number or money")


def _check_min_max(args: Sequence[Argument]) -> Type:
    if len(args) == 1:
        items = _need(
            args,
            0,
            lambda t: _is_list(t) and (is_amount(_element(t)) or _element(t) == NEVER),
            "a list of numbers, or two or more numbers",
        )
        element = _element(items)
        # `[]` has no element type; like `sum([])` (an `int` 0), its minimum is an `int?`: null.
        return optional(INT if element == NEVER else element)
    result = _need(args, 0, is_amount, "a number or money")
    literal = args[0].is_literal
    for index in range(1, len(args)):
        t = _need(args, index, is_amount, "a number or money")
        joined = join(result, t, a_literal=literal, b_literal=args[index].is_literal)
        if joined is None:
            raise SignatureError(
                "RE406",
                f"argument {index + 1} is `{t}`, but the one before is `{result}`",
                index,
                "money and plain numbers do not mix",
            )
        result, literal = joined, literal and args[index].is_literal
    return result


def _min(_: EvalContext, *values: Any) -> Any:
    items = values[0] if len(values) == 1 else values
    return min(items) if items else None


def _max(_: EvalContext, *values: Any) -> Any:
    items = values[0] if len(values) == 1 else values
    return max(items) if items else None


# -- text and lists -------------------------------------------------------------------------------


def _check_len(args: Sequence[Argument]) -> Type:
    _need(args, 0, lambda t: _is_string(t) or _is_list(t), "a list or text")
    return INT


def _check_text(args: Sequence[Argument]) -> Type:
    _need(args, 0, _is_string, "text")
    return STRING


def _check_text_test(args: Sequence[Argument]) -> Type:
    _need(args, 0, _is_string, "text")
    _need(args, 1, _is_string, "text")
    return BOOL


def _check_contains(args: Sequence[Argument]) -> Type:
    container = _need(args, 0, lambda t: _is_string(t) or _is_list(t), "a list or text")
    if isinstance(container, StrType):
        _need(args, 1, _is_string, "text")
        return BOOL
    value, element = args[1], _element(container)
    if not fits_element(
        value.type,
        element,
        value_literal=value.is_literal,
        literal_elements=args[0].literal_elements,
    ):
        raise SignatureError(
            "RE406",
            f"argument 2 is `{value.type}`, but the list's elements are `{element}`",
            1,
            "the value and the list elements must have the same type",
        )
    return BOOL


def _contains(_: EvalContext, container: Any, value: Any) -> bool:
    if isinstance(container, str):
        return isinstance(value, str) and value in container
    return value in container


# -- dates --------------------------------------------------------------------------------------


def _check_days(args: Sequence[Argument]) -> Type:
    _need(args, 0, _is_when, "a date or datetime")
    return INT


def _days_since(ctx: EvalContext, value: date | datetime) -> int:
    return (ctx.today - ctx.local_date(value)).days


def _days_until(ctx: EvalContext, value: date | datetime) -> int:
    return (ctx.local_date(value) - ctx.today).days


def _check_nothing_datetime(_: Sequence[Argument]) -> Type:
    return DATETIME


def _check_nothing_date(_: Sequence[Argument]) -> Type:
    return DATE


def _check_date(args: Sequence[Argument]) -> Type:
    _need(args, 0, _is_string, 'an ISO date text such as "2026-01-01"')
    return DATE


def _date(_: EvalContext, text: str) -> date:
    return parse_day(text)


# -- null -----------------------------------------------------------------------------------


def _check_coalesce(args: Sequence[Argument]) -> Type:
    result: Type = NEVER
    literal = True
    for index, arg in enumerate(args):
        joined = join(result, strip_optional(arg.type), a_literal=literal, b_literal=arg.is_literal)
        if joined is None:
            raise SignatureError(
                "RE406",
                f"argument {index + 1} is `{strip_optional(arg.type)}`"
                f", but the value before is `{result}`",
                index,
            )
        result, literal = joined, literal and arg.is_literal
    if isinstance(result, NeverType | NullType):
        raise SignatureError("RE406", "coalesce needs at least one value that is not null")
    last = args[-1].type
    return optional(result) if isinstance(last, OptionalType | NullType) else result


def _coalesce(_: EvalContext, *values: Any) -> Any:
    return next((value for value in values if value is not None), None)


# -- quantifiers --------------------------------------------------------------------------------


def check_predicate(args: Sequence[Argument]) -> Type:
    """`any`/`all`/`count`: the second argument is a condition on `item`."""
    if len(args) > 1:
        _need(args, 1, lambda t: t == BOOL, "a condition (true/false) about `item`")
    return BOOL


def _check_count(args: Sequence[Argument]) -> Type:
    _need(args, 0, _is_list, "a list")
    check_predicate(args)
    return INT


def _check_sum(args: Sequence[Argument]) -> Type:
    items = _need(args, 0, _is_list, "a list")
    if len(args) == 1:
        element = _element(items)
        if isinstance(element, NeverType):
            return INT
        if not is_amount(element):
            raise SignatureError(
                "RE406",
                f"argument 1 must be a list of numbers, not `{items}`",
                0,
                "give an amount per element: `sum(order.items, item.price)`",
            )
        return element
    return _need(args, 1, is_amount, "a number or money per `item`")


def _check_any_all(args: Sequence[Argument]) -> Type:
    _need(args, 0, _is_list, "a list")
    if len(args) == 1:
        element = _element(args[0].type)
        if not isinstance(element, NeverType) and element != BOOL:
            raise SignatureError(
                "RE404",
                "give a condition about `item` as second argument",
                None,
                "for example `any(order.items, item.quantity > 1)`",
            )
    return check_predicate(args)


def _floor(_: EvalContext, value: int | Decimal) -> int:
    return _to_integral(value, decimal.ROUND_FLOOR)


def _ceil(_: EvalContext, value: int | Decimal) -> int:
    return _to_integral(value, decimal.ROUND_CEILING)


def _abs(_: EvalContext, value: int | Decimal) -> int | Decimal:
    if isinstance(value, int):
        return abs(value)
    return value.copy_abs()  # exact: `-value` would round to the thread's precision


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function(
            "floor",
            1,
            1,
            "floor(number) -> int",
            "rounds down to a whole number",
            _check_to_int,
            _floor,
        ),
        Function(
            "ceil", 1, 1, "ceil(number) -> int", "rounds up to a whole number", _check_to_int, _ceil
        ),
        Function(
            "round",
            1,
            2,
            "round(number[, places]) -> int | number",
            "rounds half up: to a whole number, or to `places` decimal places",
            _check_round,
            _round,
        ),
        Function("abs", 1, 1, "abs(number) -> number", "the absolute value", _check_abs, _abs),
        Function(
            "min",
            1,
            None,
            "min(a, b, ...) | min(list) -> number",
            "the smallest value (null for an empty list)",
            _check_min_max,
            _min,
        ),
        Function(
            "max",
            1,
            None,
            "max(a, b, ...) | max(list) -> number",
            "the largest value (null for an empty list)",
            _check_min_max,
            _max,
        ),
        Function(
            "len",
            1,
            1,
            "len(list | string) -> int",
            "the number of elements or characters",
            _check_len,
            lambda _, v: len(v),
        ),
        Function(
            "lower",
            1,
            1,
            "lower(string) -> string",
            "lower-case text",
            _check_text,
            lambda _, v: v.lower(),
        ),
        Function(
            "upper",
            1,
            1,
            "upper(string) -> string",
            "upper-case text",
            _check_text,
            lambda _, v: v.upper(),
        ),
        Function(
            "contains",
            2,
            2,
            "contains(list | string, value) -> bool",
            "whether the list has the element, or the text the part",
            _check_contains,
            _contains,
        ),
        Function(
            "starts_with",
            2,
            2,
            "starts_with(string, prefix) -> bool",
            "whether the text starts with the prefix",
            _check_text_test,
            lambda _, a, b: a.startswith(b),
        ),
        Function(
            "ends_with",
            2,
            2,
            "ends_with(string, suffix) -> bool",
            "whether the text ends with the suffix",
            _check_text_test,
            lambda _, a, b: a.endswith(b),
        ),
        Function(
            "days_since",
            1,
            1,
            "days_since(date | datetime) -> int",
            "whole days from the value's day to today, in the ruleset's time zone",
            _check_days,
            _days_since,
        ),
        Function(
            "days_until",
            1,
            1,
            "days_until(date | datetime) -> int",
            "whole days from today to the value's day, in the ruleset's time zone",
            _check_days,
            _days_until,
        ),
        Function(
            "now",
            0,
            0,
            "now() -> datetime",
            "the moment of evaluation (given by the host)",
            _check_nothing_datetime,
            lambda ctx: ctx.now,
        ),
        Function(
            "today",
            0,
            0,
            "today() -> date",
            "the day of evaluation in the ruleset's zone",
            _check_nothing_date,
            lambda ctx: ctx.today,
        ),
        Function("date", 1, 1, 'date("YYYY-MM-DD") -> date', "a date literal", _check_date, _date),
        Function(
            "coalesce",
            2,
            None,
            "coalesce(value?, ..., default) -> value",
            "the first value that is not null",
            _check_coalesce,
            _coalesce,
        ),
        Function(
            "any",
            1,
            2,
            "any(list, condition) -> bool",
            "whether the condition holds for some element (`item`)",
            _check_any_all,
            None,
            binds_item=True,
        ),
        Function(
            "all",
            1,
            2,
            "all(list, condition) -> bool",
            "whether the condition holds for every element (`item`)",
            _check_any_all,
            None,
            binds_item=True,
        ),
        Function(
            "count",
            1,
            2,
            "count(list[, condition]) -> int",
            "how many elements (`item`) satisfy the condition",
            _check_count,
            None,
            binds_item=True,
        ),
        Function(
            "sum",
            1,
            2,
            "sum(list[, amount]) -> number",
            "the sum of the elements, or of an amount computed per element (`item`)",
            _check_sum,
            None,
            binds_item=True,
        ),
    )
}

__all__ = ["BOUND_NAME", "FUNCTIONS", "Argument", "Function", "SignatureError"]
