"""A host types its code with `ruleengine`'s names alone: every type the public API returns
is exported, and a consumer written against them passes `mypy --strict` (with
`--disallow-any-expr`, so a name only the package's lazy `__getattr__` gives, typed `Any`,
fails it)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import ruleengine

# What the public API returns, by the name a host annotates it with.
RETURNED = {
    "Snapshot": "ruleengine.engine.snapshot",  # Engine.read_snapshot
    "SnapshotProblem": "ruleengine.engine.snapshot_json",  # SnapshotError.problems
    "PointsHistory": "ruleengine.engine.points_history",  # Engine.timeline
    "RewardGrant": "ruleengine.engine.decisions",  # Decision.rewards
    "RuntimeProblem": "ruleengine.engine.decisions",  # EvaluationResult.problems
    "CoercionError": "ruleengine.expr.coerce",  # a value that does not fit its type
}


@pytest.mark.parametrize("name", sorted(RETURNED))
def test_each_returned_type_is_exported_by_its_own_class(name: str) -> None:
    assert name in ruleengine.__all__
    exported = getattr(ruleengine, name)
    assert exported.__module__ == RETURNED[name]
    assert name in dir(ruleengine)


CONSUMER = """
from __future__ import annotations

from datetime import UTC, datetime

from ruleengine import (
    CoercionError,
    Decision,
    Engine,
    EvaluationResult,
    Explanation,
    PointsHistory,
    RewardGrant,
    RuntimeProblem,
    Snapshot,
    SnapshotError,
    SnapshotProblem,
    load_ruleset,
)


def rewards(decision: Decision) -> list[RewardGrant]:
    return list(decision.rewards)


def run(rules: str) -> list[str]:
    engine = Engine(load_ruleset(rules))
    now = datetime(2026, 6, 1, tzinfo=UTC)
    customer: dict[str, str] = {"id": "c"}
    data: dict[str, object] = {"customer": customer, "activity": [customer]}
    try:
        snapshot: Snapshot = engine.read_snapshot(data)
    except SnapshotError as error:
        problems: list[SnapshotProblem] = error.problems
        return [p.code for p in problems]
    history: PointsHistory = engine.timeline(snapshot, now=now)
    explained: list[Explanation] = engine.explain(snapshot, now=now)
    result: EvaluationResult = engine.evaluate(snapshot, now=now)
    runtime: list[RuntimeProblem] = list(result.problems)
    granted = [g for d in result.decisions for g in rewards(d)]
    seen: list[str] = [snapshot.customer_id, history.customer, *map(str, granted)]
    return seen + [e.rule for e in explained] + [p.code for p in runtime]


def located(error: CoercionError) -> str:
    return f"{error.path}: {error.message}"
"""


def test_a_consumer_using_only_public_names_passes_mypy_strict(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    consumer = tmp_path / "consumer.py"
    consumer.write_text(textwrap.dedent(CONSUMER), encoding="utf-8")
    out, err, status = api.run(
        [
            "--strict",
            "--disallow-any-expr",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(consumer),
        ]
    )
    assert status == 0, out + err
