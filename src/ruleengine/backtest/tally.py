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
* `store_credit`, `discount_amount`: granted amounts, the only rewards with a money value.
* `rewards`: the granted rewards counted per type, every type a ruleset can give
  (`REWARD_TYPES`); the ones without a money value are counted in more detail,
  `discount_percentages` per percentage and `free_gifts` per product. A percentage discount,
  free shipping or a gift costs what the orders it applies to make it cost, which the rules
  do not say: they are counted, not valued, so a change from `discount_amount` to
  `discount_percentage` shows as fewer amount discounts and more percentage discounts, not
  as a saving.
* Rewards of a `customer_picks` decision are a choice, not a grant: the decision is counted
  (in `decisions` and `choices`) but none of its rewards is added to the amounts or counts.

Money in the JSON is exact decimal text with the currency's minor-unit digits (`162.50`,
`0.00`; `500` for JPY), more only when an amount has more (`0.125`): `money_json`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal
from typing import Any

from ruleengine.engine.decisions import Decision, EvaluationResult, RuntimeProblem
from ruleengine.engine.wording import minor_digits
from ruleengine.rules.models import REWARD_TYPES

GroupKey = tuple[str, int | None, str]  # rule, step (None: an earning rule), month ("" if none)

RewardKey = tuple[str, str]
"""A counted reward: its type and, for `discount_percentage` and `free_gift`, the percentage
(`percent_text`) or the product; "" for the other types."""

UNVALUED_TYPES = ("discount_percentage", "free_shipping", "free_gift")
"""The reward types without a money value: counted, not valued."""

NOT_REWARDS = ("points_expired", "expiry_warning")
"""Decision kinds that are the points ledger's, not rewards given: never counted as rewards."""


@dataclass(frozen=True, slots=True)
class DecisionValue:
    """The amounts one decision adds to its group, and the rewards it counts."""

    points: int
    store_credit: Decimal
    discount_amount: Decimal
    rewards: tuple[RewardKey, ...] = ()


def percent_text(value: Decimal | int | str) -> str:
    """A percentage as the report names it: `10`, `12.5` (whatever digits it was written
    with, `10.0` is `10`)."""
    number = Decimal(value)
    exponent = number.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # rule files hold finite numbers
    return format(number, f".{max(0, -exponent)}f")


def reward_key(kind: str, value: Decimal | int | str | None, product: str | None) -> RewardKey:
    if kind == "discount_percentage" and value is not None:
        return kind, percent_text(value)
    if kind == "free_gift":
        return kind, product or ""
    return kind, ""


def value_of(decision: Decision) -> DecisionValue:
    """The points, store credit and discount amount a decision carries: zero for a choice
    and for an expiry warning, negative points for an expiry; and the rewards it grants, to
    be counted (a granted reward decision's: none for a choice, a reversal or an expiry)."""
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
    counted: tuple[RewardKey, ...] = ()
    if decision.status == "granted" and decision.kind not in NOT_REWARDS:
        counted = tuple(reward_key(r.type, r.value, r.product) for r in decision.rewards)
    return DecisionValue(points, credit, discount, counted)


def money_json(amount: Decimal, currency: str | None) -> str:
    """An amount as the report's JSON writes it: exact decimal text with `currency`'s
    minor-unit digits (`162.50`, `-140.00`, `0.00`; `500` for JPY), more only when the amount
    has more (`0.125`), so equal amounts are equal text whatever digits they were summed from."""
    exponent = amount.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # sums of finite amounts
    places = max(minor_digits(currency), -exponent)
    return format(abs(amount) if amount == 0 else amount, f".{places}f")


def _percent_order(item: tuple[str, int]) -> Decimal:
    return Decimal(item[0])


def reward_json(counts: dict[RewardKey, int], *, nonzero: bool = False) -> dict[str, Any]:
    """Reward counts as the report's JSON gives them: `rewards` per type (every type, or
    with `nonzero` only those that are not 0), `discount_percentages` per percentage (in
    numeric order) and `free_gifts` per product (in name order)."""
    kinds: dict[str, int] = dict.fromkeys(REWARD_TYPES, 0)
    percentages: dict[str, int] = {}
    gifts: dict[str, int] = {}
    for (kind, detail), count in counts.items():
        kinds[kind] = kinds.get(kind, 0) + count
        if kind == "discount_percentage":
            percentages[detail] = percentages.get(detail, 0) + count
        elif kind == "free_gift":
            gifts[detail] = gifts.get(detail, 0) + count
    if nonzero:
        kinds = {k: v for k, v in kinds.items() if v}
    return {
        "rewards": kinds,
        "discount_percentages": {
            k: v for k, v in sorted(percentages.items(), key=_percent_order) if v or not nonzero
        },
        "free_gifts": {k: v for k, v in sorted(gifts.items()) if v or not nonzero},
    }


def add_counts(mine: dict[RewardKey, int], other: dict[RewardKey, int], sign: int = 1) -> None:
    for key, count in other.items():
        mine[key] = mine.get(key, 0) + sign * count


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
    rewards: dict[RewardKey, int] = field(default_factory=dict)  # granted rewards, counted

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
        for key in value.rewards:
            self.rewards[key] = self.rewards.get(key, 0) + 1

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
        add_counts(self.rewards, other.rewards)

    def to_json(self, currency: str | None = None) -> dict[str, Any]:
        """The sums, money with `currency`'s digits (`money_json`; two when it is None)."""
        return {
            "decisions": self.decisions,
            "customers": self.customers,
            "granted": self.granted,
            "pending": self.pending,
            "reversed": self.reversed,
            "choices": self.choices,
            "points": self.points,
            "pending_points": self.pending_points,
            "store_credit": money_json(self.store_credit, currency),
            "discount_amount": money_json(self.discount_amount, currency),
            **reward_json(self.rewards),
        }


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

    def to_json(self, currency: str | None = None) -> dict[str, Any]:
        """The report's numbers, money with `currency`'s minor-unit digits."""
        rows = []
        for (rule, step, month), totals in self.rows():
            row: dict[str, Any] = {"rule": rule, "step": step}
            if self.by_month:
                row["month"] = month
            row.update(totals.to_json(currency))
            rows.append(row)
        return {
            "customers": self.customers,
            "customers_with_decisions": self.customers_with_decisions,
            "rows": rows,
            "totals": self.total.to_json(currency),
            "problems": [
                {"rule": rule, "code": code, "customers": count}
                for (rule, code), count in sorted(self.problems.items())
            ],
        }
