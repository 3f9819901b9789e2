"""Comparing a case's expectations with what the engine decided, and rendering both sides one
item per line for a readable diff."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ruleengine.engine.decisions import (
    Decision,
    EvaluationResult,
    Progress,
    format_time,
    money_text,
)
from ruleengine.testing.format import (
    _BALANCE_FIELDS,
    _DECISION_FIELDS,
    _PROBLEM_FIELDS,
    _PROGRESS_FIELDS,
    _TIER_FIELDS,
)
from ruleengine.testing.loader import CaseExpectation, Partial


@dataclass(frozen=True)
class Mismatch:
    """One compared part of a case that differs: its rendering, expected and actual."""

    part: str  # "decisions", "progress", "balance", "tier" or "problems"
    expected: tuple[str, ...]
    actual: tuple[str, ...]

    def diff(self) -> list[str]:
        """A unified diff with the whole lists as context, so the reader sees every item."""
        context = max(len(self.expected), len(self.actual))
        return list(
            difflib.unified_diff(
                list(self.expected),
                list(self.actual),
                fromfile="expected",
                tofile="actual",
                lineterm="",
                n=context,
            )
        )


def compare(expect: CaseExpectation, result: EvaluationResult) -> list[Mismatch]:
    """Every part of the result that does not meet the case's expectations."""
    mismatches = []
    if expect.decisions is not None:
        actual = [_decision_fields(d) for d in result.decisions]
        mismatch = _compare_items("decisions", expect.decisions, actual, _DECISION_FIELDS)
        if mismatch is not None:
            mismatches.append(mismatch)
    if expect.progress is not None:
        mismatch = _compare_progress(expect.progress, result.progress)
        if mismatch is not None:
            mismatches.append(mismatch)
    if expect.balance is not None:
        actual_balance = result.to_json()["balance"]
        mismatch = _compare_items("balance", (expect.balance,), [actual_balance], _BALANCE_FIELDS)
        if mismatch is not None:
            mismatches.append(mismatch)
    if expect.tier is not None:
        mismatches.extend(_compare_tier(expect.tier, result))
    problems = [{"code": p.code, "rule": p.rule} for p in result.problems]
    mismatch = _compare_items("problems", expect.problems, problems, _PROBLEM_FIELDS)
    if mismatch is not None:
        mismatches.append(mismatch)
    return mismatches


def _compare_tier(expected: Partial, result: EvaluationResult) -> list[Mismatch]:
    """The VIP tier at `now`: amounts and moments compared as values (`550` is `"550.00"`)."""
    tier = result.ledger.get("tier")
    actual: dict[str, Any] = {}
    if tier is not None:
        actual = dict(tier)
        for name in ("tier_points", "remaining"):
            if actual[name] is not None:
                actual[name] = Decimal(str(actual[name]))
        for name in ("since", "period_end"):
            if actual[name] is not None:
                actual[name] = datetime.fromisoformat(actual[name])
    mismatch = _compare_items("tier", (expected,), [actual], _TIER_FIELDS)
    return [] if mismatch is None else [mismatch]


def _decision_fields(decision: Decision) -> dict[str, Any]:
    points = [r.value for r in decision.rewards if r.type == "points"]
    rewards: list[dict[str, Any]] = []
    for reward in decision.rewards:
        if reward.type == "free_shipping":
            rewards.append({"free_shipping": True})
        elif reward.type == "free_gift":
            rewards.append({"free_gift": {"product": reward.product}})
        else:
            rewards.append({reward.type: reward.value})
    return {
        "key": decision.key,
        "kind": decision.kind,
        "rule": decision.rule,
        "step": decision.step,
        "status": decision.status,
        "points": sum(int(p) for p in points if p is not None) if points else None,
        "rewards": rewards,
        "logic": decision.logic,
        "pick": decision.pick,
        "qualifying": decision.qualifying,
        "achieved_at": decision.achieved_at,
        "available_at": decision.available_at,
    }


def _progress_fields(progress: Progress) -> dict[str, Any]:
    return {name: getattr(progress, name) for name in _PROGRESS_FIELDS}


