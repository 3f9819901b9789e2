"""Reward decisions, progress and explanations: the engine's output, and its JSON contract.

Numbers in JSON: points and counts are integers; money amounts are decimal strings
(`"42.50"`), as Shopify's money fields are, so no host ever parses an amount through a
float; percentages are JSON numbers written from their exact decimal text. Timestamps are ISO
8601 in UTC with a `Z`.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from ruleengine.engine.json_text import dumps_indented, dumps_line
from ruleengine.engine.result_json import format_time as format_time
from ruleengine.engine.result_json import json_number as json_number
from ruleengine.engine.result_json import money_text as money_text
from ruleengine.engine.result_json import result_text

DecisionStatus = Literal["granted", "pending", "reversed"]
# What a decision does: `reward` grants (or, `reversed`, takes back) a rule's reward;
# `points_expired` and `expiry_warning` come from the points ledger (`engine.ledger_expiry`);
# `tier_change` from the VIP tiers (`engine.tier_decisions`).
DecisionKind = Literal["reward", "points_expired", "expiry_warning", "tier_change"]


FieldSetter = Callable[[Any, Any], None]


def _field_setters(cls: type) -> tuple[FieldSetter, ...]:
    """Functions that store each field of a frozen slotted dataclass, in field order.

    The `__init__` a frozen dataclass generates stores every field through
    `object.__setattr__`, about 200 ns a field; the engine makes a decision (and its reward)
    per grant, so the classes made that often have their own `__init__` that stores each field
    through its slot's descriptor instead, in a third of the time. Only `__init__` uses them:
    assigning an attribute of an instance still raises `FrozenInstanceError`, and equality,
    hashing, `repr`, pickling and `dataclasses.replace` are the dataclass's own.
    """
    return tuple(getattr(cls, f.name).__set__ for f in dataclasses.fields(cls))


@dataclass(frozen=True, slots=True, init=False)
class RewardGrant:
    """One reward of a decision: `type` and, for valued rewards, `value` or `product`."""

    type: str
    value: int | Decimal | None = None
    product: str | None = None

    def __init__(
        self, type: str, value: int | Decimal | None = None, product: str | None = None
    ) -> None:
        _set_grant_type(self, type)
        _set_grant_value(self, value)
        _set_grant_product(self, product)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type}
        if type(self.value) is int:  # points, the usual reward: first
            data["value"] = self.value
        elif self.type in ("store_credit", "discount_amount") and isinstance(self.value, Decimal):
            data["value"] = money_text(self.value)
        elif isinstance(self.value, Decimal):
            data["value"] = json_number(self.value)
        elif self.value is not None:
            data["value"] = self.value
        if self.product is not None:
            data["product"] = self.product
        return data


_set_grant_type, _set_grant_value, _set_grant_product = _field_setters(RewardGrant)


@dataclass(frozen=True, slots=True, init=False)
class Decision:
    """A reward to carry out now. `key` is unique and stable: the host stores it, and passes
    it back in the snapshot's `granted`, so the same reward is never decided twice."""

    key: str
    rule: str
    step: int | None
    logic: str
    pick: int | None
    rewards: tuple[RewardGrant, ...]
    achieved_at: datetime
    qualifying: str | None
    status: DecisionStatus = "granted"
    available_at: datetime | None = None
    kind: DecisionKind = "reward"
    tier: tuple[str, str] | None = None  # tier_change: the level ids (from, to)

    def __init__(
        self,
        key: str,
        rule: str,
        step: int | None,
        logic: str,
        pick: int | None,
        rewards: tuple[RewardGrant, ...],
        achieved_at: datetime,
        qualifying: str | None,
        status: DecisionStatus = "granted",
        available_at: datetime | None = None,
        kind: DecisionKind = "reward",
        tier: tuple[str, str] | None = None,
    ) -> None:
        _set_decision_key(self, key)
        _set_decision_rule(self, rule)
        _set_decision_step(self, step)
        _set_decision_logic(self, logic)
        _set_decision_pick(self, pick)
        _set_decision_rewards(self, rewards)
        # Decision times are UTC (docs/engine.md), whatever zone their arithmetic used.
        if achieved_at.tzinfo is not UTC and achieved_at.tzinfo is not None:
            achieved_at = achieved_at.astimezone(UTC)
        if available_at is not None and available_at.tzinfo is not UTC:
            available_at = available_at.astimezone(UTC) if available_at.tzinfo else available_at
        _set_decision_achieved_at(self, achieved_at)
        _set_decision_qualifying(self, qualifying)
        _set_decision_status(self, status)
        _set_decision_available_at(self, available_at)
        _set_decision_kind(self, kind)
        _set_decision_tier(self, tier)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "key": self.key,
            "kind": self.kind,
            "rule": self.rule,
            "step": self.step,
            "logic": self.logic,
            "pick": self.pick,
            "rewards": [reward.to_json() for reward in self.rewards],
            "achieved_at": format_time(self.achieved_at),
            "qualifying": self.qualifying,
            "status": self.status,
        }
        if self.available_at is not None:
            data["available_at"] = format_time(self.available_at)
        if self.tier is not None:
            data["tier"] = {"from": self.tier[0], "to": self.tier[1]}
        return data


