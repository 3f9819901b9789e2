"""Redemptions in the points ledger: the points a coupon takes and returns, and its status.

A redemption draws its points down like any other (oldest batch first, RE618 for what was not
active) and names a program the ruleset must have (RE617); revoking its coupon returns what the
redemption actually took, as a new batch at the revoke. `engine.ledger` schedules the revoke
after its redemption and calls these; `coupons_at` reports every coupon as it stands at `now`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from ruleengine.engine.activity import Redemption
from ruleengine.engine.ledger_state import LedgerState
from ruleengine.engine.ledger_types import Coupon, LedgerProblem


def apply_redemption(
    state: LedgerState, redemption: Redemption, key: str, programs: dict[str, Any]
) -> int:
    """Draw a redemption's points down; the points it took."""
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


def apply_revoke(state: LedgerState, redemption: Redemption, key: str, taken: int) -> None:
    """Return the points the revoked redemption `taken`, never before the redemption."""
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


def coupons_at(
    redemptions: Iterable[Redemption], now: datetime, taken_by: dict[str, int]
) -> list[Coupon]:
    """Every redemption's coupon at `now`, with the points its redemption took (`taken_by`
    its id, 0 when absent)."""
    return [
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
        for r in redemptions
    ]


def _coupon_status(redemption: Redemption, now: datetime) -> Literal["active", "used", "revoked"]:
    if redemption.revoked_at is not None and redemption.revoked_at <= now:
        return "revoked"
    if redemption.used_at is not None and redemption.used_at <= now:
        return "used"
    return "active"
