"""Ruleset semantics, part two: the milestone checks (RE5xx) and the base they share.

`MilestoneChecks` holds what every semantic check needs (`report` at a path's span, `line_of`)
and the checks of milestones, their steps, targets and rewards, and of active windows;
`semantics._Semantics` builds the ruleset-wide checks on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal

from ruleengine.diagnostics.diagnostic import DiagnosticSink, PathPart
from ruleengine.expr.values import Duration
from ruleengine.rules.currencies import decimal_places, places_of
from ruleengine.rules.models import (
    Milestone,
    MilestoneType,
    Reward,
    RewardLogic,
    RewardSpec,
    Window,
)
from ruleengine.rules.structure_hints import number_text_hint, whole_number_hint
from ruleengine.rules.yaml_nodes import LocatedMapping, LocatedScalar, find_node, span_of

_ORDER_TYPES = {MilestoneType.ORDERS_COUNT, MilestoneType.AMOUNT_SPENT}
_STEP_TYPES_OF_MIXED = set(MilestoneType) - {MilestoneType.MIXED, MilestoneType.INACTIVITY}


# Rounding a reward for a hint: as many digits as it has (amounts have at most 60).
_EXACT = Context(prec=100, rounding=ROUND_HALF_UP)


class MilestoneChecks:
    def __init__(
        self,
        root: LocatedMapping,
        sink: DiagnosticSink,
        today: date | None,
        currency: str = "USD",
    ) -> None:
        self.root = root
        self.sink = sink
        self.today = today
        self.currency = currency

    def report(
        self,
        path: Sequence[PathPart],
        code: str,
        message: str,
        hint: str | None = None,
        *,
        key: bool = False,
    ) -> None:
        self.sink.report(span_of(self.root, path, key=key), code, message, hint=hint, path=path)

    def line_of(self, path: Sequence[PathPart]) -> int:
        return self.sink.source.location(span_of(self.root, path).start).line

    def check_window(self, window: Window | None, path: tuple[PathPart, ...]) -> None:
        if window is None:
            return
        if window.from_ is not None and window.until is not None and window.until < window.from_:
            self.report(
                (*path, "until"),
                "RE503",
                f"`until` ({window.until}) is before `from` ({window.from_})",
                "swap the dates",
            )
        elif window.until is not None and self.today is not None and window.until < self.today:
            self.report(
                (*path, "until"),
                "RE510",
                f"the active window ended on {window.until}; this rule no longer applies",
                "remove the rule, or move its window",
            )

    def check_milestone(self, milestone: Milestone, path: tuple[PathPart, ...]) -> None:
        self.check_window(milestone.active, (*path, "active"))
        kind = milestone.type
        if kind is MilestoneType.MIXED:
            if milestone.steps is None:
                self.report(
                    (*path, "type"),
                    "RE507",
                    "a `mixed` milestone needs `steps`",
                    "list the journey's steps, each with its own `type`",
                )
            for key in ("target", "reward"):
                if getattr(milestone, key) is not None:
                    self.report(
                        (*path, key),
                        "RE507",
                        f"a `mixed` milestone has no `{key}` of its own",
                        f"move `{key}` into a step",
                        key=True,
                    )
        elif milestone.steps is None:
            if milestone.target is None:
                self.report(
                    (*path, "type"),
                    "RE507",
                    "the milestone needs a `target`",
                    "or list several thresholds under `steps`",
                )
            elif milestone.reward is None:
                self.report(
                    (*path, "target"),
                    "RE507",
                    "the milestone needs a `reward`",
                    "add what reaching the target grants, such as "
                    "`reward: {rewards: [{points: 100}]}`",
                    key=True,
                )
            else:
                self.check_target(kind, milestone.target, (*path, "target"))
            if milestone.reward is not None:
                self.check_reward(milestone.reward, (*path, "reward"))
        else:
            for key in ("target", "reward"):
                if getattr(milestone, key) is not None:
                    self.report(
                        (*path, key),
                        "RE507",
                        f"the milestone has both `steps` and a `{key}` of its own",
                        f"move `{key}` into the steps",
                        key=True,
                    )
        if milestone.steps is not None:
            self.check_steps(milestone, path)
        if milestone.order_requirements is not None:
            kinds = {step.type or kind for step in milestone.steps or []} | {kind}
            if not kinds & _ORDER_TYPES:
                self.report(
                    (*path, "order_requirements"),
                    "RE511",
                    "`order_requirements` have no effect: the milestone counts no orders",
                    "remove `order_requirements`; they apply to `orders_count` and "
                    "`amount_spent` milestones",
                    key=True,
                )

    def check_steps(self, milestone: Milestone, path: tuple[PathPart, ...]) -> None:
        assert milestone.steps is not None
        previous: Decimal | Duration | None = None
        for index, step in enumerate(milestone.steps):
            step_path = (*path, "steps", index)
            if milestone.type is MilestoneType.MIXED:
                if step.type is None:
                    self.report(
                        step_path,
                        "RE505",
                        "each step of a `mixed` milestone needs a `type`",
                        "for example `type: orders_count`",
                    )
                    continue
                if step.type not in _STEP_TYPES_OF_MIXED:
                    self.report(
                        (*step_path, "type"),
                        "RE505",
                        f"a `mixed` journey cannot have {_a(step.type)} step",
                        "step types: " + ", ".join(f"`{t}`" for t in sorted(_STEP_TYPES_OF_MIXED)),
                    )
                    continue
                step_kind = step.type
            else:
                if step.type is not None and step.type != milestone.type:
                    self.report(
                        (*step_path, "type"),
                        "RE505",
                        f"a step of {_a(milestone.type)} milestone cannot be `{step.type}`",
                        "make the milestone `type: mixed` to combine step types",
                    )
                    continue
                step_kind = milestone.type
            value = self.check_target(step_kind, step.target, (*step_path, "target"))
            self.check_reward(step.reward, (*step_path, "reward"))
            if milestone.type is MilestoneType.MIXED or value is None:
                continue
            if previous is not None and _not_above(value, previous):
                self.report(
                    (*step_path, "target"),
                    "RE506",
                    f"step {index + 1}'s target {_show(value)} is not above step "
                    f"{index}'s {_show(previous)}",
                    "steps are thresholds on one running total; order them by target",
                )
            elif previous is not None and _not_certainly_above(value, previous):
                self.report(
                    (*step_path, "target"),
                    "RE506",
                    f"step {index + 1}'s target {_show(value)} is not certainly above step "
                    f"{index}'s {_show(previous)}",
                    "a month is 28 to 31 days and a year 365 or 366: give the steps targets "
                    "in the same kind of unit (days and weeks, or months and years)",
                )
            previous = value

    def check_target(
        self, kind: MilestoneType, target: int | Decimal | str, path: tuple[PathPart, ...]
    ) -> Decimal | Duration | None:
        """Check a target against its milestone type; returns it as a comparable value."""
        if kind is MilestoneType.INACTIVITY:
            if not isinstance(target, str):
                self.report(
                    path, "RE509", "an `inactivity` target is a duration", _days_hint(target)
                )
                return None
            try:
                duration = Duration.parse(target)
            except ValueError:
                self.report(
                    path,
                    "RE210",
                    f"`{target}` is not a duration",
                    "write a whole number and a unit: `90d`, `12w`, `3mo`, `1y`",
                )
                return None
            if duration.months <= 0 and duration.seconds <= 0:
                self.report(
                    path,
                    "RE504",
                    "the target must be longer than zero",
                    "write how long a customer must be inactive, such as `90d`",
                )
                return None
            return duration
        if isinstance(target, str):
            node = find_node(self.root, path)
            quoted = not isinstance(node, LocatedScalar) or node.style is not None
            number_hint = number_text_hint(target, quoted=quoted)
            if number_hint is not None:
                self.report(
                    path,
                    "RE509",
                    f"{_a(kind)} target is a number, not the text `{target}`",
                    number_hint,
                )
            else:
                example = "100" if kind is MilestoneType.AMOUNT_SPENT else "5"
                self.report(
                    path,
                    "RE509",
                    f"{_a(kind)} target is a number, not `{target}`",
                    f"durations are targets of `inactivity` milestones; write a number such as "
                    f"`{example}`"
                    if _is_duration(target)
                    else f"write the target in digits, such as `{example}`",
                )
            return None
        if kind is not MilestoneType.AMOUNT_SPENT and not isinstance(target, int):
            node = find_node(self.root, path)
            written = node.text if isinstance(node, LocatedScalar) else str(target)
            self.report(
                path,
                "RE509",
                f"{_a(kind)} target is a whole number, not `{written}`",
                whole_number_hint(target)
                if target == target.to_integral_value()
                else _round_hint(target),
            )
            return None
        if target <= 0:
            self.report(
                path,
                "RE504",
                f"the target must be positive, not {target}",
                "use a target above 0",
            )
            return None
        return Decimal(target)

    def check_amounts(self, reward: Reward, path: tuple[PathPart, ...]) -> None:
        """RE525: a money reward in no more decimals than the ruleset's currency has."""
        places = decimal_places(self.currency)
        for key in ("store_credit", "discount_amount"):
            amount: Decimal | None = getattr(reward, key)
            if amount is None or places is None or places_of(amount) <= places:
                continue
            unit = f"{places} decimal{'s' if places != 1 else ''}" if places else "no decimals"
            unit_amount = Decimal(1).scaleb(-places)
            rounded = max(amount.quantize(unit_amount, context=_EXACT), unit_amount)
            self.report(
                (*path, key),
                "RE525",
                f"`{key}` is {amount}, finer than {self.currency} has: its amounts have {unit}",
                f"write `{rounded}` or another amount the shop can issue",
            )

    def check_reward(self, spec: RewardSpec, path: tuple[PathPart, ...]) -> None:
        for index, reward in enumerate(spec.rewards):
            self.check_amounts(reward, (*path, "rewards", index))
        offered = len(spec.rewards)
        if spec.logic is RewardLogic.CUSTOMER_PICKS:
            if spec.pick is None:
                self.report(
                    (*path, "logic"),
                    "RE502",
                    "`customer_picks` needs `pick`",
                    f"add `pick: 1` (up to {offered})"
                    if offered > 1
                    else "add `pick: 1`; with one reward there is nothing to choose, so "
                    "`logic: grant_all` (the default) is simpler",
                )
            elif not 1 <= spec.pick <= offered:
                self.report(
                    (*path, "pick"),
                    "RE502",
                    f"`pick` is {spec.pick}, but {offered} reward"
                    f"{'s are' if offered != 1 else ' is'} offered",
                    f"`pick` must be between 1 and {offered}"
                    if offered > 1
                    else "with one reward, `pick` can only be 1; offer more rewards to choose from",
                )
        elif spec.pick is not None:
            self.report(
                (*path, "pick"),
                "RE502",
                "`pick` only applies to `logic: customer_picks`",
                "remove `pick`, or set the logic",
                key=True,
            )


