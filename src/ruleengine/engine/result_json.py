"""Results (and points histories) as JSON text straight from their objects, and the formats
of the JSON contract's values (`format_time`, `money_text`, `json_number`).

`EvaluationResult.dumps` writes `json.dumps(result.to_json(), ensure_ascii=False)` (a batch
line) or the same with `indent=2` (what `eval` and the service write), byte for byte, without
the dictionaries of `to_json()` and without the encoder's walk over them: each object is one
f-string, its keys constant text, its separators and indentation taken from a `Layout` (one
line, or two spaces a level). Text goes through the standard library's C string encoder (what
`json.dumps` itself uses); whole numbers through `int.__repr__`, as the encoder writes them;
anything else (a float, a bool where a number is expected) through the encoder itself.
Timestamps (`format_time`) are digits, `-`, `:`, `.`, `T` and `Z`, which JSON writes as they
are. A value whose type the writer does not expect raises `TypeError` (the C string encoder
refuses anything but text), and `dumps` then encodes `to_json()` as before. The ledger's
parts are dictionaries already (the engine makes them while evaluating): one encoder call
writes them all. `tests/unit/engine/test_result_json.py` holds the texts equal: hypothesis
over whole results with any values, and every bundled example customer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

import msgspec

from ruleengine.engine.json_text import dumps_indented, dumps_line

# The writers take the result types (`engine.decisions`) as `Any`: those types import this
# module, and no import may go back, not even for type checking (tests/test_layering.py). The
# tests compare every field the writers read with `to_json()`, which is typed.

__all__ = ["format_time", "history_text", "json_number", "money_text", "result_text"]


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


# Levels of nesting (the result's keys are level 1): what opens an object's or a list's
# members, what separates them, and what closes them; on one line `json.dumps`'s `", "`,
# indented a new line and two spaces a level.
Level = tuple[str, str, str]
_ONE_LINE: tuple[Level, ...] = (("", ", ", ""),) * 6
_TWO_SPACES: tuple[Level, ...] = tuple(
    ("\n" + "  " * k, ",\n" + "  " * k, "\n" + "  " * (k - 1)) for k in range(6)
)


def _keyed(level: Level, *names: str) -> tuple[str, ...]:
    """The constant text of an object at `level` with keys `names`: what comes before each
    key's value (`{"key": `, `, "kind": `, ...), and last what closes the object."""
    opening, separator, closing = level
    before = [separator + f'"{name}": ' for name in names]
    before[0] = "{" + opening + f'"{names[0]}": '
    return (*before, closing + "}")


class Layout(msgspec.Struct, frozen=True):
    """The constant text of one layout, made once: each key with the separator before it, so
    an object's f-string has as few pieces as can be (it costs by its pieces, constant or
    not: twice as much with the separators apart)."""

    separator: str  # between the result's keys
    result: tuple[str, ...]
    decision: tuple[str, ...]
    available_at: str
    tier: tuple[str, ...]
    grant: tuple[str, ...]
    progress: tuple[str, ...]
    problem: tuple[str, ...]
    explanation: tuple[str, ...]
    history: tuple[str, ...]  # the points history (`Engine.timeline`)
    entry: tuple[str, ...]
    balance: tuple[str, ...]
    items: tuple[Level, ...]  # lists by level: `[` and the opening, the separator, `]`
    ledger_cut: tuple[int, int]  # what to cut off the ledger's own text at each end

    @classmethod
    def of(cls, levels: tuple[Level, ...]) -> Layout:
        result = ("program", "ruleset_hash", "customer", "evaluated_at", "decisions", "progress")
        decision = ("key", "kind", "rule", "step", "logic", "pick", "rewards", "achieved_at")
        progress = ("rule", "step", "steps", "metric", "current", "pending", "target")
        problem = ("code", "rule", "message", "file", "line", "column", "path", "amount")
        tier = _keyed(levels[4], "from", "to")
        entry = ("at", "kind", "points", "balance", "key", "rule", "activity", "text")
        balance = ("active", "pending", "earned", "redeemed", "adjusted", "expired")
        return cls(
            separator=levels[1][1],
            result=_keyed(levels[1], *result, "problems", "explanations"),
            decision=_keyed(levels[3], *decision, "qualifying", "status"),
            available_at=levels[3][1] + '"available_at": ',
            tier=(levels[3][1] + '"tier": ' + tier[0], *tier[1:]),
            grant=_keyed(levels[5], "type", "value", "product"),
            progress=_keyed(levels[3], *progress, "completed", "description", "remaining"),
            problem=_keyed(levels[3], *problem),
            explanation=_keyed(levels[3], "rule", "step", "activity", "status", "reasons"),
            history=_keyed(levels[1], "program", "customer", "evaluated_at", "entries", "balance"),
            entry=_keyed(levels[3], *entry),
            balance=_keyed(levels[2], *balance),
            items=tuple(("[" + opening, sep, closing + "]") for opening, sep, closing in levels),
            ledger_cut=(1 + len(levels[1][0]), -1 - len(levels[1][2])),
        )


