"""Explanation helpers of the engine: why an earning rule had nothing to decide, and the
values a condition read (`customer.tags = ["wholesale"]`), in words for a support agent."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from ruleengine.engine.activity import utc
from ruleengine.engine.snapshot import Snapshot
from ruleengine.engine.timeline import window_bounds
from ruleengine.expr.ast import Expr, FieldAccess, child_nodes
from ruleengine.expr.checked import path_of
from ruleengine.expr.program import Env
from ruleengine.rules.models import EarningRule


def why_nothing(
    rule: EarningRule, snapshot: Snapshot, now: datetime, zone: tzinfo
) -> tuple[str, str]:
    """Why an earning rule had nothing to decide for this customer: a status and a reason."""
    if not rule.enabled:
        return "disabled", "the rule is disabled (`enabled: false`)"
    if snapshot.customer.get("excluded"):
        return "not_eligible", "the customer is excluded from the program"
    start, end = window_bounds(rule.active, zone)
    if start is not None and now < start:
        assert rule.active is not None
        return "inactive", f"not active until {rule.active.from_}"
    if rule.on == "birthday":
        if snapshot.customer.get("birthday") is None:
            return "no_activity", "the customer has no `birthday` in the snapshot"
        return "no_activity", "no birthday of the customer's is due for a reward before now"
    kind = {"subscription_order": "order", "referral_converted": "referral"}.get(rule.on, rule.on)
    moment = utc(now)
    if end is not None and end <= moment:
        assert rule.active is not None
        ended = f" (the rule ended on {rule.active.until})"
    else:
        ended = ""
    if not any(a.type == kind and a.at <= moment for a in snapshot.activity):
        return "no_activity", f"no `{kind}` activity in the snapshot before now{ended}"
    return "no_activity", f"no `{kind}` activity gave the rule anything to decide{ended}"


def field_values(root: Expr, env: Env) -> list[str]:
    """`customer.tags = ["wholesale"]` for each field path a condition reads."""
    seen: dict[str, str] = {}
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, FieldAccess):
            path = path_of(node)
            if path is not None and "[" not in path:  # plain field paths only
                value = _read(env.variables, path)
                seen.setdefault(path, _show(value))
                continue
        stack.extend(child_nodes(node))
    return [f"{path} = {value}" for path, value in sorted(seen.items())]


def _read(variables: Mapping[str, Any], path: str) -> Any:
    root, *fields = path.split(".")
    value: Any = variables.get(root)
    for name in fields:
        value = value.get(name) if isinstance(value, Mapping) else None
    return value


def _show(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return repr(value)
