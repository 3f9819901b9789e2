"""VIP tiers replayed as they happened: which level a customer held at every moment, and why.

The replay is a pure function of the ruleset's `tiers` section and a list of *contributions*
(signed tier progress at a moment, with the activity that made it), so each basis only has to
say what it counts; the periods, thresholds and downgrade policy are handled here once.

Periods and re-assessment (documented in docs/engine.md, "VIP tiers"):

* `lifetime`: progress is everything so far; there is no period end, so a level is never lost.
* `calendar_year`: progress is the current calendar year's (the ruleset's zone), from 0 on
  1 January. With `downgrade: end_of_period`, each new year starts at the level the ended
  year's progress reached: a level reached during 2026 is kept through 2027, and at the end
  of 2027 the customer falls to what 2027's progress reached. With `never` nothing is lost.
* `rolling_12mo`: progress is the twelve months up to the moment. A level's period is the
  twelve months from the moment it was reached (or last renewed); at its end, with
  `end_of_period`, the customer keeps the level if the trailing twelve months still reach
  it (renewed for twelve more months) and otherwise falls to the level they do reach.

Progress never lowers a level within a period: a refund lowers the progress, so later
activity has further to go, but the level already reached stands until the period ends.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from ruleengine.engine.decisions import format_time, money_text
from ruleengine.engine.milestones.ledgers import CountingRules, OwnPoint, build_ledger
from ruleengine.engine.timeline import Timeline
from ruleengine.expr.runtime import add_months
from ruleengine.rules.models import MilestoneType, TierBasis, TierDowngrade, TierPeriod, Tiers


@dataclass(frozen=True, slots=True)
class Contribution:
    """Signed tier progress at a moment: an order's subtotal or 1, a refund's negative share,
    active points; `activity` is the id of what made it (the qualifying activity)."""

    at: datetime
    amount: Decimal
    activity: str | None


@dataclass(frozen=True, slots=True)
class TierChange:
    """The customer entered `level` (an index into the levels) at `at`, from `previous`."""

    level: int
    previous: int
    at: datetime
    qualifying: str | None
    period: str  # names the period in decision keys: `lifetime`, `2026`, `2026-03-14`

    @property
    def upgrade(self) -> bool:
        return self.level > self.previous


@dataclass(frozen=True, slots=True)
class TierState:
    """The level at `now`, since when, the progress that counts now, and when it is re-assessed."""

    level: int
    since: datetime | None
    qualifying: str | None
    progress: Decimal
    period_end: datetime | None


@dataclass(frozen=True, slots=True)
class TierReplay:
    changes: tuple[TierChange, ...]
    state: TierState


def level_of(tiers: Tiers, progress: Decimal) -> int:
    """The highest level whose threshold `progress` reaches (0 at least: the first is 0)."""
    thresholds = [level.threshold for level in tiers.levels]
    return max(bisect.bisect_right(thresholds, progress) - 1, 0)


def year_start(moment: datetime, zone: tzinfo) -> datetime:
    """The start of the calendar year of `moment` in `zone`, in UTC."""
    local = moment.astimezone(zone)
    return datetime.combine(local.date().replace(month=1, day=1), time(), zone).astimezone(UTC)


def next_year_start(moment: datetime, zone: tzinfo) -> datetime:
    local = moment.astimezone(zone)
    start = local.date().replace(year=local.year + 1, month=1, day=1)
    return datetime.combine(start, time(), zone).astimezone(UTC)


def twelve_months_after(moment: datetime, zone: tzinfo) -> datetime:
    """`moment + 12mo` in `zone`, keeping the local time of day (29 Feb -> 28 Feb)."""
    local = moment.astimezone(zone)
    day = add_months(local.date(), 12)
    return datetime.combine(day, local.timetz()).replace(tzinfo=zone).astimezone(UTC)


def twelve_months_before(moment: datetime, zone: tzinfo) -> datetime:
    local = moment.astimezone(zone)
    day = add_months(local.date(), -12)
    return datetime.combine(day, local.timetz()).replace(tzinfo=zone).astimezone(UTC)


def replay_tiers(
    tiers: Tiers, contributions: Sequence[Contribution], now: datetime, zone: tzinfo
) -> TierReplay:
    """Every level change up to `now`, in time order, and the state at `now`.

    `contributions` are in time order; those after `now` are ignored. Cost is linear in the
    contributions plus the period ends passed (one per year, or per renewal)."""
    items = [c for c in contributions if c.at <= now]
    if tiers.period is TierPeriod.CALENDAR_YEAR:
        return _calendar_year(tiers, items, now, zone)
    if tiers.period is TierPeriod.ROLLING_12MO:
        return _rolling(tiers, items, now, zone)
    return _lifetime(tiers, items)


def _lifetime(tiers: Tiers, items: Sequence[Contribution]) -> TierReplay:
    changes: list[TierChange] = []
    progress = Decimal(0)
    level, since, qualifying = 0, None, None
    for item in items:
        progress += item.amount
        reached = level_of(tiers, progress)
        if reached > level:
            changes.append(TierChange(reached, level, item.at, item.activity, "lifetime"))
            level, since, qualifying = reached, item.at, item.activity
    return TierReplay(tuple(changes), TierState(level, since, qualifying, progress, None))


def _calendar_year(
    tiers: Tiers, items: Sequence[Contribution], now: datetime, zone: tzinfo
) -> TierReplay:
    changes: list[TierChange] = []
    downgrades = tiers.downgrade is TierDowngrade.END_OF_PERIOD
    level, since, qualifying = 0, None, None
    progress = Decimal(0)
    period_end: datetime | None = None  # the end of the year being counted
    index = 0
    while True:
        upcoming = items[index] if index < len(items) else None
        if period_end is not None and (upcoming is None or upcoming.at >= period_end):
            if period_end > now:
                break
            # The year ended: the next one starts at the level this year's progress reached.
            if downgrades:
                earned = level_of(tiers, progress)
                if earned < level:
                    key = period_end.astimezone(zone).strftime("%Y")
                    changes.append(TierChange(earned, level, period_end, None, key))
                    level, since, qualifying = earned, period_end, None
            progress = Decimal(0)
            start = period_end
            period_end = next_year_start(start, zone)
            continue
        if upcoming is None:
            break
        if period_end is None:
            period_end = next_year_start(upcoming.at, zone)
        progress += upcoming.amount
        reached = level_of(tiers, progress)
        if reached > level:
            key = upcoming.at.astimezone(zone).strftime("%Y")
            changes.append(TierChange(reached, level, upcoming.at, upcoming.activity, key))
            level, since, qualifying = reached, upcoming.at, upcoming.activity
        index += 1
    if period_end is None or period_end <= now:
        period_end = next_year_start(now, zone)
    return TierReplay(tuple(changes), TierState(level, since, qualifying, progress, period_end))


def _rolling(
    tiers: Tiers, items: Sequence[Contribution], now: datetime, zone: tzinfo
) -> TierReplay:
    changes: list[TierChange] = []
    downgrades = tiers.downgrade is TierDowngrade.END_OF_PERIOD
    level, since, qualifying = 0, None, None
    period_end: datetime | None = None  # when the held level is re-assessed
    window: list[Contribution] = []  # the contributions of the trailing twelve months
    start = 0  # the first of them still inside the window
    total = Decimal(0)

    def trailing(moment: datetime) -> Decimal:
        nonlocal start, total
        cut = twelve_months_before(moment, zone)
        while start < len(window) and window[start].at <= cut:
            total -= window[start].amount
            start += 1
        return total

    index = 0
    while True:
        upcoming = items[index] if index < len(items) else None
        if (
            period_end is not None
            and period_end <= now
            and (upcoming is None or upcoming.at >= period_end)
        ):
            earned = level_of(tiers, trailing(period_end))
            if downgrades and earned < level:
                key = period_end.astimezone(zone).date().isoformat()
                changes.append(TierChange(earned, level, period_end, None, key))
                level, since, qualifying = earned, period_end, None
                period_end = twelve_months_after(period_end, zone) if level > 0 else None
            else:
                period_end = twelve_months_after(period_end, zone)
            continue
        if upcoming is None:
            break
        window.append(upcoming)
        total += upcoming.amount
        reached = level_of(tiers, trailing(upcoming.at))
        if reached > level:
            key = upcoming.at.astimezone(zone).date().isoformat()
            changes.append(TierChange(reached, level, upcoming.at, upcoming.activity, key))
            level, since, qualifying = reached, upcoming.at, upcoming.activity
            period_end = twelve_months_after(upcoming.at, zone)
        index += 1
    progress = trailing(now)
    return TierReplay(tuple(changes), TierState(level, since, qualifying, progress, period_end))


_METRICS = {
    TierBasis.AMOUNT_SPENT: MilestoneType.AMOUNT_SPENT,
    TierBasis.ORDERS_COUNT: MilestoneType.ORDERS_COUNT,
    TierBasis.POINTS_EARNED: MilestoneType.POINTS_EARNED,
}


def tier_contributions(
    tiers: Tiers, timeline: Timeline, currency: str, own_points: Sequence[OwnPoint]
) -> list[Contribution]:
    """What counts toward the tier, in time order: orders (with the order requirements and
    refunds, exactly as milestones count them) or points (the ruleset's own when they become
    active, `points_earned` activity, and adjustments with `affects_tier`)."""
    requirements = tiers.order_requirements
    rules = CountingRules(
        start=None,
        end=None,
        min_subtotal=requirements.min_subtotal if requirements else None,
        min_items=requirements.min_items if requirements else None,
        hold=timedelta(days=requirements.refund_hold_days if requirements else 0),
    )
    metric = _METRICS[tiers.basis]
    ledger = build_ledger(metric, timeline, rules, currency, explain=False, own_points=own_points)
    items = [
        Contribution(max(key[0], confirm_at), Decimal(delta), activity)
        for key, activity, delta, confirm_at, _group, _source in ledger.contributions
    ]
    if metric is MilestoneType.POINTS_EARNED:
        items.extend(
            Contribution(a.at, Decimal(a.points), a.id)
            for a in timeline.adjustments
            if a.affects_tier
        )
    items.sort(key=lambda c: c.at)
    return items


def tier_json(tiers: Tiers, replay: TierReplay, currency: str) -> dict[str, Any]:
    """The result's `tier` field."""
    state = replay.state
    levels = tiers.levels
    level = levels[state.level]
    following = levels[state.level + 1] if state.level + 1 < len(levels) else None
    money = tiers.basis is TierBasis.AMOUNT_SPENT
    remaining: Decimal | None = None
    if following is not None:
        remaining = max(following.threshold - state.progress, Decimal(0))

    def amount(value: Decimal | None) -> int | str | None:
        if value is None:
            return None
        return money_text(value) if money else int(value)

    return {
        "current": level.id,
        "name": level.name,
        "since": None if state.since is None else format_time(state.since),
        "qualifying": state.qualifying,
        "tier_points": amount(state.progress),
        "next": None if following is None else following.id,
        "remaining": amount(remaining),
        "period_end": None if state.period_end is None else format_time(state.period_end),
    }
