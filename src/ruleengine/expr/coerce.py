"""JSON-like input -> runtime values, guided by the static types the checker used.

Hosts hand the engine data parsed from JSON (or built in Python). Before any expression runs,
each value is converted to its runtime form and checked against its type, so a compiled
expression never meets a value of the wrong kind: money becomes `Decimal` (from a JSON number
or a decimal string, never through a float when the caller parses JSON with
`parse_float=Decimal`), timestamps become aware `datetime`s, dates become `date`s.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ruleengine.errors import RuleEngineError
from ruleengine.expr.runtime import SUPPORTED_YEARS, is_supported, parse_day
from ruleengine.expr.types import (
    BoolType,
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
    RecordType,
    StrType,
    Type,
)
from ruleengine.expr.values import Duration
from ruleengine.limits import (
    AMOUNT_DIGITS,
    foreign_number_message,
    foreign_number_text,
    is_bounded_decimal,
)

JsonPath = tuple[str | int, ...]


class CoercionError(RuleEngineError, ValueError):
    """A value does not fit its type; `path` says where, in JSON path terms."""

    def __init__(self, path: JsonPath, message: str) -> None:
        super().__init__(f"{format_path(path)}: {message}")
        self.path = path
        self.message = message

    def __reduce__(self) -> tuple[type[CoercionError], tuple[JsonPath, str]]:
        return type(self), (self.path, self.message)


def format_path(path: JsonPath) -> str:
    """`$.customer.tags[2]`, the JSONPath of a value."""
    text = "$"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def coerce(value: Any, t: Type, path: JsonPath = ()) -> Any:  # noqa: C901  # one branch per type
    """Convert `value` to the runtime form of `t`, or raise `CoercionError`."""
    if isinstance(t, OptionalType):
        return None if value is None else coerce(value, t.inner, path)
    if value is None:
        if isinstance(t, NullType):
            return None
        raise CoercionError(path, f"expected {_kind(t)}, got null")
    if isinstance(t, BoolType):
        if isinstance(value, bool):
            return value
    elif isinstance(t, IntType):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        # A whole Decimal (JSON's `5.0`, a host's `Decimal("5")`) is the int it equals; not
        # NaN or an infinity (`==` raises on sNaN) and not one of more than AMOUNT_DIGITS
        # digits: `int(Decimal("1E+999999"))` would build a million-digit int (~40 s).
        if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
            if not is_bounded_decimal(value):
                raise CoercionError(path, _too_many_digits(value))
            return int(value)
    elif isinstance(t, DecimalType | MoneyType):
        return _decimal(value, t, path)
    elif isinstance(t, StrType):
        if isinstance(value, str):
            return value
    elif isinstance(t, DateTimeType):
        return _datetime(value, path)
    elif isinstance(t, DateType):
        return _date(value, path)
    elif isinstance(t, DurationType):
        if isinstance(value, Duration):
            return value
        if isinstance(value, str):
            try:
                return Duration.parse(value)
            except ValueError:
                pass
    elif isinstance(t, ListType):
        if isinstance(value, list | tuple):
            return [coerce(item, t.element, (*path, i)) for i, item in enumerate(value)]
    elif isinstance(t, RecordType):
        if isinstance(value, Mapping):
            return coerce_record(value, t, path)
    elif isinstance(t, NeverType | NullType):
        pass
    raise CoercionError(path, f"expected {_kind(t)}, got {_describe(value)}")


def coerce_record(value: Mapping[str, Any], t: RecordType, path: JsonPath = ()) -> dict[str, Any]:
    """A record's declared fields, converted; fields it does not declare are left out.

    A missing field is an error unless its type is optional (then it is null).
    """
    result: dict[str, Any] = {}
    for name, field_type in t.fields:
        if name not in value:
            if isinstance(field_type, OptionalType):
                result[name] = None
                continue
            if isinstance(field_type, ListType):
                result[name] = []  # an absent list is an empty list
                continue
            raise CoercionError((*path, name), f"missing field `{name}` ({_kind(field_type)})")
        result[name] = coerce(value[name], field_type, (*path, name))
    return result


def _decimal(value: Any, t: Type, path: JsonPath) -> Decimal:
    if isinstance(value, bool):
        raise CoercionError(path, f"expected {_kind(t)}, got {_describe(value)}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        # the shortest text that reads back as this float (`float.__repr__`: a subclass's
        # own `repr`, numpy's `np.float64(2.5)`, is not a number's text)
        number = Decimal(float.__repr__(value))
    elif isinstance(value, str):
        if foreign_number_text(value):  # `Decimal` reads `1_000` and `١٢٣`; JSON does not
            raise CoercionError(path, foreign_number_message(value))
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise CoercionError(path, f"`{value}` is not a number") from None
    else:
        raise CoercionError(path, f"expected {_kind(t)}, got {_describe(value)}")
    if not number.is_finite():
        raise CoercionError(path, f"expected a finite number, got `{value}`")
    if not is_bounded_decimal(number):
        raise CoercionError(path, _too_many_digits(number))
    return number


def _too_many_digits(number: Decimal) -> str:
    return f"`{number:.6}` has more than {AMOUNT_DIGITS} digits before or after its point"


def _datetime(value: Any, path: JsonPath) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise CoercionError(path, f"`{value}` is not an ISO 8601 timestamp") from None
    else:
        raise CoercionError(path, f"expected a timestamp, got {_describe(value)}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise CoercionError(
            path,
            f"`{value}` has no time zone offset; write it as "
            "`2026-02-01T12:00:00Z` or with `+01:00`",
        )
    if not is_supported(parsed):
        raise CoercionError(path, f"`{value}` is outside {SUPPORTED_YEARS}")
    return parsed


def _date(value: Any, path: JsonPath) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        if not is_supported(value):
            raise CoercionError(path, f"`{value}` is outside {SUPPORTED_YEARS}")
        return value
    if isinstance(value, str):
        try:
            return parse_day(value)
        except ValueError as error:
            raise CoercionError(path, str(error)) from None
    raise CoercionError(path, f"expected a date, got {_describe(value)}")


def _kind(t: Type) -> str:
    return f"`{t}`"


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
