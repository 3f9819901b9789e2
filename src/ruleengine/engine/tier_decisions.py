"""VIP tier changes as decisions, their entry rewards, and the tier in words: the customer's
timeline entries and the answer to "why didn't I level up?".

The replay (`engine.tiers`) says which level the customer held when; this module turns its
changes into what a host acts on (docs/engine.md, "VIP tiers"):

* An upgrade (tier progress crossed a threshold) and a downgrade (at a period's end) are
  `tier_change` decisions, keyed `tiers/<level>/<period>`: `lifetime`, the year (`2026`) or,
  for rolling periods, the local day the level's twelve months began. Entering the same level
  again in one period (possible after a recalculation or a manual change) is keyed by the
  moment instead (`tiers/gold/2026-05-01T10:00:00Z`) and never grants the entry reward again.
* Entering the first level is not a decision; neither are the store's own changes
  (`tier_change` and `tier_recalculation` activity): the store made them. They appear in the
  timeline and grant no entry reward (a store that wants the customer to have it adds an
  adjustment); a customer set to gold by hand is already gold when their own progress
  reaches it, so that is no upgrade either.
* The entry reward (`grant_all` or `customer_picks`, as milestone rewards) comes with the
  upgrade; its `grant_all` points are an award of the points ledger, active at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from ruleengine.engine.activity import Order, TierSet
from ruleengine.engine.decisions import Decision, Explanation, format_time, key_part
from ruleengine.engine.granted_keys import MovedEntries
from ruleengine.engine.ledger_types import Award, EntryKind, LedgerEntry
from ruleengine.engine.milestones.plan import rewards_of
from ruleengine.engine.tiers import (
    TierAction,
    TierChange,
    TierReplay,
    TierState,
    twelve_months_before,
    year_start,
)
from ruleengine.engine.timeline import Timeline, fully_refunded, refund_known
from ruleengine.engine.wording import count, day, money
from ruleengine.rules.models import RewardLogic, TierBasis, TierPeriod, Tiers

# The `rule` of tier decisions. A rule may be called `tiers` too: its keys have one `/` (ids
# in keys are percent-encoded), tier keys two, and the decision's `kind` tells them apart.
TIERS_RULE = "tiers"


def tier_actions(tiers: Tiers, timeline: Timeline) -> list[TierAction]:
    """The store's tier changes and recalculations, in time order, with level indexes (the
    snapshot's level ids were checked against the ruleset when it was read)."""
    index = {level.id: number for number, level in enumerate(tiers.levels)}
    actions = []
    for action in timeline.tier_actions:
        if isinstance(action, TierSet):
            level = index.get(action.tier)
            if level is not None:
                actions.append(TierAction(action.at, action.id, level, action.tier_points))
        else:
            actions.append(TierAction(action.at, action.id, None))
    return actions


def change_keys(tiers: Tiers, replay: TierReplay) -> list[str]:
    """The key of each of the replay's changes: an upgrade's or downgrade's is its decision's
    (`tiers/<level>/<period>`, or the moment when the level is entered again in one period);
    the store's changes make no decision and are keyed by the moment. The timeline entry of a
    change carries the same key as its decision, so a merchant can trace one to the other."""
    keys: list[str] = []
    used: set[str] = set()
    for change in replay.changes:
        level_id = key_part(tiers.levels[change.level].id)
        moment = f"{TIERS_RULE}/{level_id}/{format_time(change.at)}"
        if change.kind in ("manual", "recalculation"):
            keys.append(moment)
            continue
        key = f"{TIERS_RULE}/{level_id}/{key_part(change.period)}"
        if key in used:  # the same level again in one period: keyed by the moment
            key = moment
        used.add(key)
        keys.append(key)
    return keys


