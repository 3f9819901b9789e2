"""The golden parse corpus: `tests/cases/parse/*.yaml`, one test per case.

A case is either a success (`sexpr`, the exact tree, and optionally `source`, the exact
canonical text from `to_source`) or an error (`error`: code, line and column, optionally the
hint). Every success is also printed back with `to_source` and reparsed, which must give the
same tree: that is the formatter's safety property.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from caseio import CASES_ROOT, case_files, expect_golden
from ruleengine.expr.ast import Expr
from ruleengine.expr.parser import ExpressionSource, parse_expression
from ruleengine.expr.printer import to_sexpr, to_source

CASES_DIR = CASES_ROOT / "parse"
CASE_KEYS = {"name", "expr", "sexpr", "source", "error"}
ERROR_KEYS = {"code", "line", "column", "hint", "message"}


@dataclass(frozen=True)
class Case:
    id: str
    expr: str
    sexpr: str | None
    source: str | None
    error: dict[str, Any] | None


def _load_cases() -> list[Case]:
    cases: list[Case] = []
    for path in case_files("parse"):
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(entries, list), f"{path.name}: a case file is a YAML list"
        for entry in entries:
            case_id = f"parse/{path.name}::{entry.get('name')}"
            assert set(entry) <= CASE_KEYS, f"{case_id}: unknown keys {set(entry) - CASE_KEYS}"
            # YAML turns unquoted `1`, `true`, `null` into other types: insist on text.
            for key in ("name", "expr", "sexpr", "source"):
                assert key not in entry or isinstance(entry[key], str), f"{case_id}: {key} text"
            assert ("sexpr" in entry) != ("error" in entry), f"{case_id}: sexpr xor error"
            error = entry.get("error")
            if error is not None:
                assert {"code", "line", "column"} <= set(error) <= ERROR_KEYS, case_id
            cases.append(
                Case(case_id, entry["expr"], entry.get("sexpr"), entry.get("source"), error)
            )
    return cases


CASES = _load_cases()


def _parse(text: str) -> Expr:
    expr, diagnostics = parse_expression(ExpressionSource.standalone(text))
    assert diagnostics == [], [f"{d.code} {d.column}: {d.message}" for d in diagnostics]
    assert expr is not None
    return expr


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_parse_case(case: Case) -> None:
    expr, diagnostics = parse_expression(ExpressionSource.standalone(case.expr))
    if case.error is None:
        assert diagnostics == []
        assert expr is not None
        name = case.id.split("::", 1)[1]
        expect_golden("parse", name, "sexpr", to_sexpr(expr), " ".join(str(case.sexpr).split()))
        source = to_source(expr)
        if case.source is not None:
            assert source == case.source
        reparsed = _parse(source)
        assert to_sexpr(reparsed) == to_sexpr(expr), f"round trip through {source!r}"
        assert to_source(reparsed) == source
    else:
        assert expr is None
        assert len(diagnostics) >= 1
        first = diagnostics[0]
        got = {"code": first.code, "line": first.line, "column": first.column}
        want = {key: case.error[key] for key in ("code", "line", "column")}
        if "hint" in case.error:
            got["hint"], want["hint"] = first.hint, case.error["hint"]
        if "message" in case.error:
            got["message"], want["message"] = first.message, case.error["message"]
        assert got == want, first.message
        # The message contract: one line, lower-case start, no trailing period.
        assert "\n" not in first.message
        assert first.message[:1].islower()
        assert not first.message.endswith(".")
