"""How milestone explanations and progress word targets, amounts and what remains."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from ruleengine.engine.decisions import Explanation
from ruleengine.engine.milestones.ledgers import CountingRules, Number
from ruleengine.engine.milestones.plan import MilestoneContext, PlannedStep
from ruleengine.engine.milestones.steps import StepState
from ruleengine.engine.wording import count, day, money
from ruleengine.expr.values import Duration
from ruleengine.rules.models import Milestone, MilestoneType

_NOUNS: dict[MilestoneType, tuple[str, str]] = {
    MilestoneType.ORDERS_COUNT: ("order", "orders"),
    MilestoneType.REVIEWS_COUNT: ("review", "reviews"),
    MilestoneType.REFERRALS_COUNT: ("referral", "referrals"),
    MilestoneType.SUBSCRIPTION_CYCLES: ("billing cycle", "billing cycles"),
    MilestoneType.POINTS_EARNED: ("point", "points"),
}


def remaining_text(metric: MilestoneType, amount: Number, currency: str) -> str:
    """What is left, in words a support agent can paste: "2 more reviews", "spend $37.50 more"."""
    if metric is MilestoneType.AMOUNT_SPENT:
        return f"spend {money(Decimal(amount), currency)} more"
    singular, plural = _NOUNS[metric]
    text = count(amount, f"more {singular}", f"more {plural}")
    if metric is MilestoneType.POINTS_EARNED:
        return f"earn {text}"
    if metric is MilestoneType.REFERRALS_COUNT:  # only friends who buy count
        return text + (" (a friend who buys)" if amount == 1 else " (friends who buy)")
    return text


def explain_step(
    milestone: Milestone,
    step: PlannedStep,
    state: StepState,
    is_decided: bool,
    shared: MilestoneContext,
    eligible: bool,
    blockers: Sequence[str],
    notes: Sequence[str],
    blocked: bool,
    rules: CountingRules,
    confirm: datetime | None,
) -> Explanation:
    zone = shared.ctx.tz
    key = step.key
    reasons: list[str] = []
    target_text = _target_text(step, shared.currency)
    if state.achieved is not None:
        reasons.append(
            f"reached {target_text} on {day(state.achieved[0], zone)} ({state.qualifying})"
        )
    if is_decided:
        if key in shared.granted:
            status = "already_granted"
            reasons.append(f"already granted (`{key}` is in the snapshot's `granted`)")
        elif not eligible:
            status = "not_eligible"
            reasons.extend(blockers)
        else:
            status = "granted"
    elif state.achieved is not None:
        status = "pending"
        if confirm is not None:
            reasons.append(f"waiting for the refund hold to end on {day(confirm, zone)}")
    elif blocked:
        status = "waiting"
        reasons.append("waiting for the previous step of the journey")
    else:
        status = "in_progress"
        assert not isinstance(step.target, Duration)
        progress_text = (
            f"{money(Decimal(state.current), shared.currency)} of {target_text}"
            if step.metric is MilestoneType.AMOUNT_SPENT
            else f"{state.current} of {target_text}"
        )
        if state.pending:
            progress_text += (
                f", {_amount_text(step, state.pending, shared.currency)} within the refund hold"
            )
        reasons.append(progress_text)
        left = step.target - state.current - state.pending
        if left > 0:
            reasons.append(remaining_text(step.metric, left, shared.currency))
        if not eligible:
            reasons.extend(blockers)
    if status in ("in_progress", "pending"):
        reasons.extend(notes)  # why some activity did not count

    if rules.start is not None and shared.ctx.now < rules.start:
        reasons.append(f"the program starts on {day(rules.start, zone)}")
    return Explanation(milestone.id, step.number, status, tuple(reasons))


def _target_text(step: PlannedStep, currency: str) -> str:
    assert not isinstance(step.target, Duration)
    return _amount_text(step, step.target, currency)


def _amount_text(step: PlannedStep, amount: Number, currency: str) -> str:
    if step.metric is MilestoneType.AMOUNT_SPENT:
        return f"{money(Decimal(amount), currency)} spent"
    singular, plural = _NOUNS[step.metric]
    return count(amount, singular, plural)