def _compare_items(
    part: str,
    expected: Sequence[Partial],
    actual: Sequence[Mapping[str, Any]],
    order: Sequence[str],
) -> Mismatch | None:
    """Each expected item must match its own actual item, and nothing may be left over.

    Matching is a maximum bipartite matching (an expected item may match several actual
    ones), so the outcome does not depend on the order of the expectations. The diff shows
    matched items identically on both sides, each unmatched expected item next to the
    unmatched actual item most like it, and the leftover actual items at the end.
    """
    matched = _matching(expected, actual)
    if len(matched) == len(expected) == len(actual):
        return None
    used = set(matched.values())
    expected_lines = [_render_partial(item) for item in expected]
    actual_lines: list[str] = []
    for index, item in enumerate(expected):
        if index in matched:
            actual_lines.append(expected_lines[index])
            continue
        nearest = _nearest(item, actual, used)
        if nearest is not None:
            used.add(nearest)
            actual_lines.append(_render_actual(actual[nearest], item.names, item.short))
    shown = [name for name in order if any(name in item.names for item in expected)]
    short = bool(expected) and all(item.short for item in expected)
    if not short and order[0] not in shown:
        shown.insert(0, order[0])  # leftovers always show their key or code
    for index, leftover in enumerate(actual):
        if index not in used:
            actual_lines.append(_render_actual(leftover, shown, short or not expected))
    return Mismatch(part, tuple(expected_lines), tuple(actual_lines))


def _matching(expected: Sequence[Partial], actual: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """expected index -> actual index, as many pairs as possible (Kuhn's algorithm)."""
    candidates = [
        [j for j, item in enumerate(actual) if _matches(partial, item)] for partial in expected
    ]
    owner: dict[int, int] = {}

    def assign(i: int, seen: set[int]) -> bool:
        for j in candidates[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or assign(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(len(expected)):
        assign(i, set())
    return {i: j for j, i in owner.items()}


def _matches(partial: Partial, actual: Mapping[str, Any]) -> bool:
    return all(_same(value, actual.get(name)) for name, value in partial.fields)


def _same(expected: Any, actual: Any) -> bool:
    """Equal as the author means it: numbers by value (`10` is `10.00`), times as instants."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, int | Decimal) and isinstance(actual, int | Decimal):
        return Decimal(expected) == Decimal(actual)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(
            _same(value, actual[name]) for name, value in expected.items()
        )
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(
            _same(e, a) for e, a in zip(expected, actual, strict=True)
        )
    return bool(expected == actual)


def _nearest(partial: Partial, actual: Sequence[Mapping[str, Any]], used: set[int]) -> int | None:
    """The unmatched actual item with the same key, rule or code as `partial` that agrees with
    most of its fields, so that a wrong value shows as a changed line rather than as a
    missing item and an extra one."""
    identity = [(n, v) for n, v in partial.fields if n in ("key", "rule", "code")]
    best: tuple[int, int] | None = None
    best_index = None
    for index, item in enumerate(actual):
        if index in used:
            continue
        same_identity = sum(1 for name, value in identity if _same(value, item.get(name)))
        if identity and not same_identity:
            continue
        agree = sum(1 for name, value in partial.fields if _same(value, item.get(name)))
        if best is None or (same_identity, agree) > best:
            best, best_index = (same_identity, agree), index
    return best_index


def _compare_progress(expected: Sequence[Partial], actual: Sequence[Progress]) -> Mismatch | None:
    """Progress entries are found by rule; entries the case does not list are not compared."""
    by_rule = {p.rule: _progress_fields(p) for p in actual}
    expected_lines: list[str] = []
    actual_lines: list[str] = []
    differs = False
    for item in expected:
        rule = dict(item.fields)["rule"]
        line = _render_partial(item)
        expected_lines.append(line)
        found = by_rule.get(rule)
        if found is not None and _matches(item, found):
            actual_lines.append(line)
            continue
        differs = True
        if found is not None:
            actual_lines.append(_render_actual(found, item.names, False))
    return Mismatch("progress", tuple(expected_lines), tuple(actual_lines)) if differs else None


# -- rendering ----------------------------------------------------------------------------------


def _render_partial(item: Partial) -> str:
    if item.short:
        return _flow(item.fields[0][1])
    return _flow(dict(item.fields))


def _render_actual(item: Mapping[str, Any], names: Iterable[str], short: bool) -> str:
    chosen = list(names)
    if short:
        return _flow(item.get(chosen[0]))
    return _flow({name: item.get(name) for name in chosen})


# Text that YAML reads back as the same text, also inside `{...}` (so no `,`, `:` or `#`).
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./@+-]*(?: [A-Za-z0-9_./@+()£$€-]+)*")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "~"}


def _flow(value: Any) -> str:
    """A value in YAML flow style, stable and on one line: `{key: a/1, points: 5}`."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return money_text(value)
    if isinstance(value, datetime):
        return format_time(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED and ": " not in text:
        return text
    return json.dumps(text, ensure_ascii=False)
