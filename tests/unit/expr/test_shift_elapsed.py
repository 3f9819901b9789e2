"""Exact durations are elapsed time (README: "Exact durations (`90d`) compare with time
differences"): `t + 30d` is 720 hours after `t` in every zone, also across a daylight-saving
change, while calendar durations (`1mo`) keep the local time of day. Before, a timestamp in
the ruleset's zone moved on the wall clock (Python adds a timedelta that way), so a warning
`30d` before an expiry in March was 29 days 23 hours before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ruleengine.expr.runtime import EvalContext, shift
from ruleengine.expr.values import Duration

# Zones with daylight saving in both hemispheres, half-hour and 45-minute offsets, a
# half-hour DST (Lord Howe), and one that changed its rules (Santiago).
ZONES = [
    "America/Toronto",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",
    "Asia/Kolkata",
]
NOW = datetime(2030, 1, 1, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    instant=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)),
    seconds=st.integers(min_value=0, max_value=400 * 86400),
    sign=st.sampled_from([1, -1]),
    local=st.booleans(),
)
def test_an_exact_shift_is_that_much_elapsed_time(
    zone: str, instant: datetime, seconds: int, sign: int, local: bool
) -> None:
    tz = ZoneInfo(zone)
    start = instant.replace(tzinfo=UTC)
    if local:  # the same instant in the ruleset's zone, as calendar arithmetic leaves it
        start = start.astimezone(tz)
    moved = shift(start, Duration(seconds=seconds), sign, EvalContext(NOW, tz))
    assert isinstance(moved, datetime)
    # Compared in UTC: Python subtracts two datetimes of one zone on the wall clock.
    assert moved.astimezone(UTC) - start.astimezone(UTC) == timedelta(seconds=sign * seconds)
    assert moved == start.astimezone(UTC) + timedelta(seconds=sign * seconds)
    zone_of_start = tz if local else UTC  # the result keeps the start's zone
    assert moved.utcoffset() == moved.astimezone(zone_of_start).utcoffset()


@pytest.mark.parametrize(
    ("start", "duration", "sign", "expected"),
    [
        # 14:00 EDT on 17 March minus 30 days is 13:00 EST on 15 February (720 hours).
        ("2026-03-17T18:00:00Z", Duration(seconds=30 * 86400), -1, "2026-02-15T18:00:00Z"),
        # A day after 12:00 EST on 7 March is 13:00 EDT: 24 hours.
        ("2026-03-07T17:00:00Z", Duration(seconds=86400), 1, "2026-03-08T17:00:00Z"),
        # A month keeps the local time of day: 14:00 EST, then 14:00 EDT.
        ("2026-02-17T19:00:00Z", Duration(months=1), 1, "2026-03-17T18:00:00Z"),
    ],
)
def test_exact_and_calendar_shifts_across_a_dst_change(
    start: str, duration: Duration, sign: int, expected: str
) -> None:
    tz = ZoneInfo("America/Toronto")
    at = datetime.fromisoformat(start).astimezone(tz)
    moved = shift(at, duration, sign, EvalContext(NOW, tz))
    assert moved == datetime.fromisoformat(expected)
