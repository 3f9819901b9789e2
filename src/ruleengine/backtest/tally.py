"""What a ruleset decided over many customers, per rule and step (and month): streamed.

Aggregation is done here, in Python, as each customer's result comes back, rather than in
DuckDB: the decisions are Python objects already (the engine made them), so handing them to
DuckDB would cost a conversion per decision for a sum that costs less, and the state is one
`Totals` per (rule, step, month): bounded by the size of the ruleset and the months of the
history, never by the number of customers. The Spark path aggregates with Spark SQL instead,
where the decisions already are (`ruleengine.spark`); both give the same numbers.

Money is `Decimal` throughout. What is added up:

* `points`: points decided and carried out, *granted minus reversed and expired* (a
  reversal's points are negative, and so are a `points_expired` decision's: the points
  ledger's expiries, rule `points.expiry`, take points away; its `expiry_warning`s only
  announce an expiry and carry none); pending points (`status: pending`) are counted apart,
  in `pending_points`. Redemptions and manual adjustments are the store's activity, not
  decisions, so they are not in this figure; each customer's balance is in `eval`'s result.
* `store_credit`, `discount_amount`: granted amounts.
* Rewards of a `customer_picks` decision are a choice, not a grant: the decision is counted
  (in `decisions` and `choices`) but none of its rewards is added to the amounts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import Any

from ruleengine.engine.decisions import Decision, EvaluationResult, RuntimeProblem

GroupKey = tuple[str, int | None, str]  # rule, step (None: an earning rule), month ("" if none)


@dataclass(frozen=True, slots=True)
class DecisionValue:
    """The amounts one decision adds to its group."""

    points: int
    store_credit: Decimal
    discount_amount: Decimal


def value_of(decision: Decision) -> DecisionValue:
    """The points, store credit and discount amount a decision carries: zero for a choice
    and for an expiry warning, negative points for an expiry."""
    points = 0
    credit = Decimal(0)
    discount = Decimal(0)
    if decision.logic == "customer_picks" or decision.kind == "expiry_warning":
        return DecisionValue(0, credit, discount)
    sign = -1 if decision.kind == "points_expired" else 1  # the ledger takes them away
    for reward in decision.rewards:
        value = reward.value
        if value is None:
            continue
        if reward.type == "points":
            points += sign * int(value)
        elif reward.type == "store_credit":
            credit += Decimal(value)
        elif reward.type == "discount_amount":
            discount += Decimal(value)
    return DecisionValue(points, credit, discount)


def month_of(decision: Decision) -> str:
    """The UTC month of `achieved_at`, `2026-05` (some decisions carry their time in the
    ruleset's zone: an expiry at midnight in Berlin is the previous day in UTC)."""
    return decision.achieved_at.astimezone(UTC).strftime("%Y-%m")


LEDGER_PROBLEMS = "points"
"""What the report calls the points ledger's problems (RE617, RE618: a redemption of an
unknown program, more points taken than were active). Their `rule` is the activity's id, so
each would be a row of its own; they are counted under the ledger instead, per code."""


def problem_group(problem: RuntimeProblem) -> tuple[str, str]:
    """(rule, code) of a runtime problem as the report counts it."""
    return (LEDGER_PROBLEMS if problem.path is not None else problem.rule), problem.code


@dataclass(slots=True)
class Totals:
    """The sums of one group (or of everything)."""

    decisions: int = 0
    customers: int = 0
    granted: int = 0
    pending: int = 0
    reversed: int = 0
    choices: int = 0
    points: int = 0
    pending_points: int = 0
    store_credit: Decimal = Decimal(0)
    discount_amount: Decimal = Decimal(0)

    def add(self, decision: Decision, value: DecisionValue | None = None) -> None:
        value = value if value is not None else value_of(decision)
        self.decisions += 1
        if decision.logic == "customer_picks":
            self.choices += 1
        if decision.status == "pending":
            self.pending += 1
            self.pending_points += value.points
            return
        if decision.status == "reversed":
            self.reversed += 1
        else:
            self.granted += 1
        self.points += value.points
        self.store_credit += value.store_credit
        self.discount_amount += value.discount_amount

    def merge(self, other: Totals) -> None:
        self.decisions += other.decisions
        self.customers += other.customers
        self.granted += other.granted
        self.pending += other.pending
        self.reversed += other.reversed
        self.choices += other.choices
        self.points += other.points
        self.pending_points += other.pending_points
        self.store_credit += other.store_credit
        self.discount_amount += other.discount_amount

    def to_json(self) -> dict[str, Any]:
        return {
            "decisions": self.decisions,
            "customers": self.customers,
            "granted": self.granted,
            "pending": self.pending,
            "reversed": self.reversed,
            "choices": self.choices,
            "points": self.points,
            "pending_points": self.pending_points,
            "store_credit": _money(self.store_credit),
            "discount_amount": _money(self.discount_amount),
        }


def _money(amount: Decimal) -> str:
    return format(amount, "f")


def group_sort_key(key: GroupKey) -> tuple[str, int, str]:
    rule, step, month = key
    return rule, -1 if step is None else step, month


class Tally:
    """Per-group totals of one ruleset's decisions, fed one customer's result at a time."""

    def __init__(self, *, by_month: bool = False) -> None:
        self.by_month = by_month
        self.groups: dict[GroupKey, Totals] = {}
        self.customers = 0
        self.customers_with_decisions = 0
        self.problems: dict[tuple[str, str], int] = {}  # (rule, code) -> customers

    def key(self, decision: Decision) -> GroupKey:
        return decision.rule, decision.step, month_of(decision) if self.by_month else ""

    def add(self, result: EvaluationResult) -> None:
        self.add_decisions(result.decisions)
        for rule, code in sorted({problem_group(p) for p in result.problems}):
            self.problems[(rule, code)] = self.problems.get((rule, code), 0) + 1

    def add_decisions(self, decisions: Iterable[Decision]) -> None:
        self.customers += 1
        seen: set[GroupKey] = set()
        for decision in decisions:
            key = self.key(decision)
            totals = self.groups.get(key)
            if totals is None:
                totals = self.groups[key] = Totals()
            value = value_of(decision)
            totals.add(decision, value)
            if key not in seen:
                seen.add(key)
                totals.customers += 1
        if seen:
            self.customers_with_decisions += 1

    def merge(self, other: Tally) -> None:
        """Add another tally's customers (of the same ruleset, grouped alike): sums of whole
        numbers and exact decimals, so merging chunks gives what adding them one by one gives
        (`--jobs N` tallies each chunk in a worker)."""
        for key, totals in other.groups.items():
            mine = self.groups.get(key)
            if mine is None:
                mine = self.groups[key] = Totals()
            mine.merge(totals)
        self.customers += other.customers
        self.customers_with_decisions += other.customers_with_decisions
        for problem, count in other.problems.items():
            self.problems[problem] = self.problems.get(problem, 0) + count

    @property
    def total(self) -> Totals:
        """The sums over every group (exact: whole numbers and decimals add up alike in any
        order), counting the customers with any decision; summed once, at the end, rather
        than a second `Totals.add` per decision."""
        total = Totals()
        for totals in self.groups.values():
            total.merge(totals)
        total.customers = self.customers_with_decisions
        return total

    def rows(self) -> list[tuple[GroupKey, Totals]]:
        return sorted(self.groups.items(), key=lambda item: group_sort_key(item[0]))

    def to_json(self) -> dict[str, Any]:
        rows = []
        for (rule, step, month), totals in self.rows():
            row: dict[str, Any] = {"rule": rule, "step": step}
            if self.by_month:
                row["month"] = month
            row.update(totals.to_json())
            rows.append(row)
        return {
            "customers": self.customers,
            "customers_with_decisions": self.customers_with_decisions,
            "rows": rows,
            "totals": self.total.to_json(),
            "problems": [
                {"rule": rule, "code": code, "customers": count}
                for (rule, code), count in sorted(self.problems.items())
            ],
        }
