"""The ledger's small pure parts: fixed-date expiry moments and what a program can spend."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ruleengine.engine.ledger import fixed_date_after
from ruleengine.engine.redeeming import most_points
from ruleengine.expr.runtime import EvalContext
from ruleengine.rules.models import RedeemingProgram

NEW_YORK = EvalContext(datetime(2026, 6, 1, tzinfo=UTC), ZoneInfo("America/New_York"))


@pytest.mark.parametrize(
    ("moment", "month_day", "expected"),
    [
        # The end of 31 December in New York is 05:00 UTC on 1 January.
        (datetime(2026, 3, 15, tzinfo=UTC), "12-31", datetime(2027, 1, 1, 5, tzinfo=UTC)),
        # Midnight UTC is still 30 June in New York: that day's end.
        (datetime(2026, 7, 1, tzinfo=UTC), "06-30", datetime(2026, 7, 1, 4, tzinfo=UTC)),
        # A moment after this year's day: next year's.
        (datetime(2026, 7, 1, 5, tzinfo=UTC), "06-30", datetime(2027, 7, 1, 4, tzinfo=UTC)),
        # Exactly at the end of the day: that expiry is over, the next one follows.
        (datetime(2027, 1, 1, 5, tzinfo=UTC), "12-31", datetime(2028, 1, 1, 5, tzinfo=UTC)),
        # 29 February is 28 February in common years, itself in leap years.
        (datetime(2026, 1, 10, tzinfo=UTC), "02-29", datetime(2026, 3, 1, 5, tzinfo=UTC)),
        (datetime(2027, 3, 10, tzinfo=UTC), "02-29", datetime(2028, 3, 1, 5, tzinfo=UTC)),
    ],
)
def test_fixed_date_after(moment: datetime, month_day: str, expected: datetime) -> None:
    assert fixed_date_after(moment, month_day, NEW_YORK) == expected


def program(**fields: object) -> RedeemingProgram:
    return RedeemingProgram.model_validate(
        {"id": "p", "name": "P", "reward": {"discount_amount": 1}, **fields}
    )


@pytest.mark.parametrize(
    ("fields", "active", "expected"),
    [
        ({"cost": 500}, 499, 0),
        ({"cost": 500}, 1200, 500),
        ({"points_per": 100}, 99, 0),
        ({"points_per": 100}, 450, 400),
        ({"points_per": 100, "min_points": 200}, 150, 0),
        ({"points_per": 100, "min_points": 200}, 250, 200),
        ({"points_per": 100, "max_points": 300}, 1000, 300),
        ({"points_per": 100, "max_points": 250}, 1000, 200),
    ],
)
def test_most_points(fields: dict[str, object], active: int, expected: int) -> None:
    assert most_points(program(**fields), active) == expected
