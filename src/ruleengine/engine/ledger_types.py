"""The points ledger's records: the awards it replays and what it returns.

`Award` (an earning or milestone award, made from its decision by `earning_award` and
`milestone_award`), the entries of the customer's timeline (`LedgerEntry`, of an `EntryKind`),
the `Balance`, `Coupon`s, `Expiring` points, `LedgerProblem`s and the whole `LedgerOutcome`.
`ledger` replays them.

`LedgerEntry` and `Balance` are frozen dataclasses: hosts receive them (`Engine.timeline`'s
`PointsHistory`) and may use `dataclasses` functions on them. The others never leave the
engine and are msgspec structs, whose classes are made in C (a dataclass's methods are
compiled from source when its module is imported: ~0.5 ms each on `ruleengine eval`'s path).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import msgspec

from ruleengine.engine.decisions import Decision, format_time
from ruleengine.engine.milestones.ledgers import OwnPoint

EntryKind = Literal[
    "earned",
    "pending",
    "activated",
    "reversed",
    "redeemed",
    "revoked",
    "adjusted",
    "expired",
    # VIP tiers (`engine.tier_decisions`): the level changed; `points` is 0.
    "tier_upgrade",
    "tier_downgrade",
    "tier_change",
    "tier_recalculation",
]


class Award(msgspec.Struct, frozen=True):
    """Points the ruleset (or the host) grants: `key` is the decision's key, `active_at` when
    they become active (after `now`: still pending). One per earning decision, made in C (a
    msgspec struct: internal to the ledger, never part of a result)."""

    key: str
    rule: str | None
    activity: str | None
    points: int  # negative for a reversal
    at: datetime  # the activity's moment (the decision's `achieved_at`)
    active_at: datetime
    source: Literal["earning", "milestone", "tier"]
    label: str | None = None  # tier entry rewards: what earned them (`reaching Gold`)


def earning_award(decision: Decision) -> Award:
    """An earning decision as an award: active at `available_at` when it was pending."""
    points = decision.rewards[0].value
    assert isinstance(points, int)
    active_at = decision.achieved_at
    if points > 0 and decision.available_at is not None:
        active_at = decision.available_at
    return Award(
        decision.key,
        decision.rule,
        decision.qualifying,
        points,
        decision.achieved_at,
        active_at,
        "earning",
    )


def milestone_award(decision: Decision, decided_at: datetime) -> Award | None:
    """A decided milestone step's points (its `grant_all` points rewards), active from the
    moment the step was decided; None when it grants no points (or the customer picks)."""
    if decision.logic != "grant_all":
        return None
    points = sum(
        r.value for r in decision.rewards if r.type == "points" and isinstance(r.value, int)
    )
    if not points:
        return None
    return Award(
        decision.key,
        decision.rule,
        decision.qualifying,
        points,
        decision.achieved_at,
        decided_at,
        "milestone",
    )


def own_points_of(award: Award) -> OwnPoint:
    """What a `points_earned` milestone counts of an award: (moment, kind, key, points, the
    activity it was for: a step it completes names that activity as `qualifying`)."""
    moment = award.at if award.points < 0 else award.active_at
    return moment, award.source, award.key, award.points, award.activity or award.key


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One change of the customer's points, in time order, with the active balance after it.
    `points` is the signed change to the active balance (0 for an award still pending)."""

    at: datetime
    kind: EntryKind
    points: int
    balance: int
    text: str
    key: str
    rule: str | None = None
    activity: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "at": format_time(self.at),
            "kind": self.kind,
            "points": self.points,
            "balance": self.balance,
            "key": self.key,
            "rule": self.rule,
            "activity": self.activity,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class Balance:
    """The customer's points at `now`: `active` to spend, `pending` not yet active, and what
    was earned, redeemed, adjusted (signed) and expired in all."""

    active: int = 0
    pending: int = 0
    earned: int = 0
    redeemed: int = 0
    adjusted: int = 0
    expired: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "active": self.active,
            "pending": self.pending,
            "earned": self.earned,
            "redeemed": self.redeemed,
            "adjusted": self.adjusted,
            "expired": self.expired,
        }


class Coupon(msgspec.Struct, frozen=True):
    coupon: str
    program: str
    redemption: str
    points: int  # the coupon's price: the points its redemption spent
    at: datetime
    status: Literal["active", "used", "revoked"]
    used_at: datetime | None
    revoked_at: datetime | None
    # What the redemption took from the balance: `points`, or less when fewer were active
    # (RE618); a revoke returns exactly this.
    taken: int

    def to_json(self) -> dict[str, Any]:
        return {
            "coupon": self.coupon,
            "program": self.program,
            "redemption": self.redemption,
            "points": self.points,
            "taken": self.taken,
            "at": format_time(self.at),
            "status": self.status,
            "used_at": None if self.used_at is None else format_time(self.used_at),
            "revoked_at": None if self.revoked_at is None else format_time(self.revoked_at),
        }


class Expiring(msgspec.Struct, frozen=True):
    points: int
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"points": self.points, "at": format_time(self.at)}


class LedgerProblem(msgspec.Struct, frozen=True):
    """A draw-down the balance could not cover, or a redemption of an unknown program."""

    code: str
    subject: str  # the activity or decision key
    message: str
    amount: int


class LedgerOutcome(msgspec.Struct):
    balance: Balance
    entries: list[LedgerEntry]
    decisions: list[Decision]  # points_expired and expiry_warning, not yet in `granted`
    expiring: list[Expiring]
    coupons: list[Coupon]
    problems: list[LedgerProblem]
    last_award_at: datetime | None = None
