"""The behavioural difference between two rulesets, customer by customer.

Decisions are matched by key (`third-order/1`, `order-points/o7`): a key only the new ruleset
decides is *gained*, one only the old decides is *lost*, and one both decide with different
rewards, status or moment is *changed*. Per rule and step the report counts the customers
gaining and losing decisions and the change in points, store credit and discount amount (each
ruleset's totals come from its own `Tally`, so they are the numbers a backtest would show), and
the change in the count of each kind of reward: the rewards without a money value (percentage
discounts, free shipping, gifts) are counted, so moving customers from a `discount_amount` to
a `discount_percentage` shows both sides, fewer amount discounts and more percentage ones,
not a saving.

Examples are the first customers by id with any difference (`EXAMPLES` of them): kept in a
bounded heap while the data streams, so the choice does not depend on the source's order, and
explained at the end (their snapshots are the only ones kept).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ruleengine.backtest.tally import (
    GroupKey,
    RewardKey,
    Tally,
    Totals,
    add_counts,
    group_sort_key,
    money_json,
    reward_json,
    value_of,
)
from ruleengine.engine.decisions import Decision, EvaluationResult, Explanation
from ruleengine.engine.engine import Engine

EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class CustomerDiff:
    """One customer's difference: decision keys gained, lost and changed."""

    customer: str
    gained: tuple[Decision, ...]
    lost: tuple[Decision, ...]
    changed: tuple[tuple[Decision, Decision], ...]  # (old, new)

    @property
    def empty(self) -> bool:
        return not (self.gained or self.lost or self.changed)


def compare(customer: str, old: EvaluationResult, new: EvaluationResult) -> CustomerDiff:
    if old.decisions == new.decisions:  # most customers, for most rule changes
        return CustomerDiff(customer, (), (), ())
    before = {d.key: d for d in old.decisions}
    after = {d.key: d for d in new.decisions}
    gained = tuple(d for d in new.decisions if d.key not in before)
    lost = tuple(d for d in old.decisions if d.key not in after)
    changed = tuple(
        (before[d.key], d)
        for d in new.decisions
        if d.key in before and before[d.key] != d  # dataclass equality: every field
    )
    return CustomerDiff(customer, gained, lost, changed)


@dataclass(slots=True)
class Movement:
    """Decisions gained, lost or changed in one (rule, step), and by how many customers."""

    gained: int = 0
    lost: int = 0
    changed: int = 0
    customers_gaining: int = 0
    customers_losing: int = 0
    customers_changed: int = 0


@dataclass(slots=True)
class _Example:
    customer: str
    data: Mapping[str, Any]
    diff: CustomerDiff

    def __lt__(self, other: _Example) -> bool:  # a max-heap on the id, through negation
        return self.customer > other.customer


@dataclass
class Differ:
    """Both rulesets' tallies, the movements between them, and the example customers."""

    by_month: bool = False
    old: Tally = field(init=False)
    new: Tally = field(init=False)
    movements: dict[GroupKey, Movement] = field(default_factory=dict)
    customers_changed: int = 0
    _examples: list[_Example] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.old = Tally(by_month=self.by_month)
        self.new = Tally(by_month=self.by_month)

    def add(
        self,
        customer: str,
        data: Mapping[str, Any],
        old: EvaluationResult,
        new: EvaluationResult,
    ) -> CustomerDiff:
        self.old.add(old)
        self.new.add(new)
        diff = compare(customer, old, new)
        if diff.empty:
            return diff
        self.customers_changed += 1
        touched: dict[GroupKey, set[str]] = {}
        for kind, decisions in (
            ("gained", diff.gained),
            ("lost", diff.lost),
            ("changed", tuple(n for _, n in diff.changed)),
        ):
            for decision in decisions:
                key = self.old.key(decision)
                movement = self.movements.setdefault(key, Movement())
                setattr(movement, kind, getattr(movement, kind) + 1)
                touched.setdefault(key, set()).add(kind)
        for key, kinds in touched.items():
            movement = self.movements[key]
            movement.customers_gaining += "gained" in kinds
            movement.customers_losing += "lost" in kinds
            movement.customers_changed += "changed" in kinds
        self._keep(_Example(customer, data, diff))
        return diff

    def _keep(self, example: _Example) -> None:
        if len(self._examples) < EXAMPLES:
            heapq.heappush(self._examples, example)
        elif example.customer < self._examples[0].customer:
            heapq.heapreplace(self._examples, example)

    def merge(self, other: Differ) -> None:
        """Add another differ's customers (`--jobs N` compares each chunk in a worker): the
        sums and counts add up, and the examples stay the first customers by id."""
        self.old.merge(other.old)
        self.new.merge(other.new)
        for key, movement in other.movements.items():
            mine = self.movements.setdefault(key, Movement())
            mine.gained += movement.gained
            mine.lost += movement.lost
            mine.changed += movement.changed
            mine.customers_gaining += movement.customers_gaining
            mine.customers_losing += movement.customers_losing
            mine.customers_changed += movement.customers_changed
        self.customers_changed += other.customers_changed
        for example in other._examples:
            self._keep(example)

    def examples(self) -> list[tuple[str, Mapping[str, Any], CustomerDiff]]:
        ordered = sorted(self._examples, key=lambda e: e.customer)
        return [(e.customer, e.data, e.diff) for e in ordered]

    def rows(self, currency: str | None = None) -> list[dict[str, Any]]:
        """Per rule and step (and month): each side's totals and the movement; money with
        `currency`'s minor-unit digits (the new ruleset's currency)."""
        keys = set(self.old.groups) | set(self.new.groups) | set(self.movements)
        rows = []
        for key in sorted(keys, key=group_sort_key):
            rule, step, month = key
            old = self.old.groups.get(key, Totals())
            new = self.new.groups.get(key, Totals())
            movement = self.movements.get(key, Movement())
            row: dict[str, Any] = {"rule": rule, "step": step}
            if self.by_month:
                row["month"] = month
            row.update(compare_totals(old, new, movement, currency))
            rows.append(row)
        return rows

    def totals(self, currency: str | None = None) -> dict[str, Any]:
        movement = Movement()
        for each in self.movements.values():
            movement.gained += each.gained
            movement.lost += each.lost
            movement.changed += each.changed
        totals = compare_totals(self.old.total, self.new.total, movement, currency)
        for name in ("customers_gaining", "customers_losing", "customers_changed"):
            del totals[name]
        return totals


