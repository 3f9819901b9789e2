"""Evaluation results for people: decisions, progress bars and explanations as text."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from ruleengine.engine.decisions import (
    Decision,
    EvaluationResult,
    Explanation,
    Progress,
    money_text,
)
from ruleengine.engine.wording import count, money, percent

BAR_WIDTH = 20


def progress_bar(
    current: int | Decimal, pending: int | Decimal, target: int | Decimal, width: int = BAR_WIDTH
) -> str:
    """`[#######+++---------]`: counted (#), pending within a refund hold (+), still to go (-)."""
    if target <= 0:
        return "[" + "#" * width + "]"
    done = min(width, int(Decimal(current) * width / Decimal(target)))
    waiting = min(width - done, int(Decimal(pending) * width / Decimal(target)))
    return "[" + "#" * done + "+" * waiting + "-" * (width - done - waiting) + "]"


def _number(value: int | Decimal) -> str:
    return money_text(value) if isinstance(value, Decimal) else str(value)


def describe_rewards(decision: Decision, currency: str) -> str:
    parts = []
    if decision.tier is not None:  # a tier change: the move, then its entry reward if any
        move = f"tier {decision.tier[0]} → {decision.tier[1]}"
        if not decision.rewards:
            return move
        return f"{move}: {describe_rewards(replace(decision, tier=None), currency)}"
    for reward in decision.rewards:
        if reward.type == "points":
            assert reward.value is not None  # a points reward always has its number
            parts.append(count(reward.value, "point"))
        elif reward.type in ("store_credit", "discount_amount"):
            assert isinstance(reward.value, Decimal)
            label = "store credit" if reward.type == "store_credit" else "off"
            parts.append(f"{money(reward.value, currency)} {label}")
        elif reward.type == "discount_percentage":
            assert isinstance(reward.value, Decimal)
            parts.append(f"{percent(reward.value)} off")
        elif reward.type == "free_shipping":
            parts.append("free shipping")
        else:
            parts.append(f"free gift {reward.product}")
    if decision.logic == "customer_picks":
        return f"pick {decision.pick} of: " + ", ".join(parts)
    return ", ".join(parts)


def render_result_text(result: EvaluationResult, currency: str) -> str:
    lines = [
        f"{result.program} · customer {result.customer} · {result.evaluated_at.isoformat()}",
        f"ruleset {result.ruleset_hash}",
        "",
    ]
    if result.decisions:
        lines.append(f"Decisions ({len(result.decisions)}):")
        width = max(len(d.key) for d in result.decisions)
        for decision in result.decisions:
            status = "" if decision.status == "granted" else f"  [{decision.status}]"
            if decision.kind in ("points_expired", "expiry_warning"):  # which way they go
                status += "  [expired]" if decision.kind == "points_expired" else "  [warning]"
            lines.append(
                f"  {decision.key:<{width}}  {describe_rewards(decision, currency)}{status}"
            )
    else:
        lines.append("Decisions: none")
    if result.progress:
        lines += ["", "Progress:"]
        width = max(len(p.rule) for p in result.progress)
        for item in result.progress:
            lines.append("  " + _progress_line(item, width))
    tier = result.ledger.get("tier")
    if tier is not None:
        lines += ["", *tier_lines(tier, currency)]
    if result.problems:
        lines += ["", "Problems:"]
        for problem in result.problems:
            if problem.path is not None:  # a points-ledger problem: a place in the snapshot
                lines.append(
                    f"  {problem.file}: {problem.path}: error[{problem.code}] {problem.message}"
                )
                continue
            lines.append(
                f"  {problem.file}:{problem.line}:{problem.column}: "
                f"error[{problem.code}] {problem.message} (rule `{problem.rule}`)"
            )
    return "\n".join(lines)


def tier_lines(tier: dict[str, Any], currency: str) -> list[str]:
    """The result's `tier` in words, with a bar from the tier points to the next level's
    threshold (`remaining` more than the points already counted); at the top level, the tier
    points alone (money spent, a decimal string, as an amount in `currency`). A customer the
    store set below what their tier points reach (`remaining` 0) is told that instead of a
    full bar with "0 more"."""
    head = f"Tier: {tier['name']} ({tier['current']})"
    if tier["since"] is not None:
        head += f" since {tier['since']}"
    if tier["qualifying"] is not None:
        head += f", qualifying {tier['qualifying']}"
    if tier["period_end"] is not None:
        head += f"; re-assessed {tier['period_end']}"
    if tier["next"] is None:
        points_text = tier["tier_points"]
        if isinstance(points_text, str):  # an `amount_spent` tier: money
            return [head, f"  {money(Decimal(points_text), currency)} spent: the top level"]
        return [head, f"  {points_text} tier points: the top level"]
    points = Decimal(str(tier["tier_points"]))
    remaining = Decimal(str(tier["remaining"]))
    if remaining <= 0:  # only the store's `tier_change` leaves a customer below their points
        counted = tier["tier_points"]
        if isinstance(counted, str):  # an `amount_spent` tier: money
            counted = f"{money(points, currency)} spent"
        else:
            counted = f"{counted} tier points"
        return [
            head,
            f"  {progress_bar(points, 0, points)} {counted}: already enough for "
            f"{tier['next']}; the level rises with the next activity that counts",
        ]
    target = points + remaining
    bar = progress_bar(max(points, Decimal(0)), 0, target)
    if isinstance(tier["remaining"], str):  # an `amount_spent` tier: money, as progress shows it
        spent = f"{money(points, currency)}/{money(target, currency)}"
        more = f"spend {money(remaining, currency)} more"
        return [head, f"  {bar} {spent}  {more} to reach {tier['next']}"]
    more = f"{tier['remaining']} more to {tier['next']}"
    return [head, f"  {bar} {tier['tier_points']}/{int(target)}  {more}"]


def _progress_line(item: Progress, width: int) -> str:
    step = f"step {item.step}/{item.steps}"
    bar = progress_bar(
        item.target if item.completed else item.current,
        0 if item.completed else item.pending,
        item.target,
    )
    amount = f"{_number(item.current)}/{_number(item.target)}"
    if item.pending:
        amount += f" (+{_number(item.pending)} pending)"
    tail = "completed" if item.completed else (item.remaining or "")
    label = f" — {item.description}" if item.description else ""
    return f"{item.rule:<{width}}  {step}  {bar} {amount}  {tail}{label}".rstrip()


def render_explanations_text(explanations: list[Explanation]) -> str:
    lines: list[str] = []
    for item in explanations:
        where = f" step {item.step}" if item.step is not None else ""
        activity = f" · {item.activity}" if item.activity else ""
        lines.append(f"{item.rule}{where}{activity}: {item.status.replace('_', ' ')}")
        lines.extend(f"    - {reason}" for reason in item.reasons)
    return "\n".join(lines) if lines else "no rules to explain"
