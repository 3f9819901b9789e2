"""Diagnostics for people (ruff-style caret frames) and for tools (JSON, GitHub annotations).

`render_text` is a pure function of the diagnostic: the snippet it draws comes from the
diagnostic itself, so output can be produced without the file at hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from ruleengine.diagnostics.diagnostic import Diagnostic, Severity

_RESET = "\x1b[0m"
_STYLE = {
    "error": "\x1b[1;31m",
    "warning": "\x1b[1;33m",
    "note": "\x1b[1;36m",
    "gutter": "\x1b[34m",
    "bold": "\x1b[1m",
    "hint": "\x1b[36m",
}


def _paint(text: str, style: str, color: bool) -> str:
    return f"{_STYLE[style]}{text}{_RESET}" if color and text else text


def caret_line(line: str, start_column: int, end_column: int | None) -> str:
    """Spaces up to `start_column` and carets to `end_column` (exclusive), at least one caret.

    Tabs before the start are kept as tabs, so the carets line up under the source in a
    terminal. `end_column` None means "to the end of the line".
    """
    prefix = "".join(ch if ch == "\t" else " " for ch in line[: start_column - 1])
    end = len(line) + 1 if end_column is None else end_column
    width = max(1, end - start_column)
    return prefix + "^" * width


def render_text(diagnostic: Diagnostic, *, color: bool = False) -> str:
    """One diagnostic as a caret frame:

    ```
    rules.yaml:12:19: error[RE402] unknown field `teir` on `customer`
       |
    12 |     when: customer.teir == "gold"
       |                    ^^^^
       = hint: did you mean `customer.tier`?
    ```
    """
    d = diagnostic
    severity = d.severity.value
    header = (
        f"{_paint(f'{d.file}:{d.line}:{d.column}:', 'bold', color)} "
        f"{_paint(f'{severity}[{d.code}]', severity, color)} {d.message}"
    )
    lines = [header]
    snippet_lines = d.snippet.split("\n") if d.snippet else []
    if snippet_lines and any(s.strip() for s in snippet_lines):
        width = len(str(d.line + len(snippet_lines) - 1))
        pad = " " * width
        lines.append(_paint(f"{pad} |", "gutter", color))
        shown = snippet_lines[:3]
        for offset, text in enumerate(shown):
            number = d.line + offset
            lines.append(_paint(f"{number:>{width}} |", "gutter", color) + f" {text}")
            if offset == 0:
                end = d.end_column if d.end_line == d.line else None
                column, shift = d.column, d.snippet_column - 1
                if shift:  # a long line cut to a window: columns count from its start
                    column -= shift
                if end is not None:  # the carets end with the text shown (a window's too)
                    end = min(end - shift, len(text) + 1)
                carets = caret_line(text, column, end)
                lines.append(
                    _paint(f"{pad} |", "gutter", color) + " " + _paint(carets, severity, color)
                )
        if len(snippet_lines) > len(shown):
            lines.append(_paint(f"{pad} |", "gutter", color) + " ...")
        if d.hint:
            lines.append(f"{pad} = " + _paint(f"hint: {d.hint}", "hint", color))
    elif d.hint:
        lines.append("  = " + _paint(f"hint: {d.hint}", "hint", color))
    return "\n".join(lines)


def count_by_severity(diagnostics: Iterable[Diagnostic]) -> dict[Severity, int]:
    """How many diagnostics of each severity, every severity present as a key."""
    counts = dict.fromkeys(Severity, 0)
    for d in diagnostics:
        counts[d.severity] += 1
    return counts


def render_summary(diagnostics: Sequence[Diagnostic], files: int, *, color: bool = False) -> str:
    counts = count_by_severity(diagnostics)
    noun = "file" if files == 1 else "files"
    if not diagnostics:
        return _paint(f"{files} {noun} checked, no problems", "bold", color)
    parts = [
        _paint(f"{count} {severity.value}{'s' if count != 1 else ''}", severity.value, color)
        for severity, count in counts.items()
        if count
    ]
    return f"{files} {noun} checked: " + ", ".join(parts)


def render_json(diagnostics: Iterable[Diagnostic], *, files: Sequence[str] = ()) -> str:
    """`{"files", "diagnostics", "errors", "warnings", "notes"}` with stable keys."""
    items = list(diagnostics)
    counts = count_by_severity(items)
    payload = {
        "files": list(files),
        "diagnostics": [d.to_dict() for d in items],
        "errors": counts[Severity.ERROR],
        "warnings": counts[Severity.WARNING],
        "notes": counts[Severity.NOTE],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def render_github(diagnostic: Diagnostic) -> str:
    """A GitHub Actions workflow command, shown inline on the pull request's diff."""
    d = diagnostic
    level = _GITHUB_LEVEL[d.severity]
    message = d.message + (f" (hint: {d.hint})" if d.hint else "")
    properties = ",".join(
        [
            f"file={_escape_property(d.file)}",
            f"line={d.line}",
            f"col={d.column}",
            f"endLine={d.end_line}",
            f"endColumn={d.end_column}",
            f"title={_escape_property(d.code)}",
        ]
    )
    return f"::{level} {properties}::{_escape_data(message)}"


def artifact_location(file: str) -> dict[str, str]:
    """A SARIF `artifactLocation` for a path as the user gave it: an absolute path (POSIX or
    Windows) becomes a `file://` URI, as SARIF requires of URIs without a base; a relative one
    stays relative, percent-encoded, against `%SRCROOT%` (the folder the tool ran in, which
    code scanning takes to be the repository root)."""
    from pathlib import PurePosixPath, PureWindowsPath
    from urllib.parse import quote

    for flavour in (PurePosixPath, PureWindowsPath):
        path = flavour(file)
        if path.is_absolute():
            return {"uri": path.as_uri()}
    return {"uri": quote(file.replace("\\", "/")), "uriBaseId": "%SRCROOT%"}


def render_sarif(diagnostics: Iterable[Diagnostic], *, version: str) -> str:
    """SARIF 2.1.0, for code scanning: each code is a rule, each diagnostic a result."""
    from ruleengine.diagnostics.codes import CODES

    items = list(diagnostics)
    used = sorted({d.code for d in items})
    rules = [
        {
            "id": code,
            "name": CODES[code].slug,
            "shortDescription": {"text": CODES[code].title},
            "fullDescription": {"text": CODES[code].what},
            "help": {"text": CODES[code].fix},
            "defaultConfiguration": {"level": CODES[code].severity},
        }
        for code in used
    ]
    results = [
        {
            "ruleId": d.code,
            "ruleIndex": used.index(d.code),
            "level": d.severity.value,  # SARIF levels: error, warning, note
            "message": {"text": d.message + (f" (hint: {d.hint})" if d.hint else "")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": artifact_location(d.file),
                        "region": {
                            "startLine": d.line,
                            "startColumn": d.column,
                            "endLine": d.end_line,
                            "endColumn": max(d.end_column, d.column + 1)
                            if d.end_line == d.line
                            else d.end_column,
                        },
                    }
                }
            ],
        }
        for d in items
    ]
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ruleengine",
                        "version": version,
                        "informationUri": "https://github.com/ruleengine/ruleengine",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False)