def compare_totals(
    old: Totals, new: Totals, movement: Movement, currency: str | None = None
) -> dict[str, Any]:
    """One row of the diff report: both sides' totals and the movement between them. The
    reward counts' changes name only what changed (`rewards_delta`: per type, and per
    percentage and product), so an empty object means no reward changed in number."""
    counts: dict[RewardKey, int] = dict(new.rewards)
    add_counts(counts, old.rewards, -1)
    deltas = reward_json(counts, nonzero=True)
    return {
        "old_decisions": old.decisions,
        "new_decisions": new.decisions,
        "gained": movement.gained,
        "lost": movement.lost,
        "changed": movement.changed,
        "customers_gaining": movement.customers_gaining,
        "customers_losing": movement.customers_losing,
        "customers_changed": movement.customers_changed,
        "old_points": old.points,
        "new_points": new.points,
        "points_delta": new.points - old.points,
        "pending_points_delta": new.pending_points - old.pending_points,
        "old_store_credit": money_json(old.store_credit, currency),
        "new_store_credit": money_json(new.store_credit, currency),
        "old_discount_amount": money_json(old.discount_amount, currency),
        "new_discount_amount": money_json(new.discount_amount, currency),
        "store_credit_delta": money_json(new.store_credit - old.store_credit, currency),
        "discount_amount_delta": money_json(new.discount_amount - old.discount_amount, currency),
        "rewards_delta": deltas["rewards"],
        "discount_percentages_delta": deltas["discount_percentages"],
        "free_gifts_delta": deltas["free_gifts"],
    }


def explain_example(
    diff: CustomerDiff,
    data: Mapping[str, Any],
    old_engine: Engine,
    new_engine: Engine,
    now: datetime,
) -> dict[str, Any]:
    """An example customer's difference, with each side's explanation of the rules and steps
    that differ (for earning rules: of the activity behind the decision)."""
    targets: set[tuple[str, int | None, str | None]] = set()
    for decision in (*diff.gained, *diff.lost, *(n for _, n in diff.changed)):
        activity = decision.qualifying if decision.step is None else None
        targets.add((decision.rule, decision.step, activity))

    def reasons(engine: Engine) -> list[dict[str, Any]]:
        explanations: list[Explanation] = engine.explain(dict(data), now=now)
        return [
            e.to_json()
            for e in explanations
            if (e.rule, e.step, e.activity) in targets
            or ((e.rule, e.step, None) in targets and e.step is not None)
        ]

    def describe(decision: Decision) -> dict[str, Any]:
        value = value_of(decision)
        return {
            "key": decision.key,
            "rule": decision.rule,
            "step": decision.step,
            "status": decision.status,
            "points": value.points,
            "logic": decision.logic,
            "pick": decision.pick,
            "rewards": [r.to_json() for r in decision.rewards],
        }

    return {
        "customer": diff.customer,
        "gained": [describe(d) for d in diff.gained],
        "lost": [describe(d) for d in diff.lost],
        "changed": [{"old": describe(o), "new": describe(n)} for o, n in diff.changed],
        "old_explanations": reasons(old_engine),
        "new_explanations": reasons(new_engine),
    }
