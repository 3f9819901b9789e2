"""Static types of expressions, and the diagnostics of ill-typed ones (tests/cases/types)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from caseio import CASES_ROOT, case_files, expect_golden
from ruleengine.api import compile_expression
from ruleengine.diagnostics.diagnostic import RuleSetError
from ruleengine.expr.scope import Scope
from ruleengine.rules.vocabulary import earning_scope, milestone_scope

CASES = CASES_ROOT / "types"


def load_cases() -> list[Any]:
    params = []
    for path in case_files("types"):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            params.append(pytest.param(case, id=f"types/{path.name}::{case['name']}"))
    return params


def scope_of(case: dict[str, Any]) -> Scope:
    if case.get("scope") == "milestone":
        return milestone_scope({})
    return earning_scope(case.get("trigger", "order"), {}, {})


@pytest.mark.parametrize("case", load_cases())
def test_typing_case(case: dict[str, Any]) -> None:
    if "type" in case:
        actual = str(compile_expression(case["expr"], scope_of(case)).type)
        expect_golden("types", case["name"], "type", actual, case["type"])
        return
    with pytest.raises(RuleSetError) as raised:
        compile_expression(case["expr"], scope_of(case))
    expected = case["error"]
    actual = [{key: getattr(d, key) for key in expected} for d in raised.value.diagnostics]
    assert actual == [expected]
