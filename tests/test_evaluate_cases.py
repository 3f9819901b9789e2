"""Engine decisions, progress and explanations on realistic data (tests/cases/evaluate)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from caseio import load_cases
from ruleengine import load_ruleset
from ruleengine.engine import Engine

CASES = Path(__file__).parent / "cases" / "evaluate"
FILES = ["milestones.yaml", "earning.yaml"]


def params() -> list[Any]:
    found = []
    for name in FILES:
        path = CASES / name
        if path.exists():
            for case in load_cases(path):
                found.append(pytest.param(case, id=f"evaluate/{name}::{case['name']}"))
    return found


def subset(actual: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    return {key: actual.get(key) for key in expected}


@pytest.mark.parametrize("case", params())
def test_evaluate_case(case: dict[str, Any]) -> None:
    engine = Engine(load_ruleset(case["rules"]))
    now = datetime.fromisoformat(case["now"])
    result = engine.evaluate(case["snapshot"], now=now, explain=True)
    output = result.to_json()
    assert [d["key"] for d in output["decisions"]] == case["decisions"]
    by_key = {d["key"]: d for d in output["decisions"]}
    for key, expected in case.get("details", {}).items():
        assert subset(by_key[key], expected) == expected, key
    progress = {p["rule"]: p for p in output["progress"]}
    for rule, expected in case.get("progress", {}).items():
        assert subset(progress[rule], expected) == expected, rule
    explanations = [e.to_json() for e in result.explanations]
    for expected in case.get("explanations", []):
        assert any(subset(e, expected) == expected for e in explanations), expected
    assert [p["code"] for p in output["problems"]] == case.get("problems", [])
    # Determinism: the same input gives the same output, to the byte.
    assert engine.evaluate(case["snapshot"], now=now, explain=True).dumps() == result.dumps()