(
    _set_decision_key,
    _set_decision_rule,
    _set_decision_step,
    _set_decision_logic,
    _set_decision_pick,
    _set_decision_rewards,
    _set_decision_achieved_at,
    _set_decision_qualifying,
    _set_decision_status,
    _set_decision_available_at,
    _set_decision_kind,
    _set_decision_tier,
) = _field_setters(Decision)


@dataclass(frozen=True, slots=True, init=False)
class Progress:
    """Where the customer stands on a milestone: its current step (the first not yet
    decided, or the last one when all are), counted and pending amounts, and the target."""

    rule: str
    step: int
    steps: int
    metric: str
    current: int | Decimal
    pending: int | Decimal
    target: int | Decimal
    completed: bool
    description: str | None
    remaining: str | None = None  # "2 more reviews", "spend $37.50 more"

    def __init__(
        self,
        rule: str,
        step: int,
        steps: int,
        metric: str,
        current: int | Decimal,
        pending: int | Decimal,
        target: int | Decimal,
        completed: bool,
        description: str | None,
        remaining: str | None = None,
    ) -> None:
        _set_progress_rule(self, rule)
        _set_progress_step(self, step)
        _set_progress_steps(self, steps)
        _set_progress_metric(self, metric)
        _set_progress_current(self, current)
        _set_progress_pending(self, pending)
        _set_progress_target(self, target)
        _set_progress_completed(self, completed)
        _set_progress_description(self, description)
        _set_progress_remaining(self, remaining)

    def to_json(self) -> dict[str, Any]:
        # Money (`amount_spent`) is a decimal string, zero included; counts and days are
        # integers. Decided by the metric, not by the value's Python type, so one form holds.
        money = self.metric == "amount_spent"

        def number(value: int | Decimal) -> int | str:
            if money:
                return money_text(Decimal(value))
            assert isinstance(value, int)  # counts and days are whole numbers
            return value

        return {
            "rule": self.rule,
            "step": self.step,
            "steps": self.steps,
            "metric": self.metric,
            "current": number(self.current),
            "pending": number(self.pending),
            "target": number(self.target),
            "completed": self.completed,
            "description": self.description,
            "remaining": self.remaining,
        }


(
    _set_progress_rule,
    _set_progress_step,
    _set_progress_steps,
    _set_progress_metric,
    _set_progress_current,
    _set_progress_pending,
    _set_progress_target,
    _set_progress_completed,
    _set_progress_description,
    _set_progress_remaining,
) = _field_setters(Progress)


@dataclass(frozen=True, slots=True, init=False)
class Explanation:
    """Why a rule (or one step of it) did or did not grant, in words for a support agent."""

    rule: str
    step: int | None
    status: str  # granted, already_granted, pending, in_progress, not_eligible, ...
    reasons: tuple[str, ...]
    activity: str | None = None  # for earning rules: the activity that triggered the rule

    def __init__(
        self,
        rule: str,
        step: int | None,
        status: str,
        reasons: tuple[str, ...],
        activity: str | None = None,
    ) -> None:
        _set_explanation_rule(self, rule)
        _set_explanation_step(self, step)
        _set_explanation_status(self, status)
        _set_explanation_reasons(self, reasons)
        _set_explanation_activity(self, activity)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "step": self.step,
            "activity": self.activity,
            "status": self.status,
            "reasons": list(self.reasons),
        }


(
    _set_explanation_rule,
    _set_explanation_step,
    _set_explanation_status,
    _set_explanation_reasons,
    _set_explanation_activity,
) = _field_setters(Explanation)


