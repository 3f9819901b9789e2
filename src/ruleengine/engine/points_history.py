"""The customer's points history (`Engine.timeline`, `ruleengine timeline`): every ledger
entry in time order, with the points and the balance after each, in words a support agent can
paste to the customer.

Not to be confused with `engine.timeline`, the activity index the rules read: this is the
customer-facing story of their points, made from the points ledger's entries
(`engine.ledger`). It answers "Why did I receive these points?" (each earning names its rule
and activity, and when pending points became active) and "Why is my balance what it is?"
(redemptions with their coupons, revokes, adjustments with their note and message,
reversals and expirations).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from ruleengine.engine.decisions import format_time
from ruleengine.engine.json_text import dumps_indented, dumps_line
from ruleengine.engine.ledger_types import Balance, LedgerEntry
from ruleengine.engine.result_json import history_text


@dataclass(frozen=True)
class PointsHistory:
    """One customer's points history at `now`."""

    program: str
    customer: str
    now: datetime
    zone: tzinfo
    entries: tuple[LedgerEntry, ...]
    balance: Balance

    def to_json(self) -> dict[str, Any]:
        return {
            "program": self.program,
            "customer": self.customer,
            "evaluated_at": format_time(self.now),
            "entries": [entry.to_json() for entry in self.entries],
            "balance": self.balance.to_json(),
        }

    def dumps(self, *, indent: int | None = 2) -> str:
        """`json.dumps(self.to_json(), indent=indent, ensure_ascii=False)`, byte for byte; one
        line and `indent=2` (the command line, the service) are written straight from the
        history's objects (`engine.result_json`)."""
        if indent is None or indent == 2:
            try:
                return history_text(self, indented=indent == 2)
            except TypeError:  # a value of a type the writer leaves to the standard library
                json_ready = self.to_json()
                return dumps_line(json_ready) if indent is None else dumps_indented(json_ready)
        return json.dumps(self.to_json(), indent=indent, ensure_ascii=False)

    def render_text(self) -> str:
        """The history as lines: local time (ruleset zone), signed points, balance, words."""
        lines = [f"{self.program} · customer {self.customer} · {self.now.isoformat()}", ""]
        if not self.entries:
            lines.append("No points activity yet.")
        for entry in self.entries:
            local = entry.at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")
            change = f"{entry.points:+d}" if entry.points else "·"
            lines.append(f"{local}  {change:>7}  balance {entry.balance:>6}  {entry.text}")
        balance = self.balance
        lines += [
            "",
            f"Balance: {balance.active} active, {balance.pending} pending "
            f"(earned {balance.earned}, adjusted {balance.adjusted:+d}, "
            f"redeemed {balance.redeemed}, expired {balance.expired})",
        ]
        return "\n".join(lines)
