"""Result JSON keeps its bytes: the batch line's encoder is `json.dumps`'s, made once.

`EvaluationResult.dumps(indent=None)` (every `--snapshots` line) encodes with one shared
encoder instead of `json.dumps` per call; the text must be exactly what `json.dumps` writes,
key order, separators and non-ASCII text included, for every bundled example customer.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ruleengine import Engine, load_ruleset

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
SNAPSHOTS = sorted((EXAMPLES / "snapshots").glob("*.json"))


@pytest.mark.parametrize("path", SNAPSHOTS, ids=[p.stem for p in SNAPSHOTS])
def test_batch_line_bytes_are_json_dumps_bytes(path: Path) -> None:
    prefix = path.stem.split("-")[0]  # acme-maria.json -> acme.yaml, maple-* -> maple-loyalty
    (rules,) = [
        p for p in (EXAMPLES / "rules").glob(f"{prefix}*.yaml") if not p.name.endswith(".test.yaml")
    ]
    engine = Engine(load_ruleset(rules))
    snapshot = json.loads(path.read_text(encoding="utf-8"))
    snapshot["customer"]["email"] = "zoë@例え.jp"  # non-ASCII text stays as it is
    result = engine.evaluate(snapshot, now=NOW)
    assert result.decisions or result.progress or result.to_json()["tier"]  # something in it
    line = result.dumps(indent=None)
    assert line == json.dumps(result.to_json(), ensure_ascii=False)
    assert result.dumps() == json.dumps(result.to_json(), indent=2, ensure_ascii=False)
    assert json.loads(line) == result.to_json()