def tier_decisions(
    tiers: Tiers, replay: TierReplay, granted: frozenset[str], excluded: bool
) -> tuple[list[Decision], list[Award]]:
    """The `tier_change` decisions not yet in `granted` (none for an excluded customer), and
    the entry rewards' points for the ledger (those already granted too)."""
    levels = tiers.levels
    decisions: list[Decision] = []
    awards: list[Award] = []
    if excluded:
        return decisions, awards
    rewarded: set[tuple[int, str]] = set()
    keys = change_keys(tiers, replay)
    moved = MovedEntries(granted, set(keys), TIERS_RULE) if granted else None
    for change, key in zip(replay.changes, keys, strict=True):
        if change.kind in ("manual", "recalculation"):
            continue
        level = levels[change.level]
        if (
            moved is not None
            and change.kind == "upgrade"
            and key not in granted
            and moved.take(key_part(level.id), change.period) is not None
        ):
            # The host carried this entry out under the key of a period late activity moved:
            # it is not decided again; its points count once, here.
            granted = granted | {key}
        spec = level.reward if change.kind == "upgrade" else None
        if spec is not None and (change.level, change.period) in rewarded:
            spec = None
        if spec is not None:
            rewarded.add((change.level, change.period))
        rewards = rewards_of(spec) if spec is not None else ()
        picks = spec is not None and spec.logic is RewardLogic.CUSTOMER_PICKS
        decision = Decision(
            key,
            TIERS_RULE,
            None,
            "customer_picks" if picks else "grant_all",
            spec.pick if spec is not None and picks else None,
            rewards,
            change.at,
            change.qualifying,
            "granted",
            None,
            "tier_change",
            (levels[change.previous].id, level.id),
        )
        if key not in granted:
            decisions.append(decision)
        points = sum(r.value for r in rewards if r.type == "points" and isinstance(r.value, int))
        if points and not picks:
            awards.append(
                Award(
                    key,
                    TIERS_RULE,
                    change.qualifying,
                    points,
                    change.at,
                    change.at,
                    "tier",
                    f"reaching {level.name}",
                )
            )
    return decisions, awards


# -- timeline ---------------------------------------------------------------------------------


def tier_entries(
    tiers: Tiers, replay: TierReplay, entries: Sequence[LedgerEntry], currency: str
) -> list[LedgerEntry]:
    """The points entries with the tier changes among them, in time order: each says the
    event (upgrade, downgrade, the store's change or recalculation), the qualifying activity
    and the moment; `balance` is the active balance then."""
    levels = tiers.levels
    found: list[LedgerEntry] = []
    points = list(entries)
    position = 0
    balance = 0
    for change, key in zip(replay.changes, change_keys(tiers, replay), strict=True):
        while position < len(points) and points[position].at < change.at:
            found.append(points[position])
            balance = points[position].balance
            position += 1
        level, previous = levels[change.level], levels[change.previous]
        same = change.level == change.previous
        if change.kind == "upgrade":
            text = f"Tier upgraded to {level.name} (from {previous.name}): "
            text += f"{change.qualifying} reached {_amount(tiers, level.threshold, currency)}"
        elif change.kind == "downgrade":
            text = (
                f"Tier downgraded to {level.name} (from {previous.name}) when the "
                "assessment period ended"
            )
        elif change.kind == "manual":
            text = f"Tier changed by the store to {level.name} (from {previous.name})"
            if same:
                text = f"Tier points changed by the store; the tier stays {level.name}"
        else:
            text = f"Tier recalculated from the history: {level.name} (was {previous.name})"
            if same:
                text = f"Tier recalculated from the history: {level.name}, unchanged"
        found.append(
            LedgerEntry(
                change.at,
                _entry_kind(change),
                0,
                balance,
                text,
                key,
                TIERS_RULE,
                change.qualifying,
            )
        )
    found.extend(points[position:])
    return _causes_first(found)


