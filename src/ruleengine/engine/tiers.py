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
import copy
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Literal

import msgspec

from ruleengine.engine.decisions import format_time, money_text
from ruleengine.engine.milestones.ledgers import CountingRules, OwnPoint, build_ledger
from ruleengine.engine.timeline import Timeline
from ruleengine.expr.runtime import add_months
from ruleengine.rules.models import MilestoneType, TierBasis, TierDowngrade, TierPeriod, Tiers


class Contribution(msgspec.Struct, frozen=True):
    """Signed tier progress at a moment: an order's subtotal or 1, a refund's negative share,
    active points; `activity` is the id of what made it (the qualifying activity)."""

    at: datetime
    amount: Decimal
    activity: str | None


ChangeKind = Literal["upgrade", "downgrade", "manual", "recalculation"]

# What comes first at one moment: a period's end (rank 0), then activity (1), then the store's
# manual changes (2). An activity at a moment sees the changes ranked before it (`level_at`).
PERIOD_END, ACTIVITY, BY_HAND = 0, 1, 2


class TierChange(msgspec.Struct, frozen=True):
    """The customer entered `level` (an index into the levels) at `at`, from `previous`.

    `kind`: `upgrade` (tier progress crossed a threshold; `qualifying` is the activity),
    `downgrade` (at a period's end), `manual` (a `tier_change` activity) or `recalculation`
    (a `tier_recalculation` activity); `qualifying` names the activity for the last two too,
    which are listed even when the level stays (`level == previous`: the timeline says so).
    """

    level: int
    previous: int
    at: datetime
    qualifying: str | None
    period: str  # names the period in decision keys: `lifetime`, `2026`, `2026-03-14`
    kind: ChangeKind = "upgrade"
    rank: int = ACTIVITY

    @property
    def upgrade(self) -> bool:
        return self.level > self.previous


class TierAction(msgspec.Struct, frozen=True):
    """A store's action on the tier: `level` set by hand (with `tier_points`, or None to keep
    them), or `level` None for a recalculation."""

    at: datetime
    activity: str
    level: int | None
    tier_points: Decimal | None = None


class TierState(msgspec.Struct, frozen=True):
    """The level at `now`, since when, the progress that counts now, and when it is re-assessed."""

    level: int
    since: datetime | None
    qualifying: str | None
    progress: Decimal
    period_end: datetime | None


class TierReplay(msgspec.Struct, frozen=True):
    changes: tuple[TierChange, ...]
    state: TierState

    def level_at(self, moment: datetime, rank: int = ACTIVITY) -> int:
        """The level an activity at `moment` sees: after every change before it (those at the
        same moment only when ranked before `rank`), so the order that causes an upgrade
        still sees the old level."""
        changes = self.changes
        index = bisect.bisect_left(changes, (moment, rank), key=lambda c: (c.at, c.rank))
        return changes[index - 1].level if index else 0


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


class _Track:
    """One running assessment: the level, since when and why, the progress that counts, and
    when the level is next re-assessed. `replay_tiers` runs one for the customer's tier and,
    when the store changed the tier by hand, a second that ignores those changes (what a
    recalculation returns to)."""

    def __init__(self, tiers: Tiers, zone: tzinfo) -> None:
        self.tiers = tiers
        self.zone = zone
        self.period = tiers.period
        self.downgrades = tiers.downgrade is TierDowngrade.END_OF_PERIOD
        self.thresholds = [level.threshold for level in tiers.levels]
        self.level = 0
        self.since: datetime | None = None
        self.qualifying: str | None = None
        self.period_end: datetime | None = None
        self.progress = Decimal(0)  # rolling: the trailing window's total
        self.window: list[Contribution] = []  # rolling: the contributions, oldest first
        self.start = 0  # rolling: the first of `window` still inside the twelve months
        self.changes: list[TierChange] = []

    def copy(self) -> _Track:
        twin = copy.copy(self)
        twin.window = self.window[self.start :]
        twin.start = 0
        return twin

    def key(self, moment: datetime) -> str:
        """The period a level entered at `moment` belongs to (decision keys)."""
        if self.period is TierPeriod.CALENDAR_YEAR:
            return moment.astimezone(self.zone).strftime("%Y")
        if self.period is TierPeriod.ROLLING_12MO:
            return moment.astimezone(self.zone).date().isoformat()
        return "lifetime"

    def reached(self, progress: Decimal) -> int:
        """`level_of`, with the thresholds worked out once."""
        return max(bisect.bisect_right(self.thresholds, progress) - 1, 0)

    def progress_at(self, moment: datetime) -> Decimal:
        if self.period is TierPeriod.ROLLING_12MO:
            cut = twelve_months_before(moment, self.zone)
            window = self.window
            while self.start < len(window) and window[self.start].at <= cut:
                self.progress -= window[self.start].amount
                self.start += 1
        return self.progress

    def change(
        self, level: int, at: datetime, qualifying: str | None, kind: ChangeKind, rank: int
    ) -> None:
        self.changes.append(TierChange(level, self.level, at, qualifying, self.key(at), kind, rank))
        self.level, self.since, self.qualifying = level, at, qualifying

    def note(self, at: datetime, activity: str, kind: ChangeKind) -> None:
        """A store's action that left the level as it was (its tier points may have moved)."""
        self.changes.append(
            TierChange(self.level, self.level, at, activity, self.key(at), kind, BY_HAND)
        )

    def advance(self, until: datetime) -> None:
        """Re-assess at every period end up to `until`, inclusive."""
        while self.period_end is not None and self.period_end <= until:
            end = self.period_end
            if self.period is TierPeriod.CALENDAR_YEAR:
                # The year ended: the next one starts at the level this year's progress reached.
                earned = self.reached(self.progress)
                if self.downgrades and earned < self.level:
                    self.change(earned, end, None, "downgrade", PERIOD_END)
                self.progress = Decimal(0)
                self.period_end = next_year_start(end, self.zone)
                continue
            # Rolling: kept (for twelve more months) while the trailing year still reaches it.
            earned = self.reached(self.progress_at(end))
            if self.downgrades and earned < self.level:
                self.change(earned, end, None, "downgrade", PERIOD_END)
                self.period_end = twelve_months_after(end, self.zone) if self.level else None
            else:
                self.period_end = twelve_months_after(end, self.zone)

    def add(self, item: Contribution) -> None:
        self.count(item)
        reached = self.reached(self.progress_at(item.at))
        if reached > self.level:
            self.change(reached, item.at, item.activity, "upgrade", ACTIVITY)
            if self.period is TierPeriod.ROLLING_12MO:
                self.period_end = twelve_months_after(item.at, self.zone)

    def count(self, item: Contribution) -> None:
        if self.period is TierPeriod.CALENDAR_YEAR and self.period_end is None:
            self.period_end = next_year_start(item.at, self.zone)
        if self.period is TierPeriod.ROLLING_12MO:
            self.window.append(item)
        self.progress += item.amount

    def set_by_hand(self, action: TierAction, level: int) -> None:
        """A manual change: the level (and the tier points, when given) from this moment.
        With rolling periods the level's twelve months start again."""
        if action.tier_points is not None:
            delta = action.tier_points - self.progress_at(action.at)
            self.count(Contribution(action.at, delta, action.activity))
        elif self.period is TierPeriod.CALENDAR_YEAR and self.period_end is None:
            self.period_end = next_year_start(action.at, self.zone)
        if level != self.level:
            self.change(level, action.at, action.activity, "manual", BY_HAND)
        else:  # the same level: said in the timeline, and the level's `since` stays
            self.note(action.at, action.activity, "manual")
        if self.period is TierPeriod.ROLLING_12MO:
            self.period_end = twelve_months_after(action.at, self.zone) if level else None

    def state(self, now: datetime) -> TierState:
        period_end = self.period_end
        if self.period is TierPeriod.CALENDAR_YEAR and period_end is None:
            period_end = next_year_start(now, self.zone)
        progress = self.progress_at(now)
        return TierState(self.level, self.since, self.qualifying, progress, period_end)


