"""Steps: when a ledger's running total reached a step's target, by which contribution, and
whether every contribution counted for it has passed its refund hold.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from itertools import islice

import msgspec

from ruleengine.engine.milestones.ledgers import KEY, ActivityKey, Contribution, Ledger, Number


class StepState(msgspec.Struct):
    """Where one step stands at `now`."""

    achieved: ActivityKey | None  # the qualifying contribution's key, once the target was reached
    qualifying: str | None  # its activity id
    confirm_at: datetime | None  # when every contribution counted for it has passed its hold
    current: Number  # counted and past its hold
    pending: Number  # counted but still within a refund hold


def step_state(
    ledger: Ledger, after: ActivityKey | None, target: Number, now: datetime, grouped: bool
) -> StepState:
    """Sweep the contributions after `after` until the total reaches `target`; per group
    (subscription) when `grouped`, reading the largest group's total.

    A journey step (`after` given) began at `after`: activity before it never counted for the
    step, so neither does its refund, even when the refund comes later."""
    contributions = ledger.contributions
    first = 0 if after is None else bisect_right(contributions, after, key=KEY)
    if grouped:
        return _grouped_step_state(islice(contributions, first, None), target, now)
    # Money stays Decimal throughout, zero included, so it is written in one form.
    zero: Number = zero_of(target)
    total, confirmed, pending = zero, zero, zero
    latest_confirm: datetime | None = None
    for key, activity_id, delta, confirm_at, _, source in islice(contributions, first, None):
        if after is not None and source <= after:
            continue  # a refund of an order placed before the step began
        total += delta
        if delta < 0 or confirm_at <= now:
            confirmed += delta
        else:
            pending += delta
        if delta > 0 and (latest_confirm is None or confirm_at > latest_confirm):
            latest_confirm = confirm_at
        if total >= target:
            return StepState(
                key, activity_id, latest_confirm, max(confirmed, zero), max(pending, zero)
            )
    return StepState(None, None, None, max(confirmed, zero), max(pending, zero))


def zero_of(target: Number) -> Number:
    """Nothing, in the target's kind: `Decimal(0)` for money, `0` for counts."""
    return Decimal(0) if isinstance(target, Decimal) else 0


class _GroupTotals:
    """Running totals per group; `value` is the largest."""

    def __init__(self) -> None:
        self.groups: dict[str | None, Number] = {}

    def add(self, group: str | None, delta: Number) -> None:
        self.groups[group] = self.groups.get(group, 0) + delta

    @property
    def value(self) -> Number:
        return max(self.groups.values(), default=0)


def _grouped_step_state(
    contributions: Iterable[Contribution], target: Number, now: datetime
) -> StepState:
    """`step_state` for a total per group (subscription_cycles)."""
    total, confirmed, pending = _GroupTotals(), _GroupTotals(), _GroupTotals()
    latest_confirm: datetime | None = None
    for key, activity_id, delta, confirm_at, group, _ in contributions:
        total.add(group, delta)
        if delta < 0 or confirm_at <= now:
            confirmed.add(group, delta)
        else:
            pending.add(group, delta)
        if delta > 0 and (latest_confirm is None or confirm_at > latest_confirm):
            latest_confirm = confirm_at
        if total.value >= target:
            return StepState(
                key, activity_id, latest_confirm, max(confirmed.value, 0), max(pending.value, 0)
            )
    return StepState(None, None, None, max(confirmed.value, 0), max(pending.value, 0))