LINE = Layout.of(_ONE_LINE)
INDENTED = Layout.of(_TWO_SPACES)

_text = encode_basestring  # the C implementation when available


def result_text(result: Any, *, indented: bool) -> str:
    """`json.dumps(result.to_json(), ensure_ascii=False)`, with `indent=2` if `indented`."""
    layout = INDENTED if indented else LINE
    (
        k_program,
        k_hash,
        k_customer,
        k_at,
        k_decisions,
        k_progress,
        k_problems,
        k_explanations,
        close,
    ) = layout.result
    # The ledger's keys, `{"balance": ..., "tier": ...}` written alone: its inside (between
    # `{` with its opening and the closing `}`) follows the result's own keys.
    ledger = (dumps_indented if indented else dumps_line)(result.ledger_json())
    start, end = layout.ledger_cut
    explanations = ""
    if result.explanations:
        explained = [_explanation_text(item, layout) for item in result.explanations]
        explanations = k_explanations + _items(explained, layout.items[2])
    items = layout.items[2]
    return (
        f"{k_program}{_text(result.program)}{k_hash}{_text(result.ruleset_hash)}"
        f'{k_customer}{_text(result.customer)}{k_at}"{format_time(result.evaluated_at)}"'
        f"{k_decisions}{_items([_decision_text(d, layout) for d in result.decisions], items)}"
        f"{k_progress}{_items([_progress_text(p, layout) for p in result.progress], items)}"
        f"{k_problems}{_items([_problem_text(p, layout) for p in result.problems], items)}"
        f"{layout.separator}{ledger[start:end]}{explanations}{close}"
    )


def _items(texts: list[str], level: Level) -> str:
    """A list of written members; `level` is the list's `items` entry."""
    if not texts:
        return "[]"
    opening, separator, closing = level
    return f"{opening}{separator.join(texts)}{closing}"


def _scalar_text(value: object) -> str:
    """A JSON scalar (or anything on one line) as `json.dumps` writes it."""
    if isinstance(value, str):  # a subclass too: the encoder writes any `str` as text
        return _text(value)
    if type(value) is int:  # not a bool: the encoder writes `true`
        return int.__repr__(value)
    if value is None:
        return "null"
    if isinstance(value, list | tuple | dict):  # indented, a container spans lines
        raise TypeError("a container: `dumps` encodes `to_json()`")
    return dumps_line(value)  # a float, a bool; TypeError for what JSON cannot hold


def _grant_text(grant: Any, layout: Layout) -> str:
    k_type, k_value, k_product, close = layout.grant
    value = grant.value
    if type(value) is int and grant.type == "points" and grant.product is None:  # most
        return f'{k_type}"points"{k_value}{int.__repr__(value)}{close}'
    if type(value) is int:
        shown = k_value + int.__repr__(value)
    elif isinstance(value, Decimal):
        if grant.type in ("store_credit", "discount_amount"):
            shown = k_value + _text(money_text(value))
        else:
            shown = k_value + _scalar_text(json_number(value))
    elif value is not None:
        shown = k_value + _scalar_text(value)
    else:
        shown = ""
    if grant.product is not None:
        shown += k_product + _text(grant.product)
    return f"{k_type}{_text(grant.type)}{shown}{close}"


def _decision_text(decision: Any, layout: Layout) -> str:
    (
        k_key,
        k_kind,
        k_rule,
        k_step,
        k_logic,
        k_pick,
        k_rewards,
        k_at,
        k_qualifying,
        k_status,
        close,
    ) = layout.decision
    step, pick, qualifying, rewards = (
        decision.step,
        decision.pick,
        decision.qualifying,
        decision.rewards,
    )
    if decision.tier is not None:
        k_tier, k_to, tier_close = layout.tier
        moved = f"{k_tier}{_text(decision.tier[0])}{k_to}{_text(decision.tier[1])}{tier_close}"
        close = moved + close
    if decision.available_at is not None:
        close = f'{layout.available_at}"{format_time(decision.available_at)}"{close}'
    if len(rewards) == 1:  # most decisions: no list to make and join
        opening, _, closing = layout.items[4]
        rewards_text = f"{opening}{_grant_text(rewards[0], layout)}{closing}"
    else:
        rewards_text = _items([_grant_text(grant, layout) for grant in rewards], layout.items[4])
    return (
        f"{k_key}{_text(decision.key)}{k_kind}{_text(decision.kind)}{k_rule}{_text(decision.rule)}"
        f"{k_step}{'null' if step is None else _scalar_text(step)}"
        f"{k_logic}{_text(decision.logic)}{k_pick}{'null' if pick is None else _scalar_text(pick)}"
        f'{k_rewards}{rewards_text}{k_at}"{format_time(decision.achieved_at)}"'
        f"{k_qualifying}{'null' if qualifying is None else _text(qualifying)}"
        f"{k_status}{_text(decision.status)}{close}"
    )