def replay_tiers(
    tiers: Tiers,
    contributions: Sequence[Contribution],
    now: datetime,
    zone: tzinfo,
    actions: Sequence[TierAction] = (),
) -> TierReplay:
    """Every level change up to `now`, in time order, and the state at `now`.

    `contributions` and `actions` are each in time order; those after `now` are ignored.
    At one moment, period ends come first, then contributions, then the store's actions. Cost
    is linear in the contributions plus the period ends passed (one per year, or per renewal);
    each recalculation adds a copy of the trailing window."""
    track = _Track(tiers, zone)
    organic = _Track(tiers, zone) if actions else None  # what a recalculation returns to
    events: list[tuple[datetime, int, Contribution | TierAction]] = [
        (c.at, ACTIVITY, c) for c in contributions if c.at <= now
    ]
    if actions:
        events.extend((a.at, BY_HAND, a) for a in actions if a.at <= now)
        events.sort(key=lambda e: (e[0], e[1]))
    for at, _, item in events:
        track.advance(at)
        if organic is not None:
            organic.advance(at)
        if isinstance(item, Contribution):
            track.add(item)
            if organic is not None:
                organic.add(item)
        elif item.level is not None:
            track.set_by_hand(item, item.level)
        else:
            assert organic is not None
            changes, level = track.changes, track.level
            track = organic.copy()
            track.changes = changes
            if track.level != level:
                track.level = level
                track.change(organic.level, at, item.activity, "recalculation", BY_HAND)
                track.since, track.qualifying = organic.since, organic.qualifying
            else:
                track.note(at, item.activity, "recalculation")
    track.advance(now)
    return TierReplay(tuple(track.changes), track.state(now))


_METRICS = {
    TierBasis.AMOUNT_SPENT: MilestoneType.AMOUNT_SPENT,
    TierBasis.ORDERS_COUNT: MilestoneType.ORDERS_COUNT,
    TierBasis.POINTS_EARNED: MilestoneType.POINTS_EARNED,
}


def _counting_rules(tiers: Tiers) -> CountingRules:
    requirements = tiers.order_requirements
    return CountingRules(
        start=None,
        end=None,
        min_subtotal=requirements.min_subtotal if requirements else None,
        min_items=requirements.min_items if requirements else None,
        hold=timedelta(days=requirements.refund_hold_days if requirements else 0),
    )


def tier_contributions(
    tiers: Tiers, timeline: Timeline, currency: str, own_points: Sequence[OwnPoint]
) -> list[Contribution]:
    """What counts toward the tier, in time order: orders (with the order requirements and
    refunds, exactly as milestones count them) or points (the ruleset's own when they become
    active, `points_earned` activity, and adjustments with `affects_tier`)."""
    metric = _METRICS[tiers.basis]
    rules = _counting_rules(tiers)
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


def tier_notes(tiers: Tiers, timeline: Timeline, currency: str) -> list[tuple[datetime, str]]:
    """Orders that do not count toward an orders-based tier, in the counting rules' words
    (below the minimum, refunded), with the order's moment."""
    rules = _counting_rules(tiers)
    ledger = build_ledger(_METRICS[tiers.basis], timeline, rules, currency, explain=True)
    return [(key[0], text) for key, text in ledger.notes]


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
