"""Inactivity milestones: time since each order instead of a running total, one decision per
spell of inactivity.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from ruleengine.engine.decisions import Explanation, Progress, key_part
from ruleengine.engine.milestones.plan import (
    MilestoneContext,
    MilestoneOutcome,
    MilestonePlan,
    PlannedStep,
    make_decision,
)
from ruleengine.engine.wording import count, day
from ruleengine.expr.runtime import EvalContext, add_months, shift
from ruleengine.expr.values import Duration
from ruleengine.rules.models import Milestone


def evaluate_inactivity(
    milestone: Milestone,
    plan: MilestonePlan,
    shared: MilestoneContext,
    eligible: bool,
    blockers: Sequence[str],
) -> MilestoneOutcome:
    """Each order starts a spell; a spell's step completes when no order followed within the
    step's duration. One decision per step and spell, keyed `<rule>/<step>/<order id>`."""
    outcome = MilestoneOutcome()
    ctx = shared.ctx
    now = shared.timeline.now  # `ctx.now`, possibly in UTC: comparisons with activity are faster
    steps, rules = plan.steps, plan.rules
    orders = shared.timeline.orders
    # Steps the host was granted for spells that an order arriving late cut short (they were
    # complete as the host saw them): they hold the step of the next spell that completes, so
    # the customer is not paid twice for one stretch without orders. By step number.
    carried: dict[int, list[str]] = {}
    for index, order in enumerate(orders):
        following = orders[index + 1].at if index + 1 < len(orders) else None
        for step in steps:
            assert isinstance(step.target, Duration)
            key = f"{milestone.id}/{step.number}/{key_part(order.id)}"
            if (
                following is not None
                and step.shortest is not None
                and following - order.at < step.shortest
            ):
                # The next order surely came within the step's duration.
                if key in shared.granted:
                    _carry(carried, outcome, milestone, step, key, order.id, order.at, shared)
                continue
            completes = _shift(order.at, step.target, ctx)
            if following is not None and following <= completes:
                if key in shared.granted:
                    _carry(carried, outcome, milestone, step, key, order.id, order.at, shared)
                continue
            if completes > now or not rules.in_window(completes):
                continue
            # The spell that ends a chain of cut-short ones is the one the host paid for,
            # unless it was paid under its own key too (then both stand: both were paid).
            chain = carried.pop(step.number, None)
            held = chain[0] if chain and eligible and key not in shared.granted else None
            decided = eligible and key not in shared.granted and held is None
            if eligible and held is None:
                decision = make_decision(key, milestone.id, step, completes, order.id)
                outcome.awards.append((decision, completes))
                if decided:
                    outcome.decisions.append(decision)
            if shared.explain:
                outcome.explanations.append(
                    _explain_spell(
                        milestone, step, order.id, order.at, key, decided, blockers, shared, held
                    )
                )
    outcome.progress = _inactivity_progress(milestone, steps, shared)
    if shared.explain and not outcome.explanations:
        progress = outcome.progress
        reason = (
            "the customer has not ordered yet, so no spell of inactivity has started"
            if not orders
            else f"{progress.current} of {count(progress.target, 'day')} without an order"
        )
        outcome.explanations.append(
            Explanation(milestone.id, progress.step, "in_progress", (reason, *blockers))
        )
    return outcome


def _carry(
    carried: dict[int, list[str]],
    outcome: MilestoneOutcome,
    milestone: Milestone,
    step: PlannedStep,
    key: str,
    order_id: str,
    order_at: datetime,
    shared: MilestoneContext,
) -> None:
    """The host was granted `key` for a spell an order that arrived late has cut short: its
    points count where the host paid them (the spell's end as the host saw it), and it holds
    the step of the next spell that completes."""
    assert isinstance(step.target, Duration)
    completes = _shift(order_at, step.target, shared.ctx)
    if completes <= shared.ctx.now:
        decision = make_decision(key, milestone.id, step, completes, order_id)
        outcome.awards.append((decision, completes))
    carried.setdefault(step.number, []).append(key)


def _explain_spell(
    milestone: Milestone,
    step: PlannedStep,
    order_id: str,
    order_at: datetime,
    key: str,
    decided: bool,
    blockers: Sequence[str],
    shared: MilestoneContext,
    held: str | None = None,
) -> Explanation:
    """Why a completed spell of inactivity was or was not decided (`held`: the granted key
    of a spell cut short by an order that arrived late, which stands for this one)."""
    if held is not None:
        return Explanation(
            milestone.id,
            step.number,
            "already_granted",
            (
                f"no order for {step.target} after order {order_id}",
                f"already granted as `{held}` (in the snapshot's `granted`), for a spell "
                "that an order arriving later cut short",
            ),
        )
    if key in shared.granted:
        return Explanation(
            milestone.id,
            step.number,
            "already_granted",
            (
                f"no order for {step.target} after order {order_id}",
                f"already granted (`{key}` is in the snapshot's `granted`)",
            ),
        )
    if not decided:
        return Explanation(milestone.id, step.number, "not_eligible", tuple(blockers))
    return Explanation(
        milestone.id,
        step.number,
        "granted",
        (f"no order for {step.target} after order {order_id} ({day(order_at, shared.ctx.tz)})",),
    )


def _shift(moment: datetime, duration: Duration, ctx: EvalContext) -> datetime:
    shifted = shift(moment, duration, 1, ctx)
    assert isinstance(shifted, datetime)
    return shifted


def _inactivity_progress(
    milestone: Milestone, steps: Sequence[PlannedStep], shared: MilestoneContext
) -> Progress:
    ctx = shared.ctx
    orders = shared.timeline.orders
    last = orders[-1] if orders else None
    for step in steps:
        assert isinstance(step.target, Duration)
        if last is None:
            return Progress(
                milestone.id,
                step.number,
                len(steps),
                "inactivity",
                0,
                0,
                _days(ctx.now, step.target, ctx),
                False,
                step.description,
                None,
            )
        completes = _shift(last.at, step.target, ctx)
        target_days = _days(last.at, step.target, ctx)
        current = (ctx.local_date(ctx.now) - ctx.local_date(last.at)).days
        if completes > ctx.now:
            left = target_days - current
            return Progress(
                milestone.id,
                step.number,
                len(steps),
                "inactivity",
                current,
                0,
                target_days,
                False,
                step.description,
                count(left, "more day", "more days") + " without an order",
            )
    final = steps[-1]
    assert isinstance(final.target, Duration) and last is not None
    target_days = _days(last.at, final.target, ctx)
    current = (ctx.local_date(ctx.now) - ctx.local_date(last.at)).days
    return Progress(
        milestone.id,
        final.number,
        len(steps),
        "inactivity",
        current,
        0,
        target_days,
        True,
        final.description,
        None,
    )


def _days(moment: datetime, duration: Duration, ctx: EvalContext) -> int:
    """The step's length in local days from `moment`, as the customer counts them: on the
    wall clock (`30d` is 30 days though it completes 720 hours later, 23:30 the day before
    when the clocks went back an hour)."""
    local = moment.astimezone(ctx.tz).replace(tzinfo=None)
    moved = local
    if duration.months:
        moved = datetime.combine(add_months(local.date(), duration.months), local.time())
    moved += timedelta(seconds=duration.seconds)
    return (moved.date() - local.date()).days
