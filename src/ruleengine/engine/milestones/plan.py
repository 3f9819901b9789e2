"""What a milestone needs from the ruleset alone, worked out once per `Engine` (`MilestonePlan`),
and the shapes one evaluation shares: the context, the outcome, decisions and their rewards.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

import msgspec

from ruleengine.engine.decisions import Decision, Explanation, Progress, RewardGrant
from ruleengine.engine.milestones.ledgers import CountingRules, Number, OwnPoint, counting_rules
from ruleengine.engine.timeline import Timeline
from ruleengine.expr.runtime import EvalContext
from ruleengine.expr.values import Duration
from ruleengine.rules.models import Milestone, MilestoneType, RewardLogic, RewardSpec, Step


class MilestoneContext(msgspec.Struct, frozen=True):
    """What every milestone of one evaluation shares."""

    timeline: Timeline
    ctx: EvalContext
    granted: frozenset[str]
    excluded: bool
    currency: str
    explain: bool = True  # build explanations (only when the caller asked for them)
    # Points the ruleset itself granted before this milestone, in time order: what
    # `points_earned` counts besides `points_earned` activity.
    own_points: tuple[OwnPoint, ...] = ()


class MilestoneOutcome(msgspec.Struct):
    decisions: list[Decision] = msgspec.field(default_factory=list)
    # Every decided step, those already in `granted` too, with the moment it was decided:
    # its points become active then (the points ledger).
    awards: list[tuple[Decision, datetime]] = msgspec.field(default_factory=list)
    progress: Progress | None = None
    explanations: list[Explanation] = msgspec.field(default_factory=list)


def rewards_of(spec: RewardSpec) -> tuple[RewardGrant, ...]:
    grants = []
    for reward in spec.rewards:
        kind = reward.type
        if reward.free_gift is not None:
            grants.append(RewardGrant(kind, product=reward.free_gift.product))
        elif reward.free_shipping:
            grants.append(RewardGrant(kind))
        else:
            grants.append(RewardGrant(kind, value=getattr(reward, kind)))
    return tuple(grants)


def make_decision(
    key: str, rule: str, step: PlannedStep, achieved_at: datetime, qualifying: str | None
) -> Decision:
    return Decision(
        key=key,
        rule=rule,
        step=step.number,
        logic=step.logic,
        pick=step.pick,
        rewards=step.rewards,
        achieved_at=achieved_at,
        qualifying=qualifying,
    )


class PlannedStep(msgspec.Struct, frozen=True):
    number: int  # 1-based
    key: str  # `<rule>/<step>`: the decision key (inactivity adds the order id)
    metric: MilestoneType
    target: Number | Duration
    description: str | None
    shortest: timedelta | None  # inactivity: less than any span its target can be (see below)
    # What a decision for the step grants (the grants are immutable, so decisions share them).
    logic: str
    pick: int | None  # with `customer_picks` only
    rewards: tuple[RewardGrant, ...]


def planned_steps(milestone: Milestone) -> list[PlannedStep]:
    """A milestone's steps, normalised: a single target and reward is one step."""
    if milestone.steps is None:
        assert milestone.target is not None and milestone.reward is not None
        target = _target(milestone.type, milestone.target)
        return [_plan_step(milestone, 1, milestone.type, target, milestone.reward, None)]
    return [
        _plan_step(
            milestone,
            index + 1,
            step.type or milestone.type,
            _target(step.type or milestone.type, step.target),
            step.reward,
            step,
        )
        for index, step in enumerate(milestone.steps)
    ]


def _plan_step(
    milestone: Milestone,
    number: int,
    metric: MilestoneType,
    target: Number | Duration,
    spec: RewardSpec,
    step: Step | None,  # None for a milestone with a single target and reward
) -> PlannedStep:
    picks = spec.logic is RewardLogic.CUSTOMER_PICKS
    return PlannedStep(
        number=number,
        key=f"{milestone.id}/{number}",
        metric=metric,
        target=target,
        description=milestone.description if step is None else _describe(step),
        shortest=_shortest_span(target) if isinstance(target, Duration) else None,
        logic=spec.logic.value,
        pick=spec.pick if picks else None,
        rewards=rewards_of(spec),
    )


def _describe(step: Step) -> str | None:
    return step.description or step.name


def _target(metric: MilestoneType, target: int | Decimal | str) -> Number | Duration:
    if metric is MilestoneType.INACTIVITY:
        assert isinstance(target, str)
        return Duration.parse(target)
    if metric is MilestoneType.AMOUNT_SPENT:
        return Decimal(target)
    assert isinstance(target, int)
    return target


class MilestonePlan(msgspec.Struct, frozen=True):
    """What evaluating a milestone needs from the ruleset alone: its steps and what counts."""

    zone: tzinfo
    steps: tuple[PlannedStep, ...]
    rules: CountingRules


def milestone_plan(milestone: Milestone, zone: tzinfo) -> MilestonePlan:
    """The milestone's plan in `zone`. The engine works it out once, when it is built, and
    passes it to every evaluation."""
    return MilestonePlan(zone, tuple(planned_steps(milestone)), counting_rules(milestone, zone))


def _shortest_span(duration: Duration) -> timedelta | None:
    """Less than the time from any moment to that moment plus calendar `duration`, whatever
    the moment and zone: so an order that follows sooner than this surely falls within the
    duration, and the (slow) calendar shift need not be computed. None for exact durations,
    which are cheap to shift.

    Shifting moves the local day by whole months, clamped to the month's end: at least 28 days
    a month, less at most 3 days of clamping (31 -> 28). It keeps the local time of day and adds
    the seconds to the local time too; the zone's UTC offset (always within 24 hours either way)
    can change in between, by less than 48 hours."""
    if not duration.months:
        return None
    return timedelta(days=28 * duration.months - 3, seconds=duration.seconds) - timedelta(hours=48)
