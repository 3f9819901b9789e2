"""The engine's internal records are msgspec structs (made in C at start-up); what a host
receives stays frozen dataclasses, so `dataclasses.asdict`, `replace` and `fields` keep
working on results, snapshots, points histories and snapshot problems. The records the engine
compares by value (the tier replay's changes end its rounds) still do."""

from __future__ import annotations

import dataclasses
import json
import pickle
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ruleengine import Engine, SnapshotError, load_ruleset
from ruleengine.engine.ledger_types import Award
from ruleengine.engine.tiers import Contribution, TierChange, TierReplay, TierState

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _engine_and_data(rules: str, snapshot: str) -> tuple[Engine, dict[str, Any]]:
    engine = Engine(load_ruleset(str(EXAMPLES / "rules" / rules)))
    data = json.loads((EXAMPLES / "snapshots" / snapshot).read_text(encoding="utf-8"))
    return engine, data


def test_a_result_with_tiers_and_redeeming_is_dataclasses_all_the_way_down() -> None:
    engine, data = _engine_and_data("aurora-beauty.yaml", "aurora-lea.json")
    result = engine.evaluate(data, now=NOW, explain=True)
    plain = dataclasses.asdict(result)
    assert [d["key"] for d in plain["decisions"]] == [d.key for d in result.decisions]
    assert plain["ledger"]["tier"] == result.ledger["tier"] is not None  # JSON-ready, as before
    assert plain["explanations"] and plain["decisions"]
    again = dataclasses.replace(result, customer="someone-else")
    assert again.decisions == result.decisions and again.customer == "someone-else"
    assert pickle.loads(pickle.dumps(result)) == result  # what batch workers send back


def test_a_snapshot_and_a_points_history_stay_dataclasses() -> None:
    engine, data = _engine_and_data("maple-loyalty.yaml", "maple-nadia.json")
    snapshot = engine.read_snapshot(data)
    assert dataclasses.replace(snapshot, granted=frozenset()).customer_id == snapshot.customer_id
    history = engine.timeline(snapshot, now=NOW)
    plain = dataclasses.asdict(history)
    assert plain["entries"]
    assert [e["key"] for e in plain["entries"]] == [e.key for e in history.entries]
    assert plain["balance"] == history.balance.to_json()
    assert [f.name for f in dataclasses.fields(history.balance)] == list(plain["balance"])


def test_a_snapshot_problem_stays_a_dataclass_and_pickles_with_its_error() -> None:
    engine, data = _engine_and_data("acme.yaml", "acme-maria.json")
    with pytest.raises(SnapshotError) as caught:
        engine.read_snapshot({**data, "customer": {**data["customer"], "id": 7}})
    problem = caught.value.problems[0]
    assert dataclasses.asdict(problem)["path"] == problem.path == "$.customer.id"
    assert pickle.loads(pickle.dumps(caught.value)).problems == caught.value.problems


def test_tier_changes_compare_and_hash_by_value() -> None:
    # `decide_with_tiers` stops its rounds when two replays' changes are equal.
    at = datetime(2026, 2, 5, 10, tzinfo=UTC)
    first = TierChange(1, 0, at, "o2", "lifetime")
    assert first == TierChange(1, 0, at, "o2", "lifetime", "upgrade")
    assert hash(first) == hash(TierChange(1, 0, at, "o2", "lifetime"))
    assert first != TierChange(1, 0, at + timedelta(seconds=1), "o2", "lifetime")
    state = TierState(1, at, "o2", Decimal("612.50"), None)
    assert TierReplay((first,), state) == TierReplay((first,), state)
    assert {Contribution(at, Decimal("1"), None), Contribution(at, Decimal("1.0"), None)} == {
        Contribution(at, Decimal("1"), None)
    }
    with pytest.raises(AttributeError):
        first.level = 2  # type: ignore[misc]


def test_an_award_is_made_from_positions_or_keywords_alike() -> None:
    # Award lost its hand-written __init__ (msgspec's is made in C): the same fields in order.
    at = datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
    later = at + timedelta(days=14)
    by_position = Award("rule/o1", "rule", "o1", -40, at, later, "tier", "reaching Gold")
    by_keyword = Award(
        key="rule/o1",
        rule="rule",
        activity="o1",
        points=-40,
        at=at,
        active_at=later,
        source="tier",
        label="reaching Gold",
    )
    assert by_position == by_keyword and by_position.label == "reaching Gold"
    assert Award("k", None, None, 5, at, at, "earning").label is None
    with pytest.raises(AttributeError):
        by_position.points = 0  # type: ignore[misc]
