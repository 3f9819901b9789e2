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
from json.encoder import encode_basestring  # the C implementation when available
from typing import Any, Literal

from ruleengine.engine.json_text import dumps_indented, dumps_line

DecisionStatus = Literal["granted", "pending", "reversed"]
# What a decision does: `reward` grants (or, `reversed`, takes back) a rule's reward;
# `points_expired` and `expiry_warning` come from the points ledger (`engine.ledger`);
# `tier_change` from the VIP tiers (`engine.tier_decisions`).
DecisionKind = Literal["reward", "points_expired", "expiry_warning", "tier_change"]


def format_time(moment: datetime) -> str:
    """`2026-06-01T00:00:00Z`: UTC, seconds precision unless the input had more."""
    # The text of `utc.isoformat()` with `Z` for `+00:00` (microseconds only when there are
    # some), made from the date's and the time's own `isoformat`: a third faster than the
    # aware datetime's, which formats the offset only for it to be replaced. Most moments
    # are in UTC already. A result formats one or two per decision.
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return f"{utc.date().isoformat()}T{utc.time().isoformat()}Z"


def money_text(amount: Decimal) -> str:
    """An exact amount as text, without exponent (`1E+2` -> `100`)."""
    return format(amount, "f")


def json_number(value: Decimal) -> int | float | str:
    """A non-money decimal as a JSON number with exactly its digits (`15`, `12.5`).

    A float whose shortest text is the decimal's own text is written as that number; a decimal
    too long for that (more than 15 significant digits) is written as text rather than rounded.
    """
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else format(value, "f")


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
            "balance": self.ledger.get("balance", dict.fromkeys(BALANCE_FIELDS, 0)),
            "expiring": self.ledger.get("expiring", []),
            "redeemable": self.ledger.get("redeemable", []),
            "coupons": self.ledger.get("coupons", []),
            "tier": self.ledger.get("tier"),  # engine.tiers; null without `tiers`
        }
        if self.explanations:
            data["explanations"] = [e.to_json() for e in self.explanations]
        return data

    def dumps(self, *, indent: int | None = 2) -> str:
        if indent is None:  # a batch line: written straight from the result (see below)
            try:
                return _result_line(self)
            except TypeError:  # a value of a type the writer leaves to the standard library
                return _encode_line(self.to_json())
        if indent == 2:  # what the command line prints: the fast writer, same text
            return dumps_indented(self.to_json())
        return json.dumps(self.to_json(), indent=indent, ensure_ascii=False)


# `json.dumps(x, ensure_ascii=False)`'s bytes, without a new encoder per call or the walk
# that looks for cycles (`to_json()` builds a fresh tree).
_encode_line = dumps_line

# A batch line, `json.dumps(result.to_json(), ensure_ascii=False)` byte for byte, written
# straight from the result's objects: no dictionaries, and each object is one f-string with
# its keys and separators as constant text. Text goes through the standard library's C
# string encoder; whole numbers through `int.__repr__`, as the encoder writes them; anything
# else (a float, a bool where a number is expected) through the encoder itself. Timestamps
# (`format_time`) are digits, `-`, `:`, `.`, `T` and `Z`, which JSON writes as they are. A
# value whose type the writer does not expect raises `TypeError` (the C string encoder
# refuses anything but text), and `dumps` then encodes `to_json()`. The ledger's parts are
# dictionaries already (the engine makes them while evaluating): one encoder call writes
# them all. `tests/unit/engine/test_result_json.py` holds the two texts equal.

_text = encode_basestring


def _scalar_text(value: object) -> str:
    """A JSON scalar (or anything) as `json.dumps` writes it."""
    if isinstance(value, str):  # a subclass too: the encoder writes any `str` as text
        return _text(value)
    if type(value) is int:  # not a bool: the encoder writes `true`
        return int.__repr__(value)
    if value is None:
        return "null"
    return _encode_line(value)


def _grant_line(grant: RewardGrant) -> str:
    value = grant.value
    if type(value) is int and grant.type == "points" and grant.product is None:  # most
        return '{"type": "points", "value": ' + int.__repr__(value) + "}"
    if type(value) is int:
        shown = ', "value": ' + int.__repr__(value)
    elif isinstance(value, Decimal):
        if grant.type in ("store_credit", "discount_amount"):
            shown = ', "value": ' + _text(money_text(value))
        else:
            shown = ', "value": ' + _scalar_text(json_number(value))
    elif value is not None:
        shown = ', "value": ' + _scalar_text(value)
    else:
        shown = ""
    if grant.product is not None:
        shown += ', "product": ' + _text(grant.product)
    return f'{{"type": {_text(grant.type)}{shown}}}'