def _causes_first(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """At each moment, a tier entry (an upgrade, its reward) after the entry of the activity
    that caused it (`a1 +200`, then "upgraded to Gold: a1 reached ...", then the reward),
    with the balances of that moment recomputed. Only the order within one moment changes,
    never the moment's final balance; a reordering that would show a negative balance on
    the way is not made."""
    result: list[LedgerEntry] = []
    start = 0
    while start < len(entries):
        end = start
        while end < len(entries) and entries[end].at == entries[start].at:
            end += 1
        group = entries[start:end]
        start = end
        causes = {e.activity for e in group if e.rule != TIERS_RULE and e.activity}
        caused = [e for e in group if e.rule == TIERS_RULE and e.activity in causes]
        if not caused:
            result += group
            continue
        moved = {id(e) for e in caused}
        ordered = [e for e in group if id(e) not in moved]
        for entry in caused:  # after the last entry of its cause (or of what it follows)
            last = max(i for i, e in enumerate(ordered) if e.activity == entry.activity)
            ordered.insert(last + 1, entry)
        running = result[-1].balance if result else 0
        rebalanced = []
        for entry in ordered:
            running += entry.points
            rebalanced.append(replace(entry, balance=running))
        result += rebalanced if all(e.balance >= 0 for e in rebalanced) else group
    return result


def _entry_kind(change: TierChange) -> EntryKind:
    if change.kind == "upgrade":
        return "tier_upgrade"
    if change.kind == "downgrade":
        return "tier_downgrade"
    return "tier_change" if change.kind == "manual" else "tier_recalculation"


# -- explanation ------------------------------------------------------------------------------

_MOST_NOTES = 10  # activity that did not count, most recent first; the rest are summed up


def explain_tier(
    tiers: Tiers,
    state: TierState,
    timeline: Timeline,
    currency: str,
    notes: Iterable[tuple[datetime, str]],
    pending: Iterable[tuple[datetime, str]],
    store: TierChange | None = None,
) -> Explanation:
    """Why the customer is at their level and not the next: the distance to the next level
    (and by when, with periods), then what did not count: `notes` (refunded, too small:
    the counting rules' own words), `pending` (refund holds and pending points not yet
    active), and activity before the current period. `store` is the store's last
    `tier_change` (the replay's last `manual` change), if any: a customer it set below what
    their tier points reach is told so, not asked to reach a threshold already passed."""
    zone = timeline.zone
    levels = tiers.levels
    level = levels[state.level]
    reasons = []
    if state.since is None and store is not None:  # the store set the level it had
        when = f"{day(store.at, zone)} ({store.qualifying})"
        reasons.append(f"{level.name} (`{level.id}`): the store set it on {when}")
    elif state.since is None:
        reasons.append(f"{level.name} (`{level.id}`) is the first level: everyone starts there")
    else:
        why = f", from {state.qualifying}" if state.qualifying else ""
        reasons.append(f"{level.name} (`{level.id}`) since {day(state.since, zone)}{why}")
    following = levels[state.level + 1] if state.level + 1 < len(levels) else None
    status = "top_level" if following is None else "in_progress"
    if following is not None and state.progress >= following.threshold:
        # Only the store's change leaves a customer below what their progress reaches.
        counted = _amount(tiers, state.progress, currency).removesuffix(" spent")
        reasons.append(
            f"{counted} counted, above {following.name}'s "
            f"{_amount(tiers, following.threshold, currency).removesuffix(' spent')}"
            f"{f', though the store set {level.name}' if store is not None else ''}: the next "
            "activity that counts toward the tier raises the level to the one it reaches"
        )
    elif following is not None:
        remaining = max(following.threshold - state.progress, Decimal(0))
        by = ""
        if state.period_end is not None and tiers.period is not TierPeriod.LIFETIME:
            last_day = day(state.period_end - timedelta(microseconds=1), zone)
            by = f" by {last_day} (when the period ends)"
        so_far = _amount(tiers, state.progress, currency)
        reasons.append(
            f"{so_far} so far: {_more(tiers, remaining, currency)}{by} to reach "
            f"{following.name} (`{following.id}`, "
            f"{_amount(tiers, following.threshold, currency)})"
        )
    missed = sorted([*notes, *pending, *_before_period(tiers, timeline)], reverse=True)
    for _, text in missed[:_MOST_NOTES]:
        reasons.append(text)
    if len(missed) > _MOST_NOTES:
        reasons.append(f"and {len(missed) - _MOST_NOTES} more that did not count")
    return Explanation(TIERS_RULE, None, status, tuple(reasons))


def _amount(tiers: Tiers, value: Decimal, currency: str) -> str:
    """`$200.00 spent`, `3 orders`, `450 tier points`."""
    if tiers.basis is TierBasis.AMOUNT_SPENT:
        return f"{money(value, currency)} spent"
    unit = "order" if tiers.basis is TierBasis.ORDERS_COUNT else "tier point"
    return count(int(value), unit)


def _more(tiers: Tiers, value: Decimal, currency: str) -> str:
    """`spend $300.00 more`, `2 more orders`, `50 more tier points`."""
    if tiers.basis is TierBasis.AMOUNT_SPENT:
        return f"spend {money(value, currency)} more"
    unit = "order" if tiers.basis is TierBasis.ORDERS_COUNT else "tier point"
    return f"{int(value)} more {unit}{'' if value == 1 else 's'}"


def _before_period(tiers: Tiers, timeline: Timeline) -> list[tuple[datetime, str]]:
    """Orders (or points) before the current period: they counted for an earlier one (a held
    order, for the period its hold ended in)."""
    start = period_start(tiers, timeline.now, timeline.zone)
    if start is None:
        return []
    zone = timeline.zone
    since = f"the current period began on {day(start, zone)}"
    if tiers.basis is TierBasis.POINTS_EARNED:
        return [
            (p.at, f"{p.id} ({count(p.points, 'point')}) is from before {since[4:]}")
            for p in timeline.points
            if p.at < start
        ]
    # A held order counts when its hold ends (`tier_contributions`): in the period that holds
    # that moment, so an order of 31 December whose hold ends in January is not outside.
    requirements = tiers.order_requirements
    hold = timedelta(days=requirements.refund_hold_days if requirements else 0)
    return [
        (o.at, f"order {o.id} on {day(o.at, zone)} is outside the period: {since}")
        for o in timeline.orders
        if o.at + hold < start
    ]


def period_start(tiers: Tiers, now: datetime, zone: tzinfo) -> datetime | None:
    """The start of the progress that counts at `now`: 1 January, twelve months back, or
    None (lifetime)."""
    if tiers.period is TierPeriod.CALENDAR_YEAR:
        return year_start(now, zone)
    if tiers.period is TierPeriod.ROLLING_12MO:
        return twelve_months_before(now, zone)
    return None


def pending_orders(
    orders: Sequence[Order], hold_days: int, now: datetime, zone: tzinfo
) -> list[tuple[datetime, str]]:
    """Orders still in their refund hold at `now`: they count when it ends."""
    found = []
    for order in orders:
        ends = order.at + timedelta(days=hold_days)
        refunded = refund_known(order, now) is not None and fully_refunded(order, now)
        if hold_days and ends > now and not refunded:
            found.append(
                (
                    order.at,
                    f"order {order.id} is pending: it counts from {day(ends, zone)}, when its "
                    f"{hold_days}-day refund hold ends",
                )
            )
    return found


def pending_points(
    awards: Iterable[Award], now: datetime, zone: tzinfo
) -> list[tuple[datetime, str]]:
    """Points earned but not active at `now`: they count toward the tier when they are."""
    return [
        (
            a.at,
            f"{count(a.points, 'point')} from {a.activity} are pending until "
            f"{day(a.active_at, zone)} and count from then",
        )
        for a in awards
        if a.points > 0 and a.active_at > now
    ]


def unticked_adjustments(timeline: Timeline) -> list[tuple[datetime, str]]:
    """Adjustments that do not count toward a `points_earned` tier."""
    return [
        (
            a.at,
            f"adjustment {a.id} ({a.points:+d} points) does not count toward the tier: "
            "it does not set `affects_tier`",
        )
        for a in timeline.adjustments
        if not a.affects_tier and a.points > 0
    ]