def _not_above(value: Decimal | Duration, previous: Decimal | Duration) -> bool:
    """Whether a step's target fails to exceed the one before (targets of one milestone are
    all numbers or all durations)."""
    if isinstance(value, Duration) and isinstance(previous, Duration):
        if value.is_calendar != previous.is_calendar:
            return False  # months against days: `_not_certainly_above` decides
        return (value.months, value.seconds) <= (previous.months, previous.seconds)
    if isinstance(value, Decimal) and isinstance(previous, Decimal):
        return value <= previous
    return False


def _not_certainly_above(value: Decimal | Duration, previous: Decimal | Duration) -> bool:
    """Whether a duration step may fail to exceed the one before, for a calendar duration
    after an exact one or the other way round: a month is 28 to 31 days, a year 365 or 366,
    so `1mo` after `30d` may be shorter. Durations of one kind compare exactly (`_not_above`)."""
    if not (isinstance(value, Duration) and isinstance(previous, Duration)):
        return False
    if value.is_calendar == previous.is_calendar:
        return False
    return _shortest_seconds(value) <= _longest_seconds(previous)


_DAY = 86400


def _shortest_seconds(duration: Duration) -> int:
    years, months = divmod(duration.months, 12)
    return (years * 365 + months * 28) * _DAY + duration.seconds


