"""Rendering diagnostics: caret frames for people, JSON/GitHub/SARIF for tools."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from ruleengine.diagnostics.diagnostic import Diagnostic, Severity
from ruleengine.diagnostics.render import (
    caret_line,
    render_github,
    render_json,
    render_sarif,
    render_summary,
    render_text,
)

UNKNOWN_FIELD = Diagnostic(
    code="RE402",
    severity=Severity.ERROR,
    message="unknown field `teir` on `customer`",
    file="rules/vip.yaml",
    line=12,
    column=20,
    end_line=12,
    end_column=24,
    snippet='    when: customer.teir == "gold"',
    hint="did you mean `customer.tier`?",
    path=("earning", 0, "when"),
)


def test_caret_line_underlines_the_span() -> None:
    assert caret_line("abcdef", 2, 5) == " ^^^"


def test_caret_line_has_at_least_one_caret_and_keeps_tabs() -> None:
    assert caret_line("\tab", 2, 2) == "\t^"
    assert caret_line("abc", 2, None) == " ^^"


def test_text_frame_matches_the_ruff_style() -> None:
    assert render_text(UNKNOWN_FIELD) == (
        "rules/vip.yaml:12:20: error[RE402] unknown field `teir` on `customer`\n"
        "   |\n"
        '12 |     when: customer.teir == "gold"\n'
        "   |                    ^^^^\n"
        "   = hint: did you mean `customer.tier`?"
    )


def test_color_only_when_asked() -> None:
    assert "\x1b[" not in render_text(UNKNOWN_FIELD)
    assert "\x1b[" in render_text(UNKNOWN_FIELD, color=True)


def test_summary_counts_errors_and_warnings() -> None:
    assert render_summary([], 3) == "3 files checked, no problems"
    warning = Diagnostic(**{**UNKNOWN_FIELD.to_dict(), "severity": Severity.WARNING, "path": ()})  # type: ignore[arg-type]
    assert render_summary([UNKNOWN_FIELD, warning], 1) == "1 file checked: 1 error, 1 warning"


def test_json_has_stable_keys() -> None:
    payload = json.loads(render_json([UNKNOWN_FIELD], files=["rules/vip.yaml"]))
    assert payload["errors"] == 1 and payload["warnings"] == 0
    assert payload["diagnostics"][0] == {
        "code": "RE402",
        "severity": "error",
        "message": "unknown field `teir` on `customer`",
        "file": "rules/vip.yaml",
        "line": 12,
        "column": 20,
        "end_line": 12,
        "end_column": 24,
        "snippet": '    when: customer.teir == "gold"',
        "hint": "did you mean `customer.tier`?",
        "path": ["earning", 0, "when"],
    }


def test_github_annotation_escapes_properties() -> None:
    assert render_github(UNKNOWN_FIELD) == (
        "::error file=rules/vip.yaml,line=12,col=20,endLine=12,endColumn=24,title=RE402::"
        "unknown field `teir` on `customer` (hint: did you mean `customer.tier`?)"
    )


def test_sarif_names_each_code_as_a_rule() -> None:
    sarif = json.loads(render_sarif([UNKNOWN_FIELD], version="0.1.0"))
    run = sarif["runs"][0]
    assert sarif["version"] == "2.1.0"
    assert run["tool"]["driver"]["rules"][0]["id"] == "RE402"
    result = run["results"][0]
    assert result["ruleId"] == "RE402" and result["level"] == "error"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 12, "startColumn": 20, "endLine": 12, "endColumn": 24}


def _artifact(diagnostic: Diagnostic) -> Any:
    sarif = json.loads(render_sarif([diagnostic], version="0.1.0"))
    return sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]


def test_sarif_relative_paths_are_relative_uris_against_the_source_root() -> None:
    assert _artifact(UNKNOWN_FIELD) == {"uri": "rules/vip.yaml", "uriBaseId": "%SRCROOT%"}
    spaced = dataclasses.replace(UNKNOWN_FIELD, file="my rules/vip 100%.yaml")
    assert _artifact(spaced) == {"uri": "my%20rules/vip%20100%25.yaml", "uriBaseId": "%SRCROOT%"}


def test_sarif_absolute_paths_are_file_uris() -> None:
    absolute = dataclasses.replace(UNKNOWN_FIELD, file="/home/ci/my rules/vip.yaml")
    assert _artifact(absolute) == {"uri": "file:///home/ci/my%20rules/vip.yaml"}
    windows = dataclasses.replace(UNKNOWN_FIELD, file="C:\\ci\\rules\\vip.yaml")
    assert _artifact(windows) == {"uri": "file:///C:/ci/rules/vip.yaml"}
