"""What milestone evaluation works out once per milestone (its plan, made when the engine is
built) and the shortest span of a calendar duration (which lets inactivity skip shifting)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from caseio import ROOT
from ruleengine import load_ruleset
from ruleengine.engine.milestones.plan import _shortest_span, milestone_plan
from ruleengine.expr.runtime import EvalContext, shift
from ruleengine.expr.values import Duration
from ruleengine.rules.models import Milestone

ACME = ROOT / "examples" / "rules" / "acme.yaml"
NEW_YORK = ZoneInfo("America/New_York")


def _journey() -> Milestone:
    return next(m for m in load_ruleset(ACME).model.milestones if m.id == "loyalty-journey")


def test_a_plan_has_the_keys_and_the_window_in_utc() -> None:
    journey = _journey()
    plan = milestone_plan(journey, NEW_YORK)
    assert [step.key for step in plan.steps] == [f"loyalty-journey/{n}" for n in (1, 2, 3)]
    # The window's bounds are the zone's midnights, as instants in UTC.
    assert plan.rules.start == datetime(2026, 1, 1, 5, tzinfo=UTC)
    assert plan.rules.start is not None and plan.rules.start.tzinfo is UTC
    assert plan.rules.end == datetime(2027, 1, 1, 5, tzinfo=UTC)
    other = milestone_plan(journey, ZoneInfo("Europe/Paris"))
    assert other.rules.start == datetime(2025, 12, 31, 23, tzinfo=UTC)


ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # half-hour daylight saving
    "America/St_Johns",
    "Pacific/Apia",  # skipped 30 December 2011
    "Pacific/Kwajalein",  # moved across the date line in 1993
    "Pacific/Kiritimati",  # +14
    "Pacific/Niue",  # -11
    "Antarctica/Troll",  # two hours of daylight saving
    "America/Santiago",  # daylight saving at midnight
]


@pytest.mark.parametrize("zone_name", ZONES)
def test_a_calendar_shift_is_always_longer_than_itsshortest_span(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    ctx = EvalContext(datetime(2030, 1, 1, tzinfo=UTC), zone)
    rng = random.Random(zone_name)
    moments = [
        datetime(year, month, day, hour, tzinfo=UTC)
        for year in (1993, 2011, 2024, 2026)
        for month in (1, 3, 8, 10, 12)
        for day in (1, 28, 29, 30, 31)
        if not (day > 28 and month == 2)
        for hour in (0, 11, 23)
    ]
    moments += [
        datetime(1990, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.uniform(0, 40 * 365 * 86400))
        for _ in range(500)
    ]
    durations = [Duration(months=months) for months in (1, 2, 3, 6, 11, 12, 24, 120)]
    durations.append(Duration(months=1, seconds=3600))
    for duration in durations:
        shortest = _shortest_span(duration)
        assert shortest is not None
        for moment in moments:
            shifted = shift(moment, duration, 1, ctx)
            assert isinstance(shifted, datetime)
            assert shifted - moment > shortest, (moment, duration)


def test_exact_durations_have_noshortest_span() -> None:
    assert _shortest_span(Duration(seconds=90 * 86400)) is None