def _progress_number(value: int | Decimal, money: bool) -> str:
    if money:
        return _text(money_text(Decimal(value)))
    if type(value) is not int:  # `to_json` decides (its assertion, or a bool as `true`)
        raise TypeError
    return int.__repr__(value)


def _progress_text(item: Any, layout: Layout) -> str:
    (
        k_rule,
        k_step,
        k_steps,
        k_metric,
        k_current,
        k_pending,
        k_target,
        k_completed,
        k_description,
        k_remaining,
        close,
    ) = layout.progress
    money = item.metric == "amount_spent"
    description, remaining = item.description, item.remaining
    return (
        f"{k_rule}{_text(item.rule)}{k_step}{_scalar_text(item.step)}"
        f"{k_steps}{_scalar_text(item.steps)}{k_metric}{_text(item.metric)}"
        f"{k_current}{_progress_number(item.current, money)}"
        f"{k_pending}{_progress_number(item.pending, money)}"
        f"{k_target}{_progress_number(item.target, money)}"
        f"{k_completed}{_scalar_text(item.completed)}"
        f"{k_description}{'null' if description is None else _text(description)}"
        f"{k_remaining}{'null' if remaining is None else _text(remaining)}{close}"
    )


def _problem_text(problem: Any, layout: Layout) -> str:
    k_code, k_rule, k_message, k_file, k_line, k_column, k_path, k_amount, close = layout.problem
    if problem.path is not None:
        amount = _scalar_text(problem.amount)
        close = f"{k_path}{_text(problem.path)}{k_amount}{amount}{close}"
    return (
        f"{k_code}{_text(problem.code)}{k_rule}{_text(problem.rule)}"
        f"{k_message}{_text(problem.message)}{k_file}{_text(problem.file)}"
        f"{k_line}{_scalar_text(problem.line)}{k_column}{_scalar_text(problem.column)}{close}"
    )


def _explanation_text(item: Any, layout: Layout) -> str:
    k_rule, k_step, k_activity, k_status, k_reasons, close = layout.explanation
    step, activity = item.step, item.activity
    reasons = _items([_text(reason) for reason in item.reasons], layout.items[4])
    return (
        f"{k_rule}{_text(item.rule)}{k_step}{'null' if step is None else _scalar_text(step)}"
        f"{k_activity}{'null' if activity is None else _text(activity)}"
        f"{k_status}{_text(item.status)}{k_reasons}{reasons}{close}"
    )


def history_text(history: Any, *, indented: bool) -> str:
    """`json.dumps(history.to_json(), ensure_ascii=False)` of a `PointsHistory`, with
    `indent=2` if `indented`."""
    layout = INDENTED if indented else LINE
    k_program, k_customer, k_at, k_entries, k_balance, close = layout.history
    entries = [_entry_text(entry, layout) for entry in history.entries]
    return (
        f"{k_program}{_text(history.program)}{k_customer}{_text(history.customer)}"
        f'{k_at}"{format_time(history.now)}"{k_entries}{_items(entries, layout.items[2])}'
        f"{k_balance}{_balance_text(history.balance, layout)}{close}"
    )


def _entry_text(entry: Any, layout: Layout) -> str:
    (k_at, k_kind, k_points, k_balance, k_key, k_rule, k_activity, k_text, close) = layout.entry
    rule, activity = entry.rule, entry.activity
    return (
        f'{k_at}"{format_time(entry.at)}"{k_kind}{_text(entry.kind)}'
        f"{k_points}{_scalar_text(entry.points)}{k_balance}{_scalar_text(entry.balance)}"
        f"{k_key}{_text(entry.key)}{k_rule}{'null' if rule is None else _text(rule)}"
        f"{k_activity}{'null' if activity is None else _text(activity)}"
        f"{k_text}{_text(entry.text)}{close}"
    )


def _balance_text(balance: Any, layout: Layout) -> str:
    k_active, k_pending, k_earned, k_redeemed, k_adjusted, k_expired, close = layout.balance
    return (
        f"{k_active}{_scalar_text(balance.active)}{k_pending}{_scalar_text(balance.pending)}"
        f"{k_earned}{_scalar_text(balance.earned)}{k_redeemed}{_scalar_text(balance.redeemed)}"
        f"{k_adjusted}{_scalar_text(balance.adjusted)}{k_expired}{_scalar_text(balance.expired)}"
        f"{close}"
    )
