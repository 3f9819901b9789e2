"""Engine decisions, progress and explanations on realistic data (tests/cases/evaluate)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import jsonschema
import pytest

from caseio import CASES_ROOT, case_files, expect_golden, load_cases
from ruleengine import load_ruleset
from ruleengine.engine.engine import Engine
from ruleengine.engine.snapshot import SnapshotError
from ruleengine.schema_export import schema_text

CASES = CASES_ROOT / "evaluate"
RESULT_SCHEMA = jsonschema.Draft202012Validator(json.loads(schema_text("result")))


def params() -> list[Any]:
    found = []
    for path in case_files("evaluate"):
        for case in load_cases(path):
            marks = []
            if case.get("xfail"):  # a known engine bug: the case states the right output
                marks.append(pytest.mark.xfail(strict=True, reason=case["xfail"]))
            found.append(
                pytest.param(case, id=f"evaluate/{path.name}::{case['name']}", marks=marks)
            )
    return found


def subset(actual: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    return {key: actual.get(key) for key in expected}


@pytest.mark.parametrize("case", params())
def test_evaluate_case(case: dict[str, Any]) -> None:
    engine = Engine(load_ruleset(case["rules"]))
    now = datetime.fromisoformat(case["now"])
    if "snapshot_problems" in case:  # a snapshot the ruleset refuses: its problems, located
        with pytest.raises(SnapshotError) as refused:
            engine.evaluate(case["snapshot"], now=now)
        problems = [p.to_dict() for p in refused.value.problems]
        assert len(problems) == len(case["snapshot_problems"])
        for problem, expected in zip(problems, case["snapshot_problems"], strict=True):
            assert subset(problem, expected) == expected
        return
    result = engine.evaluate(case["snapshot"], now=now, explain=True)
    output = result.to_json()
    keys = [d["key"] for d in output["decisions"]]
    golden = {"update": not case.get("xfail")}
    expect_golden("evaluate", case["name"], "decisions", keys, case["decisions"], **golden)
    by_key = {d["key"]: d for d in output["decisions"]}
    for key, expected in case.get("details", {}).items():
        assert subset(by_key[key], expected) == expected, key
    progress = {p["rule"]: p for p in output["progress"]}
    for rule, expected in case.get("progress", {}).items():
        assert subset(progress[rule], expected) == expected, rule
    explanations = [e.to_json() for e in result.explanations]
    for expected in case.get("explanations", []):
        assert any(subset(e, expected) == expected for e in explanations), expected
    codes = [p["code"] for p in output["problems"]]
    expect_golden("evaluate", case["name"], "problems", codes, case.get("problems", []), **golden)
    for name in ("balance", "expiring", "redeemable", "coupons", "tier"):  # compared whole
        if name in case:
            assert output[name] == case[name], name
    for expected in case.get("problem_details", []):
        assert any(subset(p, expected) == expected for p in output["problems"]), expected
    balance = output["balance"]
    assert balance["active"] == (
        balance["earned"] + balance["adjusted"] - balance["redeemed"] - balance["expired"]
    )
    RESULT_SCHEMA.validate(output)
    if "timeline" in case:  # the tier entries of the customer's timeline, in order
        entries = engine.timeline(case["snapshot"], now=now).to_json()["entries"]
        tiers = [e for e in entries if e["kind"].startswith("tier_")]
        assert len(tiers) == len(case["timeline"]), tiers
        for entry, expected in zip(tiers, case["timeline"], strict=True):
            assert subset(entry, expected) == expected
    # Determinism: the same input gives the same output, to the byte.
    assert engine.evaluate(case["snapshot"], now=now, explain=True).dumps() == result.dumps()
