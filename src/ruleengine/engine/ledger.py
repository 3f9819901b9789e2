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

Expiry (`points.expiry`): `per_award` expires what is left of each batch `after` it became
active; `rolling` expires every active point `after` the last award (each award restarts the
clock); `fixed_date` expires every active point at the end of the day `on` each year (in the
ruleset's zone): the first such day after the balance last rose from zero, or after the
previous fixed-date expiry (a fixed day passed with nothing active is done). Each expiry with
points is a `points_expired` decision (key `_expiry/<award key>` for per_award,
`_expiry/<local date>` otherwise, `_expiry/<local date>/<n>` for the n-th that day), and
each `warn_before` threshold gives one `expiry_warning` decision per expiry (key
`<expiry key>/warning/<threshold>`) at the moment the warning falls due, while that expiry
still stands and before it happens. The ledger's keys start with `_`, as no rule id can.

Everything is a pure function of the awards, the snapshot and `now`: replaying a longer history
never changes what happened earlier, so step-by-step evaluation agrees with one evaluation.
The entries (one per change, with the balance after it) are the customer timeline's material.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from itertools import chain
from typing import Any, Literal

import msgspec

from ruleengine.engine.activity import Adjustment, PointsEntry, Redemption
from ruleengine.engine.decisions import Decision, DecisionKind, RewardGrant, key_part
from ruleengine.engine.ledger_types import (
    Award,
    Balance,
    Coupon,
    EntryKind,
    Expiring,
    LedgerEntry,
    LedgerOutcome,
    LedgerProblem,
    earning_award,
)
from ruleengine.engine.timeline import Timeline
from ruleengine.engine.wording import count, day
from ruleengine.expr.runtime import EvalContext, shift
from ruleengine.expr.values import Duration
from ruleengine.rules.models import Expiry, ExpiryPolicy, RuleSetFile

EXPIRY_RULE = "points.expiry"  # the `rule` of expiry decisions
# The ledger's own keys start with `_`, which no rule id can (`RULE_ID_PATTERN`): its decisions
# (`_expiry/...`) and the batches of store activity (`_adjustment/<id>`) never take a key a
# rule makes, whatever the rule ids. Activity ids in them are encoded (`key_part`).
EXPIRY_KEY = "_expiry"


class _Pending(msgspec.Struct, frozen=True):
    """An award at the moment it is earned, when it becomes active only later."""

    award: Award


class _Batch(msgspec.Struct):
    key: str
    at: datetime
    left: int


class _State(msgspec.Struct):
    """The running ledger of one replay."""

    ctx: EvalContext
    expiry: Expiry | None
    granted: frozenset[str]
    # Whether to write the timeline's entries (`Engine.timeline`): their words cost more than
    # the replay itself, and a plain evaluation never reads them.
    record: bool = True
    batches: deque[_Batch] = msgspec.field(default_factory=deque)
    active: int = 0
    earned: int = 0
    redeemed: int = 0
    adjusted: int = 0
    expired: int = 0
    last_award: datetime | None = None
    # `fixed_date`: since when the points active now have stood, so their expiry is the first
    # fixed day that ends after it: the last fixed-date expiry, or the award that found no
    # point active (a fixed day that passes with nothing active expires nothing, and counts
    # as done: points earned after it never expire on it).
    fixed_since: datetime | None = None
    entries: list[LedgerEntry] = msgspec.field(default_factory=list)
    decisions: list[Decision] = msgspec.field(default_factory=list)
    problems: list[LedgerProblem] = msgspec.field(default_factory=list)
    warned: set[str] = msgspec.field(default_factory=set)
    # `rolling`, `fixed_date`: expiries made so far on each local day (their key's date), so a
    # second expiry on one day gets its own key (`_expiry/2026-01-01/2`).
    days: dict[str, int] = msgspec.field(default_factory=dict)
    names: dict[str, str] = msgspec.field(default_factory=dict)  # rule id -> the rule's name
    # The expiry's durations, parsed once: `after`, and each `warn_before` with its text.
    after: Duration | None = None
    warnings: tuple[tuple[str, Duration], ...] = ()

    def __post_init__(self) -> None:
        if self.expiry is not None:
            if self.expiry.after is not None:
                self.after = Duration.parse(str(self.expiry.after))
            self.warnings = tuple((str(t), Duration.parse(str(t))) for t in self.expiry.warn_before)

    def rule_words(self, award: Award) -> str:
        """`"Join the club" (welcome)`: the rule as the customer saw it, and its id."""
        name = self.names.get(award.rule or "")
        return f"`{award.rule}`" if name is None else f'"{name}" (`{award.rule}`)'

    # -- changes -------------------------------------------------------------------------

    def add(self, key: str, at: datetime, points: int) -> None:
        if not points:  # a zero award (a 0-point adjustment) is no batch and restarts no clock
            return
        if self.expiry is not None:  # batches matter only to expiry (see `take`)
            self.batches.append(_Batch(key, at, points))
        if not self.active:
            self.fixed_since = at
        self.active += points
        self.last_award = at

    def take(self, points: int) -> int:
        """Draw `points` down, oldest batch first; returns what was taken (at most active)."""
        if self.expiry is None:
            # Without expiry no batch is kept: the batches would only ever add up to `active`.
            taken = min(points, self.active)
            self.active -= taken
            return taken
        wanted = points
        while wanted and self.batches:
            batch = self.batches[0]
            used = min(batch.left, wanted)
            batch.left -= used
            wanted -= used
            if not batch.left:
                self.batches.popleft()
        taken = points - wanted
        self.active -= taken
        return taken

    def entry(
        self,
        at: datetime,
        kind: EntryKind,
        points: int,
        text: str,
        key: str,
        rule: str | None = None,
        activity: str | None = None,
    ) -> None:
        self.entries.append(LedgerEntry(at, kind, points, self.active, text, key, rule, activity))

    def shortfall(self, at: datetime, subject: str, wanted: int, taken: int, what: str) -> None:
        missing = wanted - taken
        if missing <= 0:
            return
        message = (
            f"{what} wanted {count(wanted, 'point')} on {day(at, self.ctx.tz)} but only "
            f"{taken} were active; {missing} could not be taken"
        )
        self.problems.append(LedgerProblem("RE618", subject, message, missing))

    # -- expiry --------------------------------------------------------------------------

    def next_expiry(self) -> tuple[datetime, str, _Batch | None] | None:
        """The next expiry of active points: its moment, decision key and the batch it takes
        (`per_award`: the oldest, which expires first; None: every active point)."""
        expiry = self.expiry
        if expiry is None or not self.active:
            return None
        if expiry.policy is ExpiryPolicy.PER_AWARD:
            # Batches are made in time order, so the oldest expires first: the head.
            batch = self.batches[0]
            assert self.after is not None
            at = self.moved(batch.at, self.after)
            return at, f"{EXPIRY_KEY}/{batch.key}", batch
        if expiry.policy is ExpiryPolicy.ROLLING:
            assert self.last_award is not None and self.after is not None
            at = self.moved(self.last_award, self.after)
        else:
            assert self.fixed_since is not None and expiry.on is not None
            at = fixed_date_after(self.fixed_since, expiry.on, self.ctx)
        local_day = str(self.ctx.local_date(at - timedelta(microseconds=1)))
        made = self.days.get(local_day, 0)  # earlier expiries that day (`rolling` only)
        key = f"{EXPIRY_KEY}/{local_day}" + (f"/{made + 1}" if made else "")
        return at, key, None

    def moved(self, moment: datetime, duration: Duration) -> datetime:
        moved = shift(moment, duration, 1, self.ctx)
        assert isinstance(moved, datetime)
        return moved

    def scheduled_since(self, batch: _Batch | None) -> datetime:
        """Since when an expiry has stood: its batch's award (per_award), the last award
        (rolling), or the previous fixed date or the award that found nothing active
        (fixed_date)."""
        if batch is not None:
            return batch.at
        assert self.expiry is not None
        if self.expiry.policy is ExpiryPolicy.ROLLING:
            assert self.last_award is not None
            return self.last_award
        assert self.fixed_since is not None
        return self.fixed_since

    def advance(self, until: datetime) -> None:
        """Expire and warn up to `until` (an activity's moment, or `now`), inclusive."""
        while True:
            upcoming = self.next_expiry()
            if upcoming is None:
                return
            at, key, batch = upcoming
            if at <= until:
                self.warn(at, key, batch, at, strict=True)
                self.expire(at, key, batch)
            else:
                self.warn(at, key, batch, until, strict=False)
                return

    def warn(
        self, at: datetime, key: str, batch: _Batch | None, until: datetime, *, strict: bool
    ) -> None:
        """Decide the warnings of the expiry `key` (at `at`) due by `until` (before it, when
        `strict`: the expiry itself comes at `until`)."""
        if not self.warnings:
            return
        points = self.active if batch is None else batch.left
        if not points:
            return
        since = self.scheduled_since(batch)
        for text, duration in self.warnings:
            warning_key = f"{key}/warning/{text}"
            if warning_key in self.warned:
                continue
            due = max(shift(at, duration, -1, self.ctx), since)
            assert isinstance(due, datetime)
            if due >= at or due > until or (strict and due >= until):
                continue
            self.warned.add(warning_key)
            if warning_key not in self.granted:
                self.decisions.append(
                    _ledger_decision(warning_key, "expiry_warning", points, due, at)
                )

    def expire(self, at: datetime, key: str, batch: _Batch | None) -> None:
        if batch is None:
            points = self.active
            self.batches.clear()
        else:
            points = batch.left
            self.batches.popleft()
        self.active -= points
        self.expired += points
        if self.expiry is not None and self.expiry.policy is ExpiryPolicy.FIXED_DATE:
            self.fixed_since = at
        if batch is None and points:
            local_day = str(self.ctx.local_date(at - timedelta(microseconds=1)))
            self.days[local_day] = self.days.get(local_day, 0) + 1
        if not points:
            return
        if self.record:
            self.entry(at, "expired", -points, f"{count(points, 'point')} expired", key)
        if key not in self.granted:
            self.decisions.append(_ledger_decision(key, "points_expired", points, at, None))


def _ledger_decision(
    key: str, kind: DecisionKind, points: int, at: datetime, expires_at: datetime | None
) -> Decision:
    """A `points_expired` (at the expiry) or `expiry_warning` decision (due at `at`; its
    `available_at` is when the points expire)."""
    return Decision(
        key,
        EXPIRY_RULE,
        None,
        "grant_all",
        None,
        (RewardGrant("points", points),),
        at,
        None,
        "granted",
        expires_at,
        kind,
    )


def fixed_date_after(moment: datetime, month_day: str, ctx: EvalContext) -> datetime:
    """The end of the first day `MM-DD` (in the ruleset's zone) that ends after `moment`:
    the next day's midnight. 29 February is 28 February in common years."""
    month, day_of_month = int(month_day[:2]), int(month_day[3:])
    year = ctx.local_date(moment).year
    while True:
        try:
            day_end = date(year, month, day_of_month)
        except ValueError:  # 29 February in a common year
            day_end = date(year, month, 28)
        end = datetime.combine(day_end + timedelta(days=1), time(0), ctx.tz)
        if end > moment:
            return end
        year += 1


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
    state = _State(ctx, model.points.expiry if model.points else None, granted, entries)
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
            state.advance(at)
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
                taken = _apply_redemption(state, what, key, programs)
                taken_by[what.id] = taken
                revoked = what.revoked_at
                if revoked is not None and revoked <= now:
                    # Never before its redemption (the loop has passed that point).
                    revoke = (max(revoked, at), 4, f"{key}/revoked", len(events), what)
                    bisect.insort(events, revoke)
            else:
                _apply_revoke(state, what, key, taken_by.get(what.id, 0))
    state.advance(now)
    expiring = _expiring(state)
    coupons = [
        Coupon(
            r.coupon,
            r.program,
            r.id,
            r.points,
            r.at,
            _coupon_status(r, now),
            r.used_at if r.used_at is not None and r.used_at <= now else None,
            r.revoked_at if r.revoked_at is not None and r.revoked_at <= now else None,
            taken_by.get(r.id, 0),
        )
        for r in timeline.redemptions
    ]
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


def _apply_pending(state: _State, award: Award) -> None:
    """An award earned now and active later: an entry (when writing them), no points yet."""
    if not state.record:
        return
    text = (
        f"{count(award.points, 'point')} earned from {state.rule_words(award)} for "
        f"{award.activity}, pending until {day(award.active_at, state.ctx.tz)}"
    )
    state.entry(award.at, "pending", 0, text, award.key, award.rule, award.activity)


def _apply_points(state: _State, at: datetime, key: str, points: int) -> None:
    """`_apply_award` of an earning award without entries: a reversal (`points` < 0, at the
    refund) or points becoming active at `at`."""
    if points < 0:
        taken = state.take(-points)
        state.earned -= taken
        state.shortfall(at, key, -points, taken, f"the reversal `{key}`")
        return
    state.add(key, at, points)
    state.earned += points


def _apply_award(state: _State, award: Award) -> None:
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
    state: _State, at: datetime, subject: str, key: str, points: int, what: str
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


def _apply_points_entry(state: _State, entry: PointsEntry, key: str) -> None:
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


def _apply_adjustment(state: _State, adjustment: Adjustment, key: str) -> None:
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


def _apply_redemption(
    state: _State, redemption: Redemption, key: str, programs: dict[str, Any]
) -> int:
    program = programs.get(redemption.program)
    if program is None:
        state.problems.append(
            LedgerProblem(
                "RE617",
                redemption.id,
                f"redemption {redemption.id} is of the program `{redemption.program}`, "
                "which the ruleset's `redeeming` does not have",
                redemption.points,
            )
        )
    taken = state.take(redemption.points)
    state.redeemed += taken
    state.shortfall(
        redemption.at, redemption.id, redemption.points, taken, f"redemption {redemption.id}"
    )
    if not state.record:
        return taken
    from ruleengine.engine.redeeming import redeemed_words  # only for a ruleset that redeems

    name = program.name if program is not None else f"`{redemption.program}`"
    text = redeemed_words(redemption.coupon, name, redemption.points, taken)
    state.entry(redemption.at, "redeemed", -taken, text, key, redemption.program, redemption.id)
    return taken


def _apply_revoke(state: _State, redemption: Redemption, key: str, taken: int) -> None:
    assert redemption.revoked_at is not None
    revoked = max(redemption.revoked_at, redemption.at)
    if taken:
        state.add(key, revoked, taken)
        state.redeemed -= taken
    if not state.record:
        return
    from ruleengine.engine.redeeming import revoked_words  # only for a ruleset that redeems

    text = revoked_words(redemption.coupon, redemption.points, taken)
    state.entry(revoked, "revoked", taken, text, key, redemption.program, redemption.id)


def _coupon_status(redemption: Redemption, now: datetime) -> Literal["active", "used", "revoked"]:
    if redemption.revoked_at is not None and redemption.revoked_at <= now:
        return "revoked"
    if redemption.used_at is not None and redemption.used_at <= now:
        return "used"
    return "active"


def _expiring(state: _State) -> list[Expiring]:
    """Every upcoming expiry of the points active at `now`, earliest first."""
    expiry = state.expiry
    if expiry is None or not state.active:
        return []
    if expiry.policy is ExpiryPolicy.PER_AWARD:
        assert state.after is not None
        found = sorted((state.moved(b.at, state.after), b.left) for b in state.batches)
        merged: list[Expiring] = []
        for at, points in found:
            if merged and merged[-1].at == at:
                merged[-1] = Expiring(merged[-1].points + points, at)
            else:
                merged.append(Expiring(points, at))
        return merged
    upcoming = state.next_expiry()
    assert upcoming is not None
    return [Expiring(state.active, upcoming[0])]
