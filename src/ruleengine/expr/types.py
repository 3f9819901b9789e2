"""The static types of the expression language.

Money is its own type, apart from plain numbers: an amount can be scaled (`order.subtotal * 5`)
and compared with a number *literal* (`order.subtotal >= 20`), but never added to points or to
a count. Optional types mark values the host may leave out; the checker makes rules test or
default them (see `docs/language.md`, "Null").

Types are frozen `msgspec.Struct`s, equal and hashed by value (they are dict keys), and
untracked by the garbage collector (`gc=False`): a type is a tree of immutable values.
"""

from __future__ import annotations

from typing import TypeAlias

import msgspec


class BoolType(msgspec.Struct, frozen=True, gc=False):
    def __str__(self) -> str:
        return "bool"


class IntType(msgspec.Struct, frozen=True, gc=False):
    """Whole numbers: counts and points."""

    def __str__(self) -> str:
        return "int"


class DecimalType(msgspec.Struct, frozen=True, gc=False):
    """Exact decimal numbers that are not money (ratios, multipliers)."""

    def __str__(self) -> str:
        return "decimal"


class MoneyType(msgspec.Struct, frozen=True, gc=False):
    """An exact amount in the ruleset's currency."""

    def __str__(self) -> str:
        return "money"


class StrType(msgspec.Struct, frozen=True, gc=False):
    def __str__(self) -> str:
        return "string"


class DateType(msgspec.Struct, frozen=True, gc=False):
    """A calendar day (in the ruleset's time zone when derived from a timestamp)."""

    def __str__(self) -> str:
        return "date"


class DateTimeType(msgspec.Struct, frozen=True, gc=False):
    """An instant; snapshots give them with an offset, such as `2026-02-01T12:00:00Z`."""

    def __str__(self) -> str:
        return "datetime"


class DurationType(msgspec.Struct, frozen=True, gc=False):
    """A length of time; `calendar` durations (`3mo`, `1y`) only shift dates."""

    calendar: bool = False

    def __str__(self) -> str:
        return "calendar duration" if self.calendar else "duration"


class NullType(msgspec.Struct, frozen=True, gc=False):
    """The type of the `null` literal."""

    def __str__(self) -> str:
        return "null"


class NeverType(msgspec.Struct, frozen=True, gc=False):
    """The element type of the empty list `[]`; fits any other type."""

    def __str__(self) -> str:
        return "nothing"


class ListType(msgspec.Struct, frozen=True, gc=False):
    element: Type

    def __str__(self) -> str:
        return f"list[{self.element}]"


class OptionalType(msgspec.Struct, frozen=True, gc=False):
    inner: Type

    def __str__(self) -> str:
        return f"{self.inner}?"


class RecordType(msgspec.Struct, frozen=True, gc=False):
    """A record with named fields (customer, order, item, ...)."""

    name: str
    fields: tuple[tuple[str, Type], ...]

    def field(self, name: str) -> Type | None:
        for field_name, field_type in self.fields:
            if field_name == name:
                return field_type
        return None

    @property
    def field_names(self) -> list[str]:
        return [name for name, _ in self.fields]

    def __str__(self) -> str:
        return self.name


Type: TypeAlias = (
    BoolType
    | IntType
    | DecimalType
    | MoneyType
    | StrType
    | DateType
    | DateTimeType
    | DurationType
    | NullType
    | NeverType
    | ListType
    | OptionalType
    | RecordType
)

BOOL = BoolType()
INT = IntType()
DECIMAL = DecimalType()
MONEY = MoneyType()
STRING = StrType()
DATE = DateType()
DATETIME = DateTimeType()
DURATION = DurationType()
CALENDAR_DURATION = DurationType(calendar=True)
NULL = NullType()
NEVER = NeverType()


def optional(t: Type) -> Type:
    """`t?`, without stacking (`t??` is `t?`) and with `null?` staying `null`."""
    if isinstance(t, (OptionalType, NullType)):
        return t
    return OptionalType(t)


def strip_optional(t: Type) -> Type:
    return t.inner if isinstance(t, OptionalType) else t


def is_optional(t: Type) -> bool:
    return isinstance(t, (OptionalType, NullType))


def is_numeric(t: Type) -> bool:
    """Plain numbers: points, counts and decimals (not money)."""
    return isinstance(t, (IntType, DecimalType))


