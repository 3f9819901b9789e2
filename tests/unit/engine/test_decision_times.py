"""Decision timestamps are UTC in the Python API, as docs/engine.md says (the JSON always was):
an expiry warning (Toronto) and a birthday reward (London) carried `ZoneInfo` times, the
zone their arithmetic was done in."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ruleengine import Engine, load_ruleset

EXAMPLES = Path(__file__).parent.parent.parent.parent / "examples"


@pytest.mark.parametrize(
    ("rules", "customer", "now", "kinds"),
    [
        ("maple-loyalty", "maple-theo", "2026-03-12T00:00:00Z", {"expiry_warning"}),
        ("maple-loyalty", "maple-nadia", "2028-01-01T00:00:00Z", {"expiry_warning"}),
        ("urban-threads", "urban-grace", "2026-03-12T00:00:00Z", {"reward"}),
    ],
)
def test_decision_times_are_utc(rules: str, customer: str, now: str, kinds: set[str]) -> None:
    engine = Engine(load_ruleset(EXAMPLES / "rules" / f"{rules}.yaml"))
    snapshot = json.loads((EXAMPLES / "snapshots" / f"{customer}.json").read_text())
    snapshot["granted"] = []
    decisions = engine.evaluate(snapshot, now=datetime.fromisoformat(now)).decisions
    assert kinds <= {d.kind for d in decisions}
    for decision in decisions:
        assert decision.achieved_at.tzinfo is UTC, decision.key
        assert decision.available_at is None or decision.available_at.tzinfo is UTC


INACTIVE = """version: 1
program: quiet
currency: CAD
timezone: America/Toronto
milestones:
  - id: win-back
    name: We miss you
    type: inactivity
    target: 30d
    reward: {rewards: [{points: 100}]}
"""


def test_an_inactivity_step_counts_local_days_across_a_dst_change() -> None:
    """`30d` completes 720 hours after the order (00:30 EDT, so 23:30 EST the day before the
    wall-clock date), but the customer is told about 30 days, not 29."""
    engine = Engine(load_ruleset(INACTIVE))
    order = {"type": "order", "id": "o1", "at": "2026-10-15T04:30:00Z", "subtotal": "20"}
    snapshot = {"customer": {"id": "c1"}, "activity": [order]}
    result = engine.evaluate(snapshot, now=datetime(2026, 10, 20, 12, tzinfo=UTC))
    (progress,) = result.progress
    assert (progress.current, progress.target, progress.remaining) == (
        5,
        30,
        "25 more days without an order",
    )
    done = engine.evaluate(snapshot, now=datetime(2026, 11, 14, 4, 30, tzinfo=UTC))
    assert [d.achieved_at for d in done.decisions if d.rule == "win-back"] == [
        datetime(2026, 11, 14, 4, 30, tzinfo=UTC)
    ]
