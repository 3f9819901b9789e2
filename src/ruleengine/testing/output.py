"""Rendering a run: failed cases with their diffs, broken files, the coverage table, the summary
line and the JSON report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ruleengine.testing.coverage import RulesetCoverage, total_percent
from ruleengine.testing.loader import LoadedTestFile
from ruleengine.testing.runner import CaseResult
from ruleengine.testing.suite import RunReport

_RESET = "\x1b[0m"
_COLORS = {"red": "\x1b[31m", "green": "\x1b[32m", "bold": "\x1b[1m", "cyan": "\x1b[36m"}


def _paint(text: str, color: str, enabled: bool) -> str:
    return f"{_COLORS[color]}{text}{_RESET}" if enabled and text else text


def render_case_text(result: CaseResult, *, color: bool = False) -> str:
    """A failed or errored case: a header with its place and name, then a diff per differing
    part, or the diagnostics that kept it from running."""
    from ruleengine.diagnostics.render import render_text

    label = "FAIL" if result.status == "failed" else "ERROR"
    header = _paint(f"{label} {result.file}:{result.line}: {result.name}", "bold", color)
    lines = [header]
    for mismatch in result.mismatches:
        lines.append(f"  {mismatch.part} differ (- expected, + actual):")
        for line in mismatch.diff():
            if line.startswith(("---", "+++")):
                painted = _paint(line, "bold", color)
            elif line.startswith("-"):
                painted = _paint(line, "red", color)
            elif line.startswith("+"):
                painted = _paint(line, "green", color)
            elif line.startswith("@@"):
                painted = _paint(line, "cyan", color)
            else:
                painted = line
            lines.append(f"    {painted}")
    lines += [render_text(d, color=color) + "\n" for d in result.diagnostics]
    return "\n".join(lines).rstrip("\n")


def render_file_errors_text(test_file: LoadedTestFile, *, color: bool = False) -> str:
    from ruleengine.diagnostics.render import render_text

    lines = [_paint(f"ERROR {test_file.display}: the test file cannot run", "bold", color)]
    lines += [render_text(d, color=color) + "\n" for d in test_file.diagnostics if d.is_error]
    return "\n".join(lines).rstrip("\n")


def render_coverage_text(coverage: Sequence[RulesetCoverage]) -> str:
    """A table in the style of `opa test --coverage`, then the items no case exercised."""
    if not coverage:
        return "Coverage: no rule file was tested"
    header = ("RULE FILE", "RULES", "STEPS", "BRANCHES", "TOTAL")
    rows: list[tuple[str, ...]] = []

    def fraction(group: dict[str, bool]) -> str:
        return f"{sum(1 for ok in group.values() if ok)}/{len(group)}"

    for item in coverage:
        rows.append(
            (
                item.file,
                fraction(item.rules),
                fraction(item.steps),
                fraction(item.branches),
                f"{item.percent:.1f}%",
            )
        )
    every: dict[str, dict[str, bool]] = {"rules": {}, "steps": {}, "branches": {}}
    for index, item in enumerate(coverage):
        for kind in every:
            every[kind].update({f"{index}:{k}": v for k, v in getattr(item, kind).items()})
    rows.append(
        (
            "total",
            fraction(every["rules"]),
            fraction(every["steps"]),
            fraction(every["branches"]),
            f"{total_percent(coverage):.1f}%",
        )
    )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["Coverage:"]
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0])] + [row[i].rjust(widths[i]) for i in range(1, 5)]
        lines.append("  " + "  ".join(cells).rstrip())
    missing = [(item.file, label) for item in coverage for label in item.uncovered()]
    if missing:
        lines += ["", "Not covered:"]
        lines += [f"  {file}: {label}" for file, label in missing]
    return "\n".join(lines)


def render_summary(run: RunReport) -> str:
    """`12 passed, 1 failed`: the last line of the text output, in this exact form."""
    return f"{run.passed} passed, {run.failed} failed"


def run_to_json(run: RunReport, *, fail_under: float | None = None) -> dict[str, Any]:
    """The JSON report: stable keys for tools (CI annotations, dashboards)."""
    data: dict[str, Any] = {
        "files": [f.display for f in run.files],
        "cases": [r.to_json() for r in run.results],
        "file_errors": [
            {"file": f.display, "diagnostics": [d.to_dict() for d in f.diagnostics if d.is_error]}
            for f in run.files
            if not f.ok
        ],
        "passed": run.passed,
        "failed": run.failed,
    }
    if run.coverage is not None:
        data["coverage"] = {
            "files": [c.to_json() for c in run.coverage],
            "percent": round(total_percent(run.coverage), 1),
            "fail_under": fail_under,
        }
    return data
