"""The points ledger: a customer's point batches replayed as they happened.

Every award is a *batch* at the moment it becomes active: earning points (at their
`available_at` when they were pending, at their activity otherwise), milestone points (when
the step is decided: its activity, or the end of its refund hold), positive `points_earned`
activity and positive adjustments, and the points a revoked coupon returns (at the revoke).
Redemptions, negative adjustments, negative `points_earned` activity, refund reversals and
expirations draw active points down, oldest batch first (FIFO). Active points never go below
zero: a draw-down takes at most what is active, and the rest is reported as a problem (RE618)
with the amount; `earned`, `adjusted` and `redeemed` move only by what was taken, so
`active = earned + adjusted - redeemed - expired` always holds.

Expiry (`points.expiry`, `engine.ledger_expiry`) takes what is left of the batches at the
moments its policy says, with warnings before; redemptions and their coupons are
`engine.ledger_redemptions`; the batches, FIFO draw-down and totals are the replay's
`engine.ledger_state.LedgerState`. This module orders the events and applies each one.

Everything is a pure function of the awards, the snapshot and `now`: replaying a longer history
never changes what happened earlier, so step-by-step evaluation agrees with one evaluation.
The entries (one per change, with the balance after it) are the customer timeline's material.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import chain
from typing import Any

import msgspec

from ruleengine.engine.activity import Adjustment, PointsEntry, Redemption
from ruleengine.engine.decisions import Decision, key_part
from ruleengine.engine.ledger_expiry import advance_expiry, upcoming_expiries
from ruleengine.engine.ledger_redemptions import apply_redemption, apply_revoke, coupons_at
from ruleengine.engine.ledger_state import LedgerState
from ruleengine.engine.ledger_types import Award, Balance, EntryKind, LedgerOutcome, earning_award
from ruleengine.engine.timeline import Timeline
from ruleengine.engine.wording import count, day
from ruleengine.expr.runtime import EvalContext
from ruleengine.rules.models import RuleSetFile


class _Pending(msgspec.Struct, frozen=True):
    """An award at the moment it is earned, when it becomes active only later."""

    award: Award


# What the replay visits: (moment, rank, key, sequence number, what). Ranks order what
# happens at one moment: awards first, then adjustments, redemptions, revokes, and reversals
# last; the sequence number (the order the event was made in) breaks the remaining ties, so
# the tuples sort by themselves (no key function, no comparison of `what`) exactly as a stable
# sort by (moment, rank, key) would.
_Event = tuple[datetime, int, str, int, Any]


def _events(
    awards: Iterable[Award],
    timeline: Timeline,
    now: datetime,
    earned_events: bool,
    earning: Sequence[Decision] = (),
) -> tuple[list[_Event], int]:
    """What the replay visits, in order, and the points still pending at `now`. The moments
    pending awards are earned (`earned_events`) matter only to entries and to expiry.

    `earning` are earning decisions with points, before `awards`: without `earned_events`
    (a plain evaluation) each is only its signed points (an `int` event), as `earning_award`
    would read them, with no `Award` made; otherwise each becomes its `Award`."""
    events: list[_Event] = []
    append = events.append
    pending = 0
    if earned_events:
        awards = chain(map(earning_award, earning), awards)
    else:
        for decision in earning:
            points = decision.rewards[0].value
            assert isinstance(points, int)
            if points < 0:
                append((decision.achieved_at, 5, decision.key, len(events), points))
                continue
            active_at = decision.available_at
            if active_at is None or not points:
                active_at = decision.achieved_at
            if active_at > now:
                pending += points
            else:
                append((active_at, 1, decision.key, len(events), points))
    for award in awards:
        points = award.points
        if points < 0:
            append((award.at, 5, award.key, len(events), award))
            continue
        active_at = award.active_at
        if earned_events and active_at > award.at:  # earned now, active later
            append((award.at, 0, award.key, len(events), _Pending(award)))
        if active_at > now:
            pending += points
        else:
            append((active_at, 1, award.key, len(events), award))
    # The store's activity gets the ledger's own keys, which start with `_` as no rule id can
    # (see `ledger_expiry.EXPIRY_KEY`), with its ids encoded.
    for entry in timeline.points:
        rank = 1 if entry.points >= 0 else 5
        key = f"_points_earned/{key_part(entry.id)}"
        append((entry.at, rank, key, len(events), entry))
    for adjustment in timeline.adjustments:
        key = f"_adjustment/{key_part(adjustment.id)}"
        append((adjustment.at, 2, key, len(events), adjustment))
    for redemption in timeline.redemptions:
        key = f"_redemption/{key_part(redemption.id)}"
        append((redemption.at, 3, key, len(events), redemption))
    events.sort()
    return events, pending


def replay_ledger(
    model: RuleSetFile,
    awards: Iterable[Award],
    timeline: Timeline,
    ctx: EvalContext,
    granted: frozenset[str],
    *,
    entries: bool = True,
    earning: Sequence[Decision] = (),
) -> LedgerOutcome:
    """Replay the customer's points up to `ctx.now` (see the module docstring). Without
    `entries`, the outcome's `entries` are left empty (everything else is the same).
    `earning` are earning decisions with points: awards as `earning_award` makes them, which
    come before `awards`."""
    now = ctx.now
    state = LedgerState(ctx, model.points.expiry if model.points else None, granted, entries)
    if entries:
        state.names = {r.id: r.name for r in model.earning} | {
            m.id: m.name for m in model.milestones
        }
    programs = {program.id: program for program in model.redeeming}
    expires = state.expiry is not None
    events, pending = _events(awards, timeline, now, entries or expires, earning)
    taken_by: dict[str, int] = {}
    for at, rank, key, _, what in events:
        if expires:  # without expiry there is nothing to expire or warn of
            advance_expiry(state, at)
        if type(what) is int:  # an earning award's points (no entries, no expiry)
            if what >= 0 and not expires:  # most: `_apply_points` without its calls
                state.active += what
                state.earned += what
                state.last_award = at
            else:
                _apply_points(state, at, key, what)
        elif isinstance(what, _Pending):
            _apply_pending(state, what.award)
        elif isinstance(what, Award):
            _apply_award(state, what)
        elif isinstance(what, PointsEntry):
            _apply_points_entry(state, what, key)
        elif isinstance(what, Adjustment):
            _apply_adjustment(state, what, key)
        elif isinstance(what, Redemption):
            if rank == 3:
                taken = apply_redemption(state, what, key, programs)
                taken_by[what.id] = taken
                revoked = what.revoked_at
                if revoked is not None and revoked <= now:
                    # Never before its redemption (the loop has passed that point).
                    revoke = (max(revoked, at), 4, f"{key}/revoked", len(events), what)
                    bisect.insort(events, revoke)
            else:
                apply_revoke(state, what, key, taken_by.get(what.id, 0))
    advance_expiry(state, now)
    expiring = upcoming_expiries(state)
    coupons = coupons_at(timeline.redemptions, now, taken_by)
    balance = Balance(
        state.active, pending, state.earned, state.redeemed, state.adjusted, state.expired
    )
    return LedgerOutcome(
        balance,
        state.entries,
        state.decisions,
        expiring,
        coupons,
        state.problems,
        state.last_award,
    )


def _apply_pending(state: LedgerState, award: Award) -> None:
    """An award earned now and active later: an entry (when writing them), no points yet."""
    if not state.record:
        return
    text = (
        f"{count(award.points, 'point')} earned from {state.rule_words(award)} for "
        f"{award.activity}, pending until {day(award.active_at, state.ctx.tz)}"
    )
    state.entry(award.at, "pending", 0, text, award.key, award.rule, award.activity)


def _apply_points(state: LedgerState, at: datetime, key: str, points: int) -> None:
    """`_apply_award` of an earning award without entries: a reversal (`points` < 0, at the
    refund) or points becoming active at `at`."""
    if points < 0:
        taken = state.take(-points)
        state.earned -= taken
        state.shortfall(at, key, -points, taken, f"the reversal `{key}`")
        return
    state.add(key, at, points)
    state.earned += points


def _apply_award(state: LedgerState, award: Award) -> None:
    ctx = state.ctx
    if award.points < 0:
        wanted = -award.points
        taken = state.take(wanted)
        state.earned -= taken
        state.shortfall(award.at, award.key, wanted, taken, f"the reversal `{award.key}`")
        if not state.record:
            return
        state.entry(
            award.at,
            "reversed",
            -taken,
            f"{count(taken, 'point')} reversed from {state.rule_words(award)}: "
            f"{award.activity} was refunded"
            + (
                f" ({wanted - taken} could not be taken: no more were active)"
                if taken < wanted
                else ""
            ),
            award.key,
            award.rule,
            award.activity,
        )
        return
    state.add(award.key, award.active_at, award.points)
    state.earned += award.points
    if not state.record:
        return
    what = "milestone reward" if award.source == "milestone" else "earned"
    words = state.rule_words(award)
    detail = f"{count(award.points, 'point')} {what} from {words} for {award.activity}"
    if award.source == "tier":
        detail = f"{count(award.points, 'point')} tier reward for {award.label}"
        if award.activity is not None:
            detail += f" (from {award.activity})"
    kind: EntryKind = "earned"
    if award.active_at > award.at:
        kind = "activated"
        detail = (
            f"{count(award.points, 'point')} from {words} for {award.activity} became "
            f"active (earned on {day(award.at, ctx.tz)})"
        )
    state.entry(award.active_at, kind, award.points, detail, award.key, award.rule, award.activity)


def _move_points(
    state: LedgerState, at: datetime, subject: str, key: str, points: int, what: str
) -> int:
    """A signed amount the host sent: a positive one becomes a new batch; a negative one is
    taken from what is active, oldest first, and what could not be taken is a problem (RE618).
    The signed points that actually moved."""
    if points >= 0:
        state.add(key, at, points)
        return points
    taken = state.take(-points)
    state.shortfall(at, subject, -points, taken, what)
    return -taken


def _apply_points_entry(state: LedgerState, entry: PointsEntry, key: str) -> None:
    moved = _move_points(
        state, entry.at, entry.id, key, entry.points, f"`points_earned` {entry.id}"
    )
    state.earned += moved
    if not state.record:
        return
    if entry.points >= 0:
        text = f"{count(moved, 'point')} earned ({entry.id}, sent by the store)"
        state.entry(entry.at, "earned", moved, text, key, None, entry.id)
    else:
        text = f"{count(-moved, 'point')} taken back ({entry.id}, sent by the store)"
        if -moved < -entry.points:
            text = f"{count(-entry.points, 'point')} to take back ({entry.id}, sent by the store)"
            text += short_words(-entry.points, -moved, "taken")
        state.entry(entry.at, "reversed", moved, text, key, None, entry.id)


def short_words(wanted: int, taken: int, verb: str) -> str:
    """What a draw-down could not take (RE618), as a redemption's words say it:
    `: only 120 were active, so 120 were taken (180 short)`."""
    if taken:
        return f": only {taken} were active, so {taken} were {verb} ({wanted - taken} short)"
    return f": no points were active, so none were {verb} ({wanted} short)"


def _apply_adjustment(state: LedgerState, adjustment: Adjustment, key: str) -> None:
    what = f"adjustment {adjustment.id}"
    moved = _move_points(state, adjustment.at, adjustment.id, key, adjustment.points, what)
    state.adjusted += moved
    if not state.record:
        return
    said = []
    if adjustment.message:
        said.append(f'message: "{adjustment.message}"')
    if adjustment.note:
        said.append(f"note: {adjustment.note}")
    detail = f" ({'; '.join(said)})" if said else ""
    verb = "added" if adjustment.points >= 0 else "removed"
    text = f"{count(abs(moved), 'point')} {verb} by the store{detail}"
    if -moved < -adjustment.points:  # a removal the balance could not cover (RE618)
        short = short_words(-adjustment.points, -moved, "removed")
        text = f"{count(-adjustment.points, 'point')} to remove by the store{detail}{short}"
    if not adjustment.points:
        text = f"an adjustment of 0 points by the store, which changes nothing{detail}"
    state.entry(adjustment.at, "adjusted", moved, text, key, None, adjustment.id)