def _longest_seconds(duration: Duration) -> int:
    years, months = divmod(duration.months, 12)
    return (years * 366 + months * 31) * _DAY + duration.seconds


def _show(value: Decimal | Duration) -> str:
    return str(value)


def _a(kind: str) -> str:
    """ "a `reviews_count`", "an `orders_count`": the article goes with the type's name."""
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} `{kind}`"


def _is_duration(text: str) -> bool:
    try:
        Duration.parse(text)
    except ValueError:
        return False
    return True


def _days_hint(target: int | Decimal) -> str:
    """How to write a number as a duration: `30d` for 30, `60h` for 2.5 (days)."""
    if isinstance(target, int) and target > 0:
        return f"write `{target}d` for {target} days"
    if target > 0:
        hours = Decimal(target) * 24
        if hours == hours.to_integral_value():
            return (
                f"durations are a whole number and a unit: write `{int(hours)}h` for {target} days"
            )
    return "write a whole number and a unit: `90d`, `12w`, `3mo`, `1y`"


def _round_hint(target: Decimal) -> str:
    """`write `2` or `3`` for a count of 2.5."""
    low = int(target)  # towards zero; targets here are positive
    if low >= 1:
        return f"counts are whole numbers: write `{low}` or `{low + 1}`"
    return "counts are whole numbers, such as `1`"