@dataclass(frozen=True, slots=True)
class RuntimeProblem:
    """A rule that could not be evaluated for this customer (division by zero, a negative or
    fractional points result), with its location in the rule file. The rule grants nothing."""

    code: str
    rule: str
    message: str
    file: str
    line: int
    column: int
    # Points-ledger problems are about the snapshot: `file` is `<snapshot>`, `path` the
    # activity's JSON path and `amount` the points at stake (line and column 0).
    path: str | None = None
    amount: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "rule": self.rule,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
        }
        if self.path is not None:
            data["path"] = self.path
            data["amount"] = self.amount
        return data


@dataclass(frozen=True)
class EvaluationResult:
    """Everything one evaluation decided, reproducible from (ruleset_hash, snapshot, now)."""

    program: str
    ruleset_hash: str
    customer: str
    evaluated_at: datetime
    decisions: tuple[Decision, ...]
    progress: tuple[Progress, ...]
    problems: tuple[RuntimeProblem, ...] = ()
    explanations: tuple[Explanation, ...] = field(default=(), compare=False)
    # The points ledger (`engine.ledger`), JSON-ready: `balance`, `expiring`, `redeemable`,
    # `coupons`. Always written; an empty balance is all zeros.
    ledger: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "program": self.program,
            "ruleset_hash": self.ruleset_hash,
            "customer": self.customer,
            "evaluated_at": format_time(self.evaluated_at),
            "decisions": [d.to_json() for d in self.decisions],
            "progress": [p.to_json() for p in self.progress],
            "problems": [p.to_json() for p in self.problems],
            **self.ledger_json(),
        }
        if self.explanations:
            data["explanations"] = [e.to_json() for e in self.explanations]
        return data

    def ledger_json(self) -> dict[str, Any]:
        """The ledger's part of `to_json()`, in its order; an empty balance is all zeros."""
        ledger = self.ledger
        return {
            "balance": ledger.get("balance", dict.fromkeys(BALANCE_FIELDS, 0)),
            "expiring": ledger.get("expiring", []),
            "redeemable": ledger.get("redeemable", []),
            "coupons": ledger.get("coupons", []),
            "tier": ledger.get("tier"),  # engine.tiers; null without `tiers`
        }

    def dumps(self, *, indent: int | None = 2) -> str:
        """`json.dumps(self.to_json(), indent=indent, ensure_ascii=False)`, byte for byte: a
        batch line (`indent=None`) and what `eval` and the service write (`indent=2`) are
        written straight from the result's objects (`engine.result_json`)."""
        if indent is None or indent == 2:
            try:
                return result_text(self, indented=indent == 2)
            except TypeError:  # a value of a type the writer leaves to the standard library
                json_ready = self.to_json()
                return dumps_line(json_ready) if indent is None else dumps_indented(json_ready)
        return json.dumps(self.to_json(), indent=indent, ensure_ascii=False)


BALANCE_FIELDS = ("active", "pending", "earned", "redeemed", "adjusted", "expired")


def key_part(text: str) -> str:
    """An id as one part of a decision key: `%` and `/` percent-encoded, so that parts never
    run into each other (`o1/reversal` is `o1%2Freversal`, not the reversal of `o1`) and ids
    without either character keep the key they always had."""
    if "%" in text or "/" in text:
        return text.replace("%", "%25").replace("/", "%2F")
    return text


def check_unique_keys(decisions: Sequence[Decision]) -> None:
    """Raise `AssertionError` (an internal error) when two decisions share a key: a host that
    feeds keys back as `granted` would then never see one of them, so no result may hold one."""
    keys = [decision.key for decision in decisions]
    if len(set(keys)) != len(keys):
        twice = sorted(key for key, times in Counter(keys).items() if times > 1)
        raise AssertionError(f"decision keys made twice: {twice}")


# At one moment, in the order the replay makes them: expiries first (the ledger expires
# before it takes the moment's activity), then what the activity earned, the tier change it
# caused, and last the warnings about the points just earned.
_CAUSE = {"points_expired": 0, "reward": 1, "tier_change": 2, "expiry_warning": 3}


def _achieved(decision: Decision) -> tuple[datetime, int, str]:
    return decision.achieved_at, _CAUSE[decision.kind], decision.key


def sort_decisions(decisions: Sequence[Decision]) -> tuple[Decision, ...]:
    """Decisions in the order they were achieved; at one moment, causes before what they
    caused (see `_CAUSE`), then the key."""
    return tuple(sorted(decisions, key=_achieved))
