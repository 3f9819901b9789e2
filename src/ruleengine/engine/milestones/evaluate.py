"""Deciding one milestone for one customer: each step's state, decision, progress and
explanation (inactivity milestones are handed to `inactivity`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ruleengine.engine.decisions import Progress
from ruleengine.engine.milestones.inactivity import evaluate_inactivity
from ruleengine.engine.milestones.ledgers import ActivityKey, Ledger, build_ledger
from ruleengine.engine.milestones.plan import (
    MilestoneContext,
    MilestoneOutcome,
    MilestonePlan,
    PlannedStep,
    make_decision,
)
from ruleengine.engine.milestones.steps import StepState, step_state, zero_of
from ruleengine.engine.milestones.wording import explain_step, remaining_text
from ruleengine.expr.values import Duration
from ruleengine.rules.models import Milestone, MilestoneType


def evaluate_milestone(
    milestone: Milestone,
    plan: MilestonePlan,
    shared: MilestoneContext,
    eligible: bool,
    blockers: Sequence[str],
) -> MilestoneOutcome:
    """Decide and explain one milestone. `eligible` is False when the customer is excluded or
    the rule's condition does not hold; `blockers` says why, for the explanations. `plan` is
    `milestone_plan(milestone, zone)`."""
    if milestone.type is MilestoneType.INACTIVITY:
        return evaluate_inactivity(milestone, plan, shared, eligible, blockers)
    steps, rules = plan.steps, plan.rules
    now = shared.timeline.now  # `ctx.now`, possibly in UTC: comparisons with activity are faster
    mixed = milestone.type is MilestoneType.MIXED
    ledgers: dict[MilestoneType, Ledger] = {}
    outcome = MilestoneOutcome()
    after: ActivityKey | None = None
    decided_until: datetime | None = None  # every earlier step confirmed by this moment
    blocked = False  # an earlier step of a journey is not achieved yet
    for step in steps:
        assert not isinstance(step.target, Duration)
        notes: Sequence[str] = ()  # why some activity did not count, for the explanation
        if blocked:  # nothing counts for it yet, so its metric need not be read
            zero = zero_of(step.target)
            state = StepState(None, None, None, zero, zero)
        else:
            ledger = ledgers.get(step.metric)
            if ledger is None:
                ledger = ledgers[step.metric] = build_ledger(
                    step.metric,
                    shared.timeline,
                    rules,
                    shared.currency,
                    shared.explain,
                    shared.own_points,
                )
            grouped = step.metric is MilestoneType.SUBSCRIPTION_CYCLES
            state = step_state(ledger, after, step.target, now, grouped)
            notes = ledger.notes_after(after) if shared.explain else ()
        # A step is decided once it and every step before it have passed their refund holds.
        if step.number == 1:
            confirm = state.confirm_at
        elif decided_until is None or state.confirm_at is None:
            confirm = None
        else:
            confirm = max(decided_until, state.confirm_at)
        is_decided = state.achieved is not None and confirm is not None and confirm <= now
        if shared.explain:
            explanation = explain_step(
                milestone,
                step,
                state,
                is_decided,
                shared,
                eligible,
                blockers,
                notes,
                blocked,
                rules,
                confirm,
            )
            outcome.explanations.append(explanation)
        if is_decided and eligible:
            assert state.achieved is not None and confirm is not None
            decision = make_decision(
                step.key, milestone.id, step, state.achieved[0], state.qualifying
            )
            outcome.awards.append((decision, max(confirm, state.achieved[0])))
            if step.key not in shared.granted:
                outcome.decisions.append(decision)
        if outcome.progress is None and not is_decided:
            outcome.progress = _progress(milestone, step, len(steps), state, shared)
        if state.achieved is None:
            blocked = blocked or mixed
        elif mixed:
            after = state.achieved
        decided_until = confirm
    if outcome.progress is None:  # every step decided: report the last one as completed
        last = steps[-1]
        assert not isinstance(last.target, Duration)
        outcome.progress = Progress(
            milestone.id,
            last.number,
            len(steps),
            last.metric.value,
            last.target,
            zero_of(last.target),
            last.target,
            True,
            last.description,
            None,
        )
    return outcome


def _progress(
    milestone: Milestone,
    step: PlannedStep,
    steps: int,
    state: StepState,
    shared: MilestoneContext,
) -> Progress:
    assert not isinstance(step.target, Duration)
    remaining_amount = step.target - state.current - state.pending
    remaining = (
        remaining_text(step.metric, remaining_amount, shared.currency)
        if remaining_amount > 0
        else None
    )
    return Progress(
        milestone.id,
        step.number,
        steps,
        step.metric.value,
        state.current,
        state.pending,
        step.target,
        False,
        step.description,
        remaining,
    )
