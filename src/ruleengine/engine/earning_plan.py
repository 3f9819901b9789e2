"""What earning needs from the ruleset alone, worked out once per `Engine`: each enabled rule
in ready form (`PreparedRule`: its bound expressions and what they read, window, channels,
stacking), grouped by trigger (`EarningPlan`), and the shapes a run reports (`Hit`,
`EarningOutcome`). The run itself is `earning.EarningEvaluator`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from operator import attrgetter
from typing import Any

import msgspec

from ruleengine.engine.activity import Order, optional_utc
from ruleengine.engine.decisions import Decision, Explanation
from ruleengine.engine.timeline import (
    window_bounds,
)
from ruleengine.expr.program import context_free, roots_of
from ruleengine.expr.runtime import EvaluationError
from ruleengine.rules.models import EarningRule, Limit, LimitPeriod, Stacking
from ruleengine.rules.ruleset import CompiledExpression, RuleSet
from ruleengine.rules.vocabulary import activity_name


class Hit(msgspec.Struct, frozen=True):
    """A birthday occasion for a rule (`birthday_hits`), with what the rule sees of it."""

    activity_id: str
    key: str  # the decision key's suffix: the activity id, or the birthday's year
    at: datetime
    kind: str  # activity type, for the total order of occasions
    record: dict[str, Any]  # the activity as the rule's expressions see it
    order: Order | None = None
    blocked: str | None = None  # why this occasion cannot earn (birthday set too recently)


class EarningOutcome(msgspec.Struct):
    decisions: list[Decision] = msgspec.field(default_factory=list)
    explanations: list[Explanation] = msgspec.field(default_factory=list)
    # Every points decision, those already in `granted` too: what the points ledger counts.
    awards: list[Decision] = msgspec.field(default_factory=list)


Report = Callable[[CompiledExpression, str, EvaluationError], None]


Bound = Callable[[dict[str, Any]], Any]  # an expression bound to a context: variables -> value


# Triggers a customer fires once in a normal life: their rules earn once per customer unless
# the rule says otherwise with its own `limit`.
ONCE_PER_CUSTOMER = frozenset(("signup", "newsletter_signup"))


_ONCE = Limit(times=1, per=LimitPeriod.LIFETIME)


class PreparedRule:
    """An enabled earning rule in ready form, made once per `Engine`: its expressions and what
    they read, its window (in UTC, as activity timestamps are), channels and stacking."""

    __slots__ = (
        "best",
        "channels",
        "condition",
        "contextual",
        "formula",
        "id",
        "index",
        "limit",
        "once_by_default",
        "pending_days",
        "reads_stats",
        "restricted",
        "rule",
        "steps",
        "window",
    )
    index: int  # its position in the file (ties between `stacking: best` rules)
    rule: EarningRule
    id: str
    condition: CompiledExpression | None
    formula: CompiledExpression
    # The condition (if any) and the formula, each with its function when it reads no context
    # (None: bound to each activity's moment, as a rule reading the clock is).
    steps: tuple[tuple[CompiledExpression, Bound | None], ...]
    reads_stats: bool
    contextual: bool  # some step must be bound to each activity's moment
    window: tuple[datetime | None, datetime | None]
    channels: frozenset[str] | None
    limit: Limit | None  # the rule's own, or the once-per-customer default
    once_by_default: bool  # `limit` is the default of a signup rule, not the merchant's
    restricted: bool  # has a window, channels or a limit to check on each occasion
    best: bool  # `stacking: best`
    pending_days: int  # 0: granted at once

    def __init__(
        self,
        index: int,
        rule: EarningRule,
        condition: CompiledExpression | None,
        formula: CompiledExpression,
        zone: tzinfo,
    ) -> None:
        self.index = index
        self.rule = rule
        self.id = rule.id
        self.condition = condition
        self.formula = formula
        steps: list[tuple[CompiledExpression, Bound | None]] = []
        reads_stats = False
        for expression in (formula,) if condition is None else (condition, formula):
            roots = roots_of(expression.evaluate)  # None: a wrapper the engine cannot see into
            reads_stats = reads_stats or roots is None or "stats" in roots
            steps.append((expression, context_free(expression.evaluate)))
        self.steps = tuple(steps)
        self.reads_stats = reads_stats
        self.contextual = any(function is None for _, function in steps)
        start, end = window_bounds(rule.active, zone)
        self.window = (optional_utc(start), optional_utc(end))
        self.channels = None if rule.channels is None else frozenset(rule.channels)
        # Signing up is something a customer does once: without a `limit` of their own, these
        # rules earn once per customer (a second signup event or a re-subscription earns
        # nothing). A `limit` the merchant writes replaces this default.
        self.once_by_default = rule.limit is None and rule.on in ONCE_PER_CUSTOMER
        self.limit = _ONCE if self.once_by_default else rule.limit
        self.restricted = (
            rule.active is not None or self.channels is not None or self.limit is not None
        )
        self.best = rule.stacking is Stacking.BEST
        self.pending_days = rule.pending_days or 0


class RuleGroup(msgspec.Struct, eq=False):
    """The rules decided together on an occasion: the enabled rules on its trigger, in file
    order, each with why it cannot earn there regardless of its checks (a birthday guard)."""

    activity: str  # the name the rules' expressions read the activity under
    entries: tuple[tuple[PreparedRule, str | None], ...]
    reads_stats: bool  # some rule reads `stats` (built once per occasion for all of them)

    @classmethod
    def of(
        cls, trigger: str, rules: list[PreparedRule], blocked: list[str | None] | None = None
    ) -> RuleGroup:
        """The group of `rules` on `trigger`; `blocked` gives each rule's reason, if any."""
        reasons = blocked if blocked is not None else [None] * len(rules)
        return cls(
            activity_name(trigger),
            tuple(zip(rules, reasons, strict=True)),
            any(rule.reads_stats for rule in rules),
        )


class EarningPlan:
    """What earning needs from the ruleset alone, made once per `Engine`: the enabled rules in
    ready form, grouped by the trigger they share (in file order), and the disabled ones."""

    def __init__(self, ruleset: RuleSet, zone: tzinfo) -> None:
        by_trigger: dict[str, list[PreparedRule]] = {}
        disabled: list[str] = []
        expressions = ruleset.expressions
        for index, rule in enumerate(ruleset.model.earning):
            if not rule.enabled:
                disabled.append(rule.id)
                continue
            formula = expressions.get(("earning", index, "points"))
            assert formula is not None
            condition = expressions.get(("earning", index, "when"))
            by_trigger.setdefault(rule.on, []).append(
                PreparedRule(index, rule, condition, formula, zone)
            )
        self.disabled = tuple(disabled)
        # Some rule has a `limit` (its own or the signup default): `granted` keys hold slots.
        self.limited = any(
            rule.limit is not None for rules in by_trigger.values() for rule in rules
        )
        on_order = by_trigger.pop("order", [])
        on_subscription = by_trigger.pop("subscription_order", [])
        self.birthday_rules = tuple(by_trigger.pop("birthday", []))
        # An order with a `subscription_id` fires `subscription_order` rules as well as `order`.
        self.one_off = _group("order", on_order)
        renewal = sorted(on_order + on_subscription, key=attrgetter("index"))
        self.renewal = _group("order", renewal)
        self.reviews = _group("review", by_trigger.pop("review", []))
        self.events = {
            trigger: RuleGroup.of(trigger, rules) for trigger, rules in by_trigger.items()
        }


def _group(trigger: str, rules: list[PreparedRule]) -> RuleGroup | None:
    return RuleGroup.of(trigger, rules) if rules else None
