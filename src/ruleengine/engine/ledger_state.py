"""The running state of one points-ledger replay: the batches, FIFO draw-down and totals.

A batch is points that became active together; `add` makes one and `take` draws active points
down, oldest batch first, never below zero (what could not be taken is a `shortfall`, RE618).
The state also keeps what the expiry policies need between events (the last award, since when
the active points have stood, the warnings given; `engine.ledger_expiry` reads and moves them)
and collects the replay's entries, decisions and problems. `engine.ledger` drives it.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

import msgspec

from ruleengine.engine.decisions import Decision
from ruleengine.engine.ledger_types import Award, EntryKind, LedgerEntry, LedgerProblem
from ruleengine.engine.wording import count, day
from ruleengine.expr.runtime import EvalContext
from ruleengine.expr.values import Duration
from ruleengine.rules.models import Expiry


class Batch(msgspec.Struct):
    """Points that became active together (`at`), and how many of them are `left`."""

    key: str
    at: datetime
    left: int


class LedgerState(msgspec.Struct):
    """The running ledger of one replay."""

    ctx: EvalContext
    expiry: Expiry | None
    granted: frozenset[str]
    # Whether to write the timeline's entries (`Engine.timeline`): their words cost more than
    # the replay itself, and a plain evaluation never reads them.
    record: bool = True
    batches: deque[Batch] = msgspec.field(default_factory=deque)
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
            self.batches.append(Batch(key, at, points))
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