def _grants_text(grants: tuple[RewardGrant, ...]) -> str:
    if len(grants) == 1:  # most decisions: no list to make and join
        return _grant_line(grants[0])
    return ", ".join([_grant_line(grant) for grant in grants])


def _decision_line(decision: Decision) -> str:
    step, pick, qualifying = decision.step, decision.pick, decision.qualifying
    tail = "}"
    if decision.tier is not None:
        tail = f', "tier": {{"from": {_text(decision.tier[0])}, "to": {_text(decision.tier[1])}}}}}'
    if decision.available_at is not None:
        tail = f', "available_at": "{format_time(decision.available_at)}"{tail}'
    return (
        f'{{"key": {_text(decision.key)}, "kind": {_text(decision.kind)}, '
        f'"rule": {_text(decision.rule)}, '
        f'"step": {"null" if step is None else _scalar_text(step)}, '
        f'"logic": {_text(decision.logic)}, '
        f'"pick": {"null" if pick is None else _scalar_text(pick)}, '
        f'"rewards": [{_grants_text(decision.rewards)}], '
        f'"achieved_at": "{format_time(decision.achieved_at)}", '
        f'"qualifying": {"null" if qualifying is None else _text(qualifying)}, '
        f'"status": {_text(decision.status)}{tail}'
    )


def _progress_number(value: int | Decimal, money: bool) -> str:
    if money:
        return _text(money_text(Decimal(value)))
    if type(value) is not int:  # `to_json` decides (its assertion, or a bool as `true`)
        raise TypeError
    return int.__repr__(value)


def _progress_line(item: Progress) -> str:
    money = item.metric == "amount_spent"
    description, remaining = item.description, item.remaining
    return (
        f'{{"rule": {_text(item.rule)}, "step": {_scalar_text(item.step)}, '
        f'"steps": {_scalar_text(item.steps)}, "metric": {_text(item.metric)}, '
        f'"current": {_progress_number(item.current, money)}, '
        f'"pending": {_progress_number(item.pending, money)}, '
        f'"target": {_progress_number(item.target, money)}, '
        f'"completed": {_scalar_text(item.completed)}, '
        f'"description": {"null" if description is None else _text(description)}, '
        f'"remaining": {"null" if remaining is None else _text(remaining)}}}'
    )


def _problem_line(problem: RuntimeProblem) -> str:
    tail = "}"
    if problem.path is not None:
        tail = f', "path": {_text(problem.path)}, "amount": {_scalar_text(problem.amount)}}}'
    return (
        f'{{"code": {_text(problem.code)}, "rule": {_text(problem.rule)}, '
        f'"message": {_text(problem.message)}, "file": {_text(problem.file)}, '
        f'"line": {_scalar_text(problem.line)}, "column": {_scalar_text(problem.column)}{tail}'
    )


def _explanation_line(item: Explanation) -> str:
    step, activity = item.step, item.activity
    return (
        f'{{"rule": {_text(item.rule)}, "step": {"null" if step is None else _scalar_text(step)}, '
        f'"activity": {"null" if activity is None else _text(activity)}, '
        f'"status": {_text(item.status)}, '
        f'"reasons": [{", ".join([_text(reason) for reason in item.reasons])}]}}'
    )


def _result_line(result: EvaluationResult) -> str:
    ledger = result.ledger
    ledger_text = _encode_line(  # `{"balance": ..., "tier": ...}`: its inside is the line's end
        {
            "balance": ledger.get("balance", dict.fromkeys(BALANCE_FIELDS, 0)),
            "expiring": ledger.get("expiring", []),
            "redeemable": ledger.get("redeemable", []),
            "coupons": ledger.get("coupons", []),
            "tier": ledger.get("tier"),
        }
    )
    explanations = ""
    if result.explanations:
        explained = ", ".join([_explanation_line(item) for item in result.explanations])
        explanations = f', "explanations": [{explained}]'
    return (
        f'{{"program": {_text(result.program)}, "ruleset_hash": {_text(result.ruleset_hash)}, '
        f'"customer": {_text(result.customer)}, '
        f'"evaluated_at": "{format_time(result.evaluated_at)}", '
        f'"decisions": [{", ".join([_decision_line(d) for d in result.decisions])}], '
        f'"progress": [{", ".join([_progress_line(p) for p in result.progress])}], '
        f'"problems": [{", ".join([_problem_line(p) for p in result.problems])}], '
        f"{ledger_text[1:-1]}{explanations}}}"
    )


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


def sort_decisions(decisions: Sequence[Decision]) -> tuple[Decision, ...]:
    """Decisions in the order they were achieved; the key breaks ties."""
    return tuple(sorted(decisions, key=lambda d: (d.achieved_at, d.key)))
