"""The golden corpus of rule files and the exact diagnostics the checker gives for them.

Every `tests/cases/check/*.yaml` file is a list of cases:

    - name: misspelled_customer_field      # unique in its file; the test id is
      rules: |                             #   check/<file>::<name>
        version: 1
        ...
      today: 2026-06-01                    # optional: passed to check_source as `today`
      now: 2026-06-01T02:00:00Z            # optional: passed to check_source as `now`
      xfail: "why the checker is wrong"    # optional: a known bug; `expect` is the right output
      raises: true                         # optional, with xfail: check_source currently raises
      expect:                              # EVERY diagnostic, in the checker's order
        - {code: RE402, line: 9, column: 20, hint: "did you mean `customer.tier`?"}

Each expected diagnostic gives `code`, `line` and `column`, and optionally `severity`,
`message`, `hint`, `end_line` and `end_column`. The actual diagnostics are reduced to the keys
each expected entry gives and compared with `expect` as a whole, so a missing, extra or
reordered diagnostic fails the case as much as a changed message does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
import yaml

from caseio import CASES_ROOT, UPDATE_GOLDEN, case_files, update_golden
from ruleengine.diagnostics.codes import CODES
from ruleengine.diagnostics.diagnostic import Diagnostic
from ruleengine.diagnostics.source import SourceFile
from ruleengine.rules.ruleset import CheckResult, check_source

CASES_DIR = CASES_ROOT / "check"

CASE_KEYS = {"name", "rules", "today", "now", "expect", "xfail", "raises"}
REQUIRED_CASE_KEYS = {"name", "rules", "expect"}
RECORD_KEYS = ("code", "line", "column", "severity", "message", "hint", "end_line", "end_column")
REQUIRED_RECORD_KEYS = {"code", "line", "column"}
# What an unexpected extra diagnostic shows in a failure report.
EXTRA_KEYS = ("code", "line", "column", "severity", "message", "hint")


@dataclass(frozen=True)
class Case:
    file: str
    name: str
    rules: str
    today: date | None
    now: datetime | None
    expect: list[dict[str, Any]]
    xfail: str | None
    raises: bool

    @property
    def id(self) -> str:
        return f"check/{self.file}::{self.name}"


def _today(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _now(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def load_cases() -> list[Case]:
    cases: list[Case] = []
    for path in case_files("check"):
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(entries, list), f"{path.name}: a corpus file is a list of cases"
        for entry in entries:
            assert isinstance(entry, dict), f"{path.name}: a case is a mapping: {entry!r}"
            cases.append(
                Case(
                    file=path.name,
                    name=str(entry.get("name")),
                    rules=entry.get("rules"),
                    today=_today(entry.get("today")),
                    now=_now(entry.get("now")),
                    expect=entry.get("expect"),
                    xfail=entry.get("xfail"),
                    raises=bool(entry.get("raises", False)),
                )
            )
    return cases


CASES = load_cases()
RAW_ENTRIES = {
    path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in case_files("check")
}


def _params(*, for_raising: bool) -> list[Any]:
    params = []
    for case in CASES:
        marks = []
        if for_raising:
            if case.raises:
                marks.append(pytest.mark.xfail(strict=True, reason=case.xfail or "raises"))
        elif case.xfail:
            marks.append(pytest.mark.xfail(strict=True, reason=case.xfail))
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


def run(case: Case) -> CheckResult:
    return check_source(SourceFile(f"{case.name}.yaml", case.rules), today=case.today, now=case.now)


def record(diagnostic: Diagnostic, keys: tuple[str, ...] | list[str]) -> dict[str, Any]:
    full: dict[str, Any] = {
        "code": diagnostic.code,
        "line": diagnostic.line,
        "column": diagnostic.column,
        "severity": diagnostic.severity.value,
        "message": diagnostic.message,
        "hint": diagnostic.hint,
        "end_line": diagnostic.end_line,
        "end_column": diagnostic.end_column,
    }
    return {key: full[key] for key in keys}


# -- the corpus itself -------------------------------------------------------------------------


def test_corpus_is_well_formed() -> None:
    assert CASES, f"no cases found in {CASES_DIR}"
    for file, entries in RAW_ENTRIES.items():
        names = [entry.get("name") for entry in entries]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        assert not duplicates, f"{file}: duplicate case names {duplicates}"
        for entry in entries:
            where = f"{file}::{entry.get('name')}"
            assert REQUIRED_CASE_KEYS <= entry.keys() <= CASE_KEYS, f"{where}: keys {entry.keys()}"
            assert isinstance(entry["rules"], str), f"{where}: `rules` must be text"
            assert isinstance(entry["expect"], list), f"{where}: `expect` must be a list"
            assert "raises" not in entry or entry.get("xfail"), f"{where}: `raises` needs `xfail`"
            for expected in entry["expect"]:
                assert REQUIRED_RECORD_KEYS <= expected.keys() <= set(RECORD_KEYS), (
                    f"{where}: expected diagnostic keys {expected.keys()}"
                )
                assert expected["code"] in CODES, f"{where}: unknown code {expected['code']}"


def test_corpus_has_enough_invalid_cases() -> None:
    invalid = [case for case in CASES if any(_is_error(e) for e in case.expect)]
    assert len(invalid) >= 70


def _is_error(expected: dict[str, Any]) -> bool:
    return expected.get("severity", CODES[expected["code"]].severity) == "error"


# -- the cases ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _params(for_raising=False))
def test_check_case(case: Case) -> None:
    diagnostics = run(case).diagnostics
    actual = [
        record(d, [k for k in RECORD_KEYS if k in case.expect[i]])
        if i < len(case.expect)
        else record(d, EXTRA_KEYS)
        for i, d in enumerate(diagnostics)
    ]
    if UPDATE_GOLDEN and actual != case.expect and not case.xfail:
        update_golden(CASES_DIR / case.file, case.name, "expect", actual)
        return
    assert actual == case.expect


@pytest.mark.parametrize("case", _params(for_raising=True))
def test_check_source_never_raises(case: Case) -> None:
    result = run(case)
    assert isinstance(result, CheckResult)
    assert all(isinstance(d, Diagnostic) for d in result.diagnostics)
    # A ruleset comes back exactly when there is no error; warnings do not count.
    assert result.ok == (not any(d.is_error for d in result.diagnostics))
