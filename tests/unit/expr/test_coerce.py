"""Converting a host's values to the language's types: every value ends in the converted value
or a `CoercionError` naming its path, in time bounded by the value's size."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ruleengine.api import RuleSetError, compile_expression, declare_scope
from ruleengine.expr.coerce import CoercionError, coerce
from ruleengine.expr.types import DECIMAL, INT, MONEY

NOT_NUMBERS = [Decimal("sNaN"), Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")]


@pytest.mark.parametrize("value", NOT_NUMBERS, ids=str)
@pytest.mark.parametrize("kind", [INT, DECIMAL, MONEY], ids=str)
def test_nan_and_infinities_are_coercion_errors(value: Decimal, kind: object) -> None:
    with pytest.raises(CoercionError) as raised:
        coerce(value, kind, ("event", "n"))  # type: ignore[arg-type]
    assert raised.value.path == ("event", "n")


@pytest.mark.parametrize("value", ["1E+999999", "1E+31", "-1E+40"])
def test_a_whole_decimal_too_long_for_an_int_is_refused_without_building_it(value: str) -> None:
    # int(Decimal("1E+999999")) takes tens of seconds: it must be refused before.
    with pytest.raises(CoercionError, match="more than 30 digits"):
        coerce(Decimal(value), INT, ("n",))


def test_whole_decimals_within_bounds_are_ints() -> None:
    assert coerce(Decimal("5.0"), INT) == 5
    assert type(coerce(Decimal("5.0"), INT)) is int
    assert coerce(Decimal("1E+29"), INT) == 10**29
    with pytest.raises(CoercionError):
        coerce(Decimal("5.5"), INT)


class _Float(float):
    """A float whose `repr` is not a number (as numpy's `np.float64(2.5)` in numpy 2)."""

    def __repr__(self) -> str:
        return f"_Float({float(self)})"


def test_a_float_subclass_reads_as_its_value() -> None:
    """It raised a raw `decimal.InvalidOperation` from `Decimal(repr(value))`."""
    expression = compile_expression("m > 1", declare_scope({"m": "money"}))
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert expression.evaluate({"m": _Float(2.5)}, now=now) is True
    assert expression.bind(now=now, convert=True)({"m": _Float(0.5)}) is False
    assert expression.convert({"m": _Float(2.5)}) == {"m": Decimal("2.5")}


@settings(max_examples=200, deadline=None, database=None)
@given(number=st.floats())
def test_a_float_subclass_converts_as_its_float_does(number: float) -> None:
    def outcome(value: float) -> Any:
        try:
            return coerce(value, MONEY, ("m",))
        except CoercionError as error:
            return error.path, error.message.replace(repr(value), "")

    assert outcome(_Float(number)) == outcome(number)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-W48-2", "`2026-W48-2` is not a date (YYYY-MM-DD)"),  # fromisoformat: 2026-11-24
        ("2026-02-30", "`2026-02-30` is not a day of the calendar"),
        ("0001-01-01", "`0001-01-01` is outside the years 1900 to 9000"),
        (date(1, 1, 1), "`0001-01-01` is outside the years 1900 to 9000"),
    ],
)
def test_a_host_date_is_a_day_written_yyyy_mm_dd_in_the_supported_years(
    value: object, message: str
) -> None:
    expression = compile_expression('d < date("2026-01-01")', declare_scope({"d": "date"}))
    now = datetime(2026, 6, 1, tzinfo=UTC)
    with pytest.raises(CoercionError) as bound:
        expression.bind(now=now, convert=True)({"d": value})
    with pytest.raises(CoercionError) as evaluated:
        expression.evaluate({"d": value}, now=now)
    assert str(bound.value) == str(evaluated.value) == f"$.d: {message}"


def _written(day: date, form: str) -> str:
    year, week, weekday = day.isocalendar()
    return {
        "day": day.isoformat(),
        "compact": f"{day.year:04d}{day.month:02d}{day.day:02d}",
        "week": f"{year:04d}-W{week:02d}-{weekday}",
        "ordinal": f"{day.year:04d}-{day.timetuple().tm_yday:03d}",
    }[form]


@settings(max_examples=300, deadline=None)
@given(st.dates(), st.sampled_from(["day", "compact", "week", "ordinal"]))
def test_every_reader_of_a_day_takes_yyyy_mm_dd_in_the_supported_years_only(
    day: date, form: str
) -> None:
    text = _written(day, form)
    taken = form == "day" and 1900 <= day.year <= 9000
    expression = compile_expression("d", declare_scope({"d": "date"}))
    now = datetime(2026, 6, 1, tzinfo=UTC)
    try:
        read = expression.evaluate({"d": text}, now=now)
    except CoercionError:
        read = None
    assert read == (day if taken else None)
    try:
        literal = compile_expression(f'date("{text}")', declare_scope({})).evaluate({}, now=now)
    except RuleSetError:
        literal = None
    assert literal == (day if taken else None)
