"""Converting a host's values to the language's types: every value ends in the converted value
or a `CoercionError` naming its path, in time bounded by the value's size."""

from __future__ import annotations

from decimal import Decimal

import pytest

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
