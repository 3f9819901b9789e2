"""What a customer may redeem now: the `redeeming` programs whose condition and limit allow
it and whose cost the active balance covers, each with the most points it could spend.

A fixed-`cost` program can spend its cost; a `points_per` program whole increments, at least
`min_points` (and one increment), at most `max_points` and the active balance. A `limit`
counts the customer's redemptions of the program in the current period (ruleset zone),
revoked ones left out: a revoked coupon gave nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from ruleengine.engine.activity import Redemption
from ruleengine.engine.earning import period_start
from ruleengine.engine.wording import count
from ruleengine.expr.runtime import EvalContext
from ruleengine.rules.models import RedeemingProgram


class Redeemable(msgspec.Struct, frozen=True):
    program: str
    name: str
    points: int  # the most points the customer could spend on it now

    def to_json(self) -> dict[str, Any]:
        return {"program": self.program, "name": self.name, "points": self.points}


def most_points(program: RedeemingProgram, active: int) -> int:
    """The most points a redemption of `program` could spend from `active` points (0: none)."""
    if program.cost is not None:
        return program.cost if active >= program.cost else 0
    step = program.points_per
    assert step is not None  # semantics: a program has cost or points_per
    ceiling = active if program.max_points is None else min(active, program.max_points)
    most = ceiling // step * step
    least = max(step, program.min_points or 0)
    return most if most >= least else 0


def explain_program(
    program: RedeemingProgram,
    active: int,
    redemptions: Sequence[Redemption],
    ctx: EvalContext,
    allows: Callable[[], bool],
) -> tuple[str, tuple[str, ...]]:
    """Whether the customer may redeem `program` now, as an explanation's status and reasons
    (`redeemable`, or `not_redeemable` with every reason that stands in the way)."""
    if not program.enabled:
        return "disabled", ("the program is disabled (`enabled: false`)",)
    reasons = []
    points = most_points(program, active)
    if not points:
        if program.cost is not None:
            need = f"costs {program.cost} points"
        else:
            least = max(program.points_per or 0, program.min_points or 0)
            need = f"needs at least {least} points"
        reasons.append(f"the program {need}; the customer has {active} active")
    used = _used(program, redemptions, ctx)
    if program.limit is not None and used >= program.limit.times:
        where = "in total" if program.limit.per.value == "lifetime" else f"per {program.limit.per}"
        reasons.append(f"the limit of {program.limit.times} {where} is used up")
    if program.when is not None and not allows():
        reasons.append(f"the condition `{' '.join(str(program.when).split())}` is false")
    if reasons:
        return "not_redeemable", tuple(reasons)
    return "redeemable", (f"up to {points} points can be spent now",)


def _used(program: RedeemingProgram, redemptions: Sequence[Redemption], ctx: EvalContext) -> int:
    """The customer's redemptions of `program` in its limit's current period, revoked ones
    left out (0 without a limit)."""
    limit = program.limit
    if limit is None:
        return 0
    now = ctx.now
    start = period_start(now, limit.per, ctx)
    return sum(
        1
        for r in redemptions
        if r.program == program.id
        and (start is None or r.at >= start)
        and (r.revoked_at is None or r.revoked_at > now)
    )


def redeemable_programs(
    programs: Sequence[RedeemingProgram],
    active: int,
    redemptions: Sequence[Redemption],
    ctx: EvalContext,
    allows: Callable[[int], bool],
) -> list[Redeemable]:
    """The programs the customer may redeem at `ctx.now`, in file order. `allows(index)` says
    whether the program's `when` holds (True without one)."""
    found = []
    for index, program in enumerate(programs):
        if not program.enabled:
            continue
        points = most_points(program, active)
        if not points:
            continue
        if program.limit is not None and _used(program, redemptions, ctx) >= program.limit.times:
            continue
        if program.when is not None and not allows(index):
            continue
        found.append(Redeemable(program.id, program.name, points))
    return found


def redeemed_words(coupon: str, name: str, price: int, taken: int) -> str:
    """The timeline's words for a redemption: the coupon's price, and when the balance could
    not cover it (RE618), what was taken instead."""
    if taken >= price:
        return f"{count(price, 'point')} redeemed for {name}: coupon {coupon}"
    got = (
        f"only {taken} were active, so {taken} were taken"
        if taken
        else "no points were active, so none were taken"
    )
    priced = f"coupon {coupon} redeemed for {name} (price {count(price, 'point')})"
    return f"{priced}: {got} ({price - taken} short)"


def revoked_words(coupon: str, price: int, taken: int) -> str:
    """The timeline's words for a revoke: it returns what the redemption took, which is less
    than the coupon's price when the balance could not cover it."""
    if taken >= price:
        return f"coupon {coupon} revoked: {count(taken, 'point')} returned"
    back = f"{taken} returned, what its redemption took" if taken else "nothing returned"
    if not taken:
        back += ", as its redemption took no points"
    return f"coupon {coupon} (price {count(price, 'point')}) revoked: {back}"