def is_amount(t: Type) -> bool:
    """Numbers of any kind, money included."""
    return isinstance(t, (IntType, DecimalType, MoneyType))


def parse_type_name(text: str) -> Type:
    """The type written in a ruleset's `attributes`/`events` (`string`, `money?`, ...)."""
    optional_type = text.endswith("?")
    base = text.removesuffix("?")
    table: dict[str, Type] = {
        "string": STRING,
        "int": INT,
        "decimal": DECIMAL,
        "money": MONEY,
        "bool": BOOL,
        "date": DATE,
        "datetime": DATETIME,
        "list[string]": ListType(STRING),
    }
    result = table[base]
    return optional(result) if optional_type else result


def join(a: Type, b: Type, *, a_literal: bool = False, b_literal: bool = False) -> Type | None:
    """The one type both values fit in (list elements, `if` branches, `coalesce`), or None.

    Whole numbers and decimals join as decimal; a number *literal* joins money as money;
    null joins anything as optional.
    """
    if a == b:
        return a
    if isinstance(a, NeverType):
        return b
    if isinstance(b, NeverType):
        return a
    if isinstance(a, NullType):
        return optional(b)
    if isinstance(b, NullType):
        return optional(a)
    if isinstance(a, OptionalType) or isinstance(b, OptionalType):
        inner = join(strip_optional(a), strip_optional(b), a_literal=a_literal, b_literal=b_literal)
        return optional(inner) if inner is not None else None
    if isinstance(a, MoneyType) and is_numeric(b) and b_literal:
        return MONEY
    if isinstance(b, MoneyType) and is_numeric(a) and a_literal:
        return MONEY
    if is_numeric(a) and is_numeric(b):
        return DECIMAL
    if isinstance(a, DurationType) and isinstance(b, DurationType):
        return DurationType(calendar=a.calendar or b.calendar)
    if isinstance(a, ListType) and isinstance(b, ListType):
        element = join(a.element, b.element)
        return ListType(element) if element is not None else None
    return None


def comparable(
    left: Type,
    right: Type,
    *,
    ordering: bool,
    left_literal: bool = False,
    right_literal: bool = False,
) -> bool:
    """Whether two (non-optional) types can be compared with `==` or, if `ordering`, `<`.

    A number *literal* (`left_literal`/`right_literal`) compares with money. Durations compare
    only with durations of their own kind: exact with exact (by length), calendar with calendar
    (by months and any exact part); `3mo == 90d` has no single answer, like `3mo > 90d`, and
    only exact durations are ordered.
    """
    if is_numeric(left) and is_numeric(right):
        return True
    if isinstance(left, MoneyType) and isinstance(right, MoneyType):
        return True
    if isinstance(left, MoneyType) and is_numeric(right) and right_literal:
        return True
    if isinstance(right, MoneyType) and is_numeric(left) and left_literal:
        return True
    if isinstance(left, (DateType, DateTimeType)) and isinstance(right, (DateType, DateTimeType)):
        return True
    if isinstance(left, DurationType) and isinstance(right, DurationType):
        if ordering:
            return not left.calendar and not right.calendar
        return left.calendar == right.calendar
    if isinstance(left, (StrType, BoolType)) and type(left) is type(right):
        return not ordering or isinstance(left, StrType)
    if isinstance(left, ListType) and isinstance(right, ListType) and not ordering:
        if join(left, right) is None:
            return False
        a, b = strip_optional(left.element), strip_optional(right.element)
        if isinstance(a, (NeverType, NullType)) or isinstance(b, (NeverType, NullType)):
            return True
        return comparable(a, b, ordering=False)
    return False


def fits_element(
    value: Type, element: Type, *, value_literal: bool = False, literal_elements: bool = False
) -> bool:
    """Whether a `value` can be looked for among elements of type `element` (`in`, `contains`):
    it must compare with them by `==`. The value may be optional (null is in no list of
    values), and `null` itself only fits optional elements. `literal_elements` says the list
    is written out as number literals (`[10, 20]`), which stand for amounts of money as any
    number literal does."""
    if isinstance(element, NeverType):
        return True
    if isinstance(value, NullType):
        return is_optional(element)
    needle, inner = strip_optional(value), strip_optional(element)
    if comparable(needle, inner, ordering=False, left_literal=value_literal):
        return True
    return isinstance(needle, MoneyType) and is_numeric(inner) and literal_elements
